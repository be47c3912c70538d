"""SQLModel tables. Importing this package registers every table on SQLModel.metadata."""

from cc_tui.models.agent import Agent, Department
from cc_tui.models.calendar import Calendar, CalendarDay, CalendarHours
from cc_tui.models.call import PhoneCall
from cc_tui.models.change import Change
from cc_tui.models.codes import Code, EscalationAction, Priority, WorkOrderTemplate
from cc_tui.models.customer import Contact, Customer
from cc_tui.models.event import Event, EventType, TimeEntry
from cc_tui.models.incident import Incident, IncidentPause
from cc_tui.models.kb import KbArticle, KbArticleCode, KbArticleVersion, KbSearch
from cc_tui.models.mail import MailAttachment, Mailbox, MailCursor, MailMessage
from cc_tui.models.notify import Notification, NotifyPolicy, NotifySuppression
from cc_tui.models.routing import RoutingRule
from cc_tui.models.unit import ServiceContract, SubcontractAgreement, Unit
from cc_tui.models.workorder import IncidentWorkOrder, WorkOrder, WorkOrderEvent

__all__ = [
    "Agent",
    "Calendar",
    "CalendarDay",
    "CalendarHours",
    "Change",
    "Code",
    "Contact",
    "Customer",
    "Department",
    "EscalationAction",
    "Event",
    "EventType",
    "Incident",
    "IncidentPause",
    "IncidentWorkOrder",
    "KbArticle",
    "KbArticleCode",
    "KbArticleVersion",
    "KbSearch",
    "MailAttachment",
    "MailCursor",
    "MailMessage",
    "Mailbox",
    "Notification",
    "NotifyPolicy",
    "NotifySuppression",
    "PhoneCall",
    "Priority",
    "RoutingRule",
    "ServiceContract",
    "SubcontractAgreement",
    "TimeEntry",
    "Unit",
    "WorkOrder",
    "WorkOrderEvent",
    "WorkOrderTemplate",
]
