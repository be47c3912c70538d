"""The fixed vocabularies of the domain. Stored as plain strings (portable, readable)."""

from __future__ import annotations

from enum import StrEnum

# The status vocabulary lives in a leaf the console can import; re-exported here.
from cc_tui.statuses import (
    CONTACT_ONLY_STATUSES as CONTACT_ONLY_STATUSES,
)
from cc_tui.statuses import (
    FROZEN_STATUSES as FROZEN_STATUSES,
)
from cc_tui.statuses import (
    OPEN_STATUSES as OPEN_STATUSES,
)
from cc_tui.statuses import (
    RESOLVED_STATUSES as RESOLVED_STATUSES,
)
from cc_tui.statuses import (
    RUNNING_STATUSES as RUNNING_STATUSES,
)
from cc_tui.statuses import (
    STOPPED_STATUSES as STOPPED_STATUSES,
)
from cc_tui.statuses import (
    Status as Status,
)
from cc_tui.statuses import (
    status_sql as status_sql,
)


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class Channel(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    FAX = "fax"
    WEB = "web"
    WALK_IN = "walk-in"
    CTI = "cti"


class RequestType(StrEnum):
    INFORMATION = "information"
    ACTION = "action"
    COMMENT = "comment"


class Escalation(StrEnum):
    ON_TIME = "on_time"
    FOLLOW_UP = "follow_up"
    WARNING = "warning"
    LATE = "late"


ESCALATION_RANK = {
    Escalation.ON_TIME: 0,
    Escalation.FOLLOW_UP: 1,
    Escalation.WARNING: 2,
    Escalation.LATE: 3,
}


class BlockLevel(StrEnum):
    NONE = "none"
    WARN = "warn"
    BLOCK = "block"


class CodeKind(StrEnum):
    REASON = "reason"  # general / specific
    RESOLUTION = "resolution"  # general / specific
    REQUEST_TYPE = "request-type"  # flat dictionary
    PROVIDER = "provider"  # under a department
    CATEGORY = "category"  # service category, under a provider
    PROBLEM = "problem"  # service problem code, under a category


class CoverageBasis(StrEnum):
    BUSINESS = "business"
    CONTRACT = "contract"
    ALL = "all"


class EscalationActionKind(StrEnum):
    RAISE_PRIORITY = "raise_priority"
    REASSIGN = "reassign"
    NOTIFY = "notify"


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    INTERNAL = "internal"


class EventKind(StrEnum):
    USER = "user"
    SYSTEM = "system"


class SystemEvent(StrEnum):
    """Event types written by the services; fixed, never editable."""

    CONTACT = "Contact"  # a contact was opened / abandoned
    STATUS = "StatusChange"
    ASSIGNMENT = "Assignment"
    PRIORITY = "PriorityChange"
    FIELD = "FieldChange"
    LINK = "Link"
    KB_SEARCH = "KbSearch"
    ESCALATION = "Escalation"
    ROUTING = "Routing"
    WORK_ORDER = "WorkOrder"
    NOTIFICATION = "Notification"
    IMPORTED = "Imported"  # brought over from another service desk (`cc-tui import`)


class WorkOrderKind(StrEnum):
    SERVICE = "service"
    SUBCONTRACT = "subcontract"
    REPAIR = "repair"


class RepairKind(StrEnum):
    DEPOT_REPAIR = "depot_repair"
    ITEM_DELIVERY = "item_delivery"
    ITEM_RECEIPT = "item_receipt"
    ITEM_LOAN = "item_loan"


class WorkOrderStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class ArticleKind(StrEnum):
    SCRIPT = "script"
    PHONE = "phone"
    URL = "url"
    LINK = "link"


class ArticleStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    RETIRED = "retired"


class MailStatus(StrEnum):
    NEW = "new"
    PROCESSED = "processed"
    FAILED = "failed"


class NotificationChannel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    ALERT = "alert"  # shown in an agent's console


class NotificationStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"
    READ = "read"
