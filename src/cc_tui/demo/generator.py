"""The demo data set (`cc-tui demo`): a coherent service organisation and its incidents.

Four layers, each idempotent:

1. **Master data** (departments, calendars, agents, codes, priorities, routing rules,
   work-order templates, subcontracts, KB articles) is keyed by its natural key (code,
   login, slug, ...): what exists is left alone, what is missing is added. The login that
   runs the demo keeps its role.
2. **The base set**: a few hundred customers (numbers K-10001...) with contacts, units and
   contracts, and about 400 incidents of the last four months in every status, with their
   timelines, pauses, work orders, time entries and KB searches. Customers are added by
   number; the incidents once, marked by the demo's own change-feed row.
3. **Recent activity** (`activity.py`): the calls, e-mail and customer notifications of
   the hours before the load, made by the services themselves (the telephone bridge's
   call events, the mail reader's filing, the notification sender), once, marked by its
   own change-feed row, before the scale layer so that its totals hold.
4. **Scale**: `incidents=N` and `customers=M` are *totals*: the load tops the database up
   to at least N incidents and M customers and does nothing if it has them already, so
   running it twice does not double anything. Generated incidents spread over three years,
   about 5 % of them still open, each with a full timeline.

Everything random comes from `random.Random` seeded with a fixed number (per customer and
per chunk of incidents), so the same database gets the same data. Times are relative to
the moment of the load. Rows of the other layers are written by `demo/bulk.py` (explicit
ids, executemany or COPY); the change feed gets one row per layer that added something.
"""

from __future__ import annotations

import bisect
import functools
import json
import multiprocessing
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlmodel import Session

from cc_tui import clock
from cc_tui.db.engine import Database
from cc_tui.demo import data as D
from cc_tui.demo.bulk import (
    SUSPEND_THRESHOLD,
    BulkLoader,
    TimestampFormat,
    analyze,
    database_errors,
    epoch,
)
from cc_tui.models import (
    Agent,
    Calendar,
    CalendarDay,
    CalendarHours,
    Code,
    Department,
    EscalationAction,
    KbArticle,
    KbArticleCode,
    KbArticleVersion,
    Priority,
    RoutingRule,
    SubcontractAgreement,
    WorkOrderTemplate,
)
from cc_tui.models.enums import RUNNING_STATUSES
from cc_tui.normalize import email_key, fold, name_terms, normalize_phone
from cc_tui.services.context import resolve_actor
from cc_tui.services.incidents.event_log import seed_event_types

SEED = 20_240_917
BASE_CUSTOMERS = 300
BASE_INCIDENTS = 400
BASE_DAYS = 120
SCALE_YEARS = 3
CHUNK = 25_000
CUSTOMER_OFFSET = 10_000  # customer number K-(10000 + index)
MARKER_ENTITY = "demo"
MARKER_BASE = "loaded"

Progress = Callable[[str], None]

# Tables the loader fills, in an order that satisfies the foreign keys.
SCALE_TABLES = (
    "work_order",
    "incident",
    "incident_work_order",
    "incident_pause",
    "event",
    "time_entry",
    "kb_search",
)
CUSTOMER_TABLES = ("customer", "service_contract", "contact", "unit", "customer_token")
SUMMARY_TABLES = (
    "department",
    "agent",
    "calendar",
    "code",
    "priority",
    "routing_rule",
    "work_order_template",
    "subcontract_agreement",
    "customer",
    "contact",
    "unit",
    "service_contract",
    "kb_article",
    "kb_article_version",
    "incident",
    "event",
    "incident_pause",
    "work_order",
    "incident_work_order",
    "time_entry",
    "kb_search",
    "phone_call",
    "mailbox",
    "mail_message",
    "mail_attachment",
    "notification",
)


@dataclass(frozen=True)
class DemoSummary:
    """What the database holds after the load, and what this run added."""

    database: str
    seconds: float
    counts: dict[str, int]
    added: dict[str, int]
    incidents_target: int | None
    customers_target: int | None
    # Incidents the closing escalation sweep moved up (clocks that ran out during the load).
    escalated: int = 0


def load_demo(
    db: Database,
    *,
    login: str,
    incidents: int | None = None,
    customers: int | None = None,
    seed: int = SEED,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> DemoSummary:
    """Load the demo data set; with `incidents`/`customers`, top up to those totals."""
    from cc_tui.errors import UsageError

    for name, value in (("--incidents", incidents), ("--customers", customers)):
        if value is not None and value < 0:
            raise UsageError(f"{name} must be 0 or more, not {value}")
    say = progress or (lambda _message: None)
    started = time.monotonic()
    moment = (now or clock.now()).astimezone(UTC).replace(second=0, microsecond=0)

    with db.session() as session:
        actor = resolve_actor(session, login)
        actor.require_admin("load demo data")
        before = _counts(session)
        _load_master(session, moment)
    say("master data ready")

    with database_errors(db):
        _bulk_layers(db, moment, seed, incidents, customers, say, login)
    escalated = _sweep(db, moment if now is not None else None, say)

    with db.session(write=False) as session:
        after = _counts(session)
    return DemoSummary(
        database=db.describe(),
        seconds=round(time.monotonic() - started, 2),
        counts=after,
        added={k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)},
        incidents_target=incidents,
        customers_target=customers,
        escalated=escalated,
    )


def _sweep(db: Database, at: datetime | None, say: Progress) -> int:
    """One escalation sweep at the end of the load (as of `at`, default now).

    The generated escalation states hold as of the load's start; clocks that ran out while
    it wrote (minutes, for a large load) would show "on time" on every board until the
    first sweep. A second run of the demo adds nothing but what any sweep would.
    """
    from cc_tui.services.sla.escalation import escalate_all

    say("escalation sweep ...")
    return escalate_all(db, at=at).changed


def _bulk_layers(db, moment, seed, incidents, customers, say, login: str) -> None:
    """The base set, the recent activity (through the services, before any scale layer so
    that the totals asked for hold), then the scale layers, each in its own transaction."""
    from cc_tui.demo.activity import load_activity

    world = World(db, moment, seed)
    with BulkLoader(db, progress=say) as loader:
        world.read(loader)
        added_customers = _add_customers(loader, world, BASE_CUSTOMERS, base=True)
        if not loader.scalar(
            f"SELECT COUNT(*) FROM change WHERE entity = {loader.param} AND action = "
            f"{loader.param}",
            (MARKER_ENTITY, MARKER_BASE),
        ):
            world.read_customers(loader)
            _add_base_incidents(loader, world)
            _mark(loader, MARKER_BASE, BASE_INCIDENTS)
        elif added_customers:
            _mark(loader, "customers", added_customers)
    say("base data set ready")
    load_activity(db, login=login, moment=moment, seed=seed, say=say)

    bulk_done = False
    if customers:
        with BulkLoader(db, progress=say) as loader:
            have = loader.scalar("SELECT COUNT(*) FROM customer")
            if customers > have:
                world.read(loader)
                added = _add_customers(loader, world, customers - have, base=False)
                _mark(loader, "customers", added)
                bulk_done = True
    if incidents:
        with BulkLoader(db, progress=say) as loader:
            have = loader.scalar("SELECT COUNT(*) FROM incident")
            if incidents > have:
                world.read(loader)
                world.read_customers(loader)
                _add_scale_incidents(loader, world, incidents - have, say)
                _mark(loader, "incidents", incidents - have)
                bulk_done = True
    if bulk_done:
        say("updating planner statistics (ANALYZE) ...")
        analyze(db, (*CUSTOMER_TABLES, *SCALE_TABLES))


def _counts(session: Session) -> dict[str, int]:
    from sqlalchemy import text

    return {
        name: session.execute(text(f'SELECT COUNT(*) FROM "{name}"')).scalar_one()
        for name in SUMMARY_TABLES
    }


def _mark(loader: BulkLoader, action: str, count: int) -> None:
    """One change-feed row for the whole load (open consoles refresh once; on PostgreSQL
    the trigger on `change` wakes them)."""
    p = loader.param
    loader.execute(
        f"INSERT INTO change (at, entity, entity_id, action) VALUES ({p}, {p}, {p}, {p})",
        (
            clock.now() if not loader.sqlite else clock.now().strftime("%Y-%m-%d %H:%M:%S.%f"),
            MARKER_ENTITY,
            count,
            action,
        ),
    )


# --- master data ---------------------------------------------------------------------------


def _load_master(session: Session, now: datetime) -> None:
    """Add the organisation's reference data that is missing (by natural key)."""
    seed_event_types(session)

    def existing(column) -> set:
        return set(session.scalars(select(column)).all())

    # Calendars: office hours with Berlin holidays, extended contract hours, 24/7.
    calendars = {c.name: c for c in session.scalars(select(Calendar)).all()}
    specs = (
        (
            D.CALENDAR_BUSINESS,
            "DE-BE",
            [(d, 480, 720) for d in range(5)] + [(d, 780, 1020) for d in range(5)],
        ),
        (D.CALENDAR_EXTENDED, "DE-BE", [(d, 420, 1200) for d in range(6)]),
        (D.CALENDAR_ALWAYS, None, [(d, 0, 1440) for d in range(7)]),
    )
    for name, region, hours in specs:
        if name in calendars:
            continue
        cal = Calendar(name=name, tz="Europe/Berlin", holiday_region=region)
        session.add(cal)
        session.flush()
        for weekday, start, end in hours:
            session.add(
                CalendarHours(
                    calendar_id=cal.id, weekday=weekday, start_minute=start, end_minute=end
                )
            )
        if region:
            for day, label, day_hours in _holidays(now):
                session.add(CalendarDay(calendar_id=cal.id, day=day, name=label, hours=day_hours))
        calendars[name] = cal
    session.flush()

    departments = {d.code: d for d in session.scalars(select(Department)).all()}
    for code, name, calendar, on_site in D.DEPARTMENTS:
        if code not in departments:
            dept = Department(
                code=code, name=name, calendar_id=calendars[calendar].id, on_site=on_site
            )
            session.add(dept)
            departments[code] = dept
    session.flush()

    logins = existing(Agent.login)
    if SYSTEM_LOGIN not in logins:
        # Authors what the clocks do by themselves (escalations, automatic closes).
        session.add(
            Agent(login=SYSTEM_LOGIN, name="cc-tui (automatic)", role="agent", active=False)
        )
        logins.add(SYSTEM_LOGIN)
    for login, name, role, dept, skills, region in D.AGENTS:
        if login in logins:
            continue  # also the invoking login: its role is never changed
        first, last = login.split(".")
        session.add(
            Agent(
                login=login,
                name=name,
                role=role,
                department_id=departments[dept].id if dept else None,
                skills=skills,
                region=region,
                email=f"{first}.{last}@{D.COMPANY_DOMAIN}",
                phone=f"+49 30 555 01{len(logins) % 90 + 10:02d}",
            )
        )
        logins.add(login)
    session.flush()
    agents = {a.login: a for a in session.scalars(select(Agent)).all()}

    templates = {t.code: t for t in session.scalars(select(WorkOrderTemplate)).all()}
    for code, name, kind, repair, description, minutes, billable in D.WORK_ORDER_TEMPLATES:
        if code not in templates:
            templates[code] = WorkOrderTemplate(
                code=code,
                name=name,
                kind=kind,
                repair_kind=repair,
                description=description,
                estimated_minutes=minutes,
                billable=billable,
                tasks=list(D.WORK_ORDER_TASKS.get(code, ())) or None,
            )
            session.add(templates[code])
    session.flush()

    codes = {(c.kind, c.path): c for c in session.scalars(select(Code)).all()}

    def code(kind: str, path: str, name: str, parent: Code | None = None, **extra) -> Code:
        found = codes.get((kind, path))
        if found is None:
            found = Code(
                kind=kind,
                code=path.rsplit("/", 1)[-1],
                path=path,
                name=name,
                parent_id=parent.id if parent else None,
                **extra,
            )
            session.add(found)
            session.flush()
            codes[(kind, path)] = found
        return found

    for kind, tree in (("reason", D.REASONS), ("resolution", D.RESOLUTIONS)):
        for position, (general, name, specifics) in enumerate(tree):
            parent = code(kind, general, name, position=position)
            for sub_position, (specific, sub_name) in enumerate(specifics):
                code(kind, f"{general}/{specific}", sub_name, parent, position=sub_position)
    for position, (rt, name) in enumerate(D.REQUEST_TYPES):
        code("request-type", rt, name, position=position)
    for dept, prov, prov_name, cat, cat_name, problems in D.SERVICE_TREE:
        dept_id = departments[dept].id
        provider = code("provider", f"{dept}/{prov}", prov_name, department_id=dept_id)
        category = code(
            "category", f"{dept}/{prov}/{cat}", cat_name, provider, department_id=dept_id
        )
        for position, (problem, name, template) in enumerate(problems):
            code(
                "problem",
                f"{dept}/{prov}/{cat}/{problem}",
                name,
                category,
                department_id=dept_id,
                work_order_template_id=templates[template].id if template else None,
                position=position,
            )

    priorities = {p.code: p for p in session.scalars(select(Priority)).all()}
    has_default = any(p.is_default for p in priorities.values())
    for pcode, name, rank, resp, fu, warn, late, resolve, basis, cal, default in D.PRIORITIES:
        if pcode in priorities:
            continue
        priorities[pcode] = Priority(
            code=pcode,
            name=name,
            rank=rank,
            response_minutes=resp,
            follow_up_minutes=fu,
            warning_minutes=warn,
            late_minutes=late,
            resolve_minutes=resolve,
            basis=basis,
            calendar_id=calendars[cal].id if cal else None,
            is_default=default and not has_default,
        )
        session.add(priorities[pcode])
    session.flush()
    if not session.scalars(select(EscalationAction.id).limit(1)).first():
        for position, (pcode, state, action, target_p, target_d) in enumerate(D.ESCALATION_ACTIONS):
            session.add(
                EscalationAction(
                    priority_id=priorities[pcode].id,
                    position=position,
                    at_state=state,
                    action=action,
                    target_priority_id=priorities[target_p].id if target_p else None,
                    target_department_id=departments[target_d].id if target_d else None,
                )
            )

    names = existing(RoutingRule.name)
    top = session.scalar(select(func.coalesce(func.max(RoutingRule.position), 0))) or 0
    for index, rule in enumerate(D.ROUTING_RULES):
        name, unit_type, reason, region, prio, channel, rtype, dept, owner, least, skill = rule
        if name in names:
            continue
        session.add(
            RoutingRule(
                position=top + (index + 1) * 10,
                name=name,
                unit_type=unit_type,
                reason_code_id=codes[("reason", reason)].id if reason else None,
                region=region,
                priority_id=priorities[prio].id if prio else None,
                channel=channel,
                request_type=rtype,
                department_id=departments[dept].id,
                owner_id=agents[owner].id if owner else None,
                least_loaded=least,
                skill=skill,
            )
        )

    subs = existing(SubcontractAgreement.code)
    for scode, company, contact, phone, item, unit_type in D.SUBCONTRACTS:
        if scode not in subs:
            session.add(
                SubcontractAgreement(
                    code=scode,
                    subcontractor=company,
                    contact=contact,
                    phone=phone,
                    item=item,
                    unit_type=unit_type,
                    starts_on=date(now.year - 4, 1, 1),
                    ends_on=date(now.year + 2, 12, 31),
                )
            )
    session.flush()
    _load_kb(session, now, agents, codes)


@functools.cache
def _holidays(now: datetime) -> list[tuple[date, str, str]]:
    """Berlin public holidays for the demo's years, plus half days on 24 and 31 December."""
    import holidays  # only when a calendar is created: importing it takes a second

    years = range(now.year - SCALE_YEARS - 1, now.year + 2)
    found = holidays.country_holidays("DE", subdiv="BE", years=years)
    days = [(day, str(name)[:200], "") for day, name in sorted(found.items())]
    taken = {d for d, _, _ in days}
    for year in years:
        for day, label in (
            (date(year, 12, 24), "Christmas Eve"),
            (date(year, 12, 31), "New Year's Eve"),
        ):
            if day not in taken and day.weekday() < 5:
                days.append((day, label, "08:00-12:00"))
    return sorted(days)


def _load_kb(session: Session, now: datetime, agents: dict, codes: dict) -> None:
    slugs = set(session.scalars(select(KbArticle.slug)).all())
    authors = [
        agents[a].id
        for a in (
            "katrin.vogel",
            "jonas.becker",
            "nina.brandt",
            "thomas.koenig",
            "birgit.schroeder",
        )
    ]
    for index, spec in enumerate(D.KB_ARTICLES):
        if spec["slug"] in slugs:
            continue
        author = authors[index % len(authors)]
        earlier = spec.get("versions", ())
        created = now - timedelta(days=400 - index * 7)
        article = KbArticle(
            slug=spec["slug"],
            kind=spec["kind"],
            title=spec["title"],
            body=spec["body"],
            url=spec.get("url"),
            link_slug=spec.get("link"),
            tags=spec["tags"],
            status=spec["status"],
            review_on=(now + timedelta(days=60 + index * 11)).date(),
            author_id=author,
            version=len(earlier) + 1,
            created_at=created,
            updated_at=created + timedelta(days=30 * len(earlier)),
        )
        session.add(article)
        session.flush()
        # Every version is kept, the current one included: an edit adds a row.
        for number, (title, body) in enumerate((*earlier, (spec["title"], spec["body"])), 1):
            session.add(
                KbArticleVersion(
                    article_id=article.id,
                    version=number,
                    kind=spec["kind"],
                    title=title,
                    body=body,
                    url=spec.get("url"),
                    link_slug=spec.get("link"),
                    tags=spec["tags"],
                    status=spec["status"] if number > len(earlier) else "published",
                    edited_by_id=author,
                    edited_at=created + timedelta(days=30 * (number - 1)),
                )
            )
        for ref in spec["codes"]:
            kind, path = ref.split(":", 1)
            session.add(KbArticleCode(article_id=article.id, code_id=codes[(kind, path)].id))
    session.flush()


# --- the world the generators draw from -----------------------------------------------------


class WorkClock:
    """Working time of one calendar, by the hour: add working minutes, count them.

    The demo calendars change state on full hours only, so a cumulative count of working
    seconds at the start of every hour is exact; deadlines fall at the end of an interval
    when they reach it exactly (17:00, not 08:00 the next day).
    """

    def __init__(self, t0: int, t1: int, tz: str, hours: dict, days: dict) -> None:
        zone = ZoneInfo(tz)
        self.t0 = t0 - t0 % 3600
        count = (t1 - self.t0) // 3600 + 2
        self.cum = [0] * (count + 1)
        self.work = [False] * count
        total = 0
        offsets: dict[int, tuple[int, int]] = {}
        for i in range(count):
            t = self.t0 + i * 3600
            # The zone's offset, looked up twice a day (exactly only where it changes).
            half = t // 43200
            known = offsets.get(half)
            if known is None:
                start = int(datetime.fromtimestamp(half * 43200, zone).utcoffset().total_seconds())
                end = int(
                    datetime.fromtimestamp(half * 43200 + 43199, zone).utcoffset().total_seconds()
                )
                known = offsets[half] = (start, end)
            offset = known[0]
            if known[0] != known[1]:
                offset = int(datetime.fromtimestamp(t, zone).utcoffset().total_seconds())
            local = t + offset
            minute = local // 60 % 1440
            day = date.fromordinal(719163 + local // 86400)  # 719163: 1970-01-01
            spans = days[day] if day in days else hours.get(day.weekday(), ())
            working = any(s <= minute < e for s, e in spans)
            self.work[i] = working
            self.cum[i] = total
            if working:
                total += 3600
        self.cum[count] = total
        self.count = count

    def _worked(self, t: int) -> int:
        i = (t - self.t0) // 3600
        if i < 0:
            return 0
        if i >= self.count:
            return self.cum[self.count]
        return self.cum[i] + (t - self.t0 - i * 3600 if self.work[i] else 0)

    def add(self, t: int, minutes: int) -> int:
        if minutes <= 0:
            return t
        target = self._worked(t) + minutes * 60
        j = bisect.bisect_left(self.cum, target)
        if j > self.count:
            return t + minutes * 180  # past the table: a rough working-day ratio
        return self.t0 + (j - 1) * 3600 + (target - self.cum[j - 1])

    def between(self, a: int, b: int) -> int:
        return max(0, (self._worked(b) - self._worked(a)) // 60)


@dataclass
class CustomerRef:
    id: int
    country: str
    region: str | None
    block: str
    priority_id: int | None
    contacts: list = field(default_factory=list)  # (id, name, phone, e164, email)
    units: list = field(default_factory=list)  # (id, serial, item, type, contract, warranty)


class World:
    """Ids and rules read back from the database, shared by the generators."""

    def __init__(self, db: Database, now: datetime, seed: int) -> None:
        self.db = db
        self.now = now
        self.now_s = epoch(now)
        self.seed = seed
        self.window_start = now - timedelta(days=365 * SCALE_YEARS + 2)
        self.fmt = TimestampFormat(
            self.window_start - timedelta(days=800), now + timedelta(days=400)
        )
        self.customers: list[CustomerRef] = []
        self.curve: tuple = ()
        self._read = False

    def read(self, loader: BulkLoader) -> None:
        if self._read:
            return
        q = loader.execute
        self.event_types = dict(q("SELECT code, id FROM event_type"))
        self.departments = {
            code: (i, on_site, cal)
            for i, code, on_site, cal in q("SELECT id, code, on_site, calendar_id FROM department")
        }
        self.dept_code = {i: code for code, (i, _, _) in self.departments.items()}
        self.agents = {}
        self.agent_login = {}
        self.by_dept: dict[int, list] = {}
        for i, login, role, dept, skills, region, active in q(
            "SELECT id, login, role, department_id, skills, region, active FROM agent"
        ):
            if not active:
                continue
            self.agents[login] = (i, role, dept, set((skills or "").split(",")), region)
            self.agent_login[i] = login
            if dept is not None:
                self.by_dept.setdefault(dept, []).append(
                    (i, role, set((skills or "").split(",")), region)
                )
        admin = [a[0] for a in self.agents.values() if a[1] == "admin"]
        self.system_author = (
            self.agents["helga.sommer"][0] if "helga.sommer" in self.agents else admin[0]
        )
        self.codes = {(k, p): i for i, k, p in q("SELECT id, kind, path FROM code")}
        self.code_department = {
            i: d for i, d in q("SELECT id, department_id FROM code WHERE kind = 'problem'")
        }
        self.problem_template = {
            i: t
            for i, t in q(
                "SELECT id, work_order_template_id FROM code WHERE kind = 'problem' "
                "AND work_order_template_id IS NOT NULL"
            )
        }
        self.templates = {
            i: (code, name, kind, repair, billable, minutes)
            for i, code, name, kind, repair, billable, minutes in q(
                "SELECT id, code, name, kind, repair_kind, billable, estimated_minutes "
                "FROM work_order_template"
            )
        }
        self.priorities = {}
        self.default_priority = None
        for i, pcode, rank, resp, fu, warn, late, resolve, basis, cal, default in q(
            "SELECT id, code, rank, response_minutes, follow_up_minutes, warning_minutes, "
            "late_minutes, resolve_minutes, basis, calendar_id, is_default FROM priority "
            "ORDER BY rank, id"
        ):
            self.priorities[pcode] = (i, rank, resp or 0, fu, warn, late, resolve, basis, cal)
            if default:
                self.default_priority = self.priorities[pcode]
        self.priority_by_id = {v[0]: v for v in self.priorities.values()}
        if self.default_priority is None:
            self.default_priority = self.priorities.get("P3") or next(
                iter(self.priorities.values())
            )
        self.rules = list(
            q(
                "SELECT id, position, name, unit_type, reason_code_id, region, priority_id, "
                "channel, request_type, department_id, owner_id, least_loaded, skill "
                "FROM routing_rule WHERE active = "
                + ("1" if loader.sqlite else "true")
                + " ORDER BY position, id"
            )
        )
        self.code_parent = dict(q("SELECT id, parent_id FROM code WHERE kind = 'reason'"))
        self.subcontracts = list(
            q("SELECT id, item, unit_type, customer_id FROM subcontract_agreement")
        )
        self.kb = {
            slug: (i, title)
            for i, slug, title in q(
                "SELECT id, slug, title FROM kb_article WHERE status = 'published'"
            )
        }
        self.has_tokens = bool(
            q("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'customer_token'")
            if loader.sqlite
            else q(
                "SELECT 1 FROM pg_tables WHERE tablename = 'customer_token' "
                "AND schemaname = current_schema()"
            )
        )
        self.calendar_ids = {name: i for i, name in q("SELECT id, name FROM calendar")}
        clock_author = q(f"SELECT id FROM agent WHERE login = {loader.param}", (SYSTEM_LOGIN,))
        self.clock_author = clock_author[0][0] if clock_author else self.system_author
        if loader.sqlite:
            present = {row[1] for row in q("PRAGMA table_info(incident)")}
        else:
            present = {
                row[0]
                for row in q(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_name = 'incident' AND table_schema = current_schema()"
                )
            }
        # Columns a later migration added are filled when the demo knows them.
        self.incident_cols = tuple(c for c in INCIDENT_COLS if c in present)
        self.running_timers = {
            row[0] for row in q("SELECT agent_id FROM time_entry WHERE ended_at IS NULL")
        }
        self._clocks(loader, self.now_s - (BASE_DAYS + 30) * 86400)
        self._read = True

    def _clocks(self, loader: BulkLoader, t0: int) -> None:
        """A working-time table per calendar, from `t0` to a year ahead."""
        self.clocks_from = t0
        t1 = self.now_s + 86400 * 400
        cals = loader.execute("SELECT id, tz FROM calendar")
        hours_rows = loader.execute(
            "SELECT calendar_id, weekday, start_minute, end_minute FROM calendar_hours"
        )
        day_rows = loader.execute("SELECT calendar_id, day, hours FROM calendar_day")
        self.clocks: dict[int | None, WorkClock] = {}
        for cal_id, tz in cals:
            hours: dict[int, list] = {}
            for cid, weekday, start, end in hours_rows:
                if cid == cal_id:
                    hours.setdefault(weekday, []).append((start, end))
            days: dict[date, list] = {}
            for cid, day, spans in day_rows:
                if cid != cal_id:
                    continue
                day = day if isinstance(day, date) else date.fromisoformat(str(day)[:10])
                days[day] = [
                    (int(a[:2]) * 60 + int(a[3:5]), int(b[:2]) * 60 + int(b[3:5]))
                    for a, b in (span.split("-") for span in (spans or "").split())
                ]
            self.clocks[cal_id] = WorkClock(t0, t1, tz or "UTC", hours, days)

    def read_customers(self, loader: BulkLoader) -> None:
        """Every customer with its contacts and units, for picking callers."""
        refs: dict[int, CustomerRef] = {}
        for i, country, region, block, prio in loader.execute(
            "SELECT id, country, region, block_level, priority_id FROM customer ORDER BY id"
        ):
            refs[i] = CustomerRef(i, country or "DE", region, block, prio)
        for i, cust, name, phone, e164, email in loader.execute(
            "SELECT id, customer_id, name, phone, phone_e164, email FROM contact "
            "WHERE active = " + ("1" if loader.sqlite else "true") + " ORDER BY id"
        ):
            ref = refs.get(cust)
            if ref is not None:
                ref.contacts.append((i, name, phone, e164, email))
        for row in loader.execute(
            "SELECT u.customer_id, u.id, u.serial, u.item, u.unit_type, u.contract_id, "
            "u.warranty_until, u.installed_on, c.starts_on, c.ends_on FROM unit u "
            "LEFT JOIN service_contract c ON c.id = u.contract_id ORDER BY u.id"
        ):
            ref = refs.get(row[0])
            if ref is not None:
                ref.units.append(
                    tuple(_as_day(v) if k >= 6 else v for k, v in enumerate(row[1:], 1))
                )
        self.customers = list(refs.values())
        self.contract_priority = dict(
            loader.execute(
                "SELECT id, priority_id FROM service_contract WHERE priority_id IS NOT NULL"
            )
        )
        self.contract_calendar = dict(
            loader.execute(
                "SELECT id, calendar_id FROM service_contract WHERE calendar_id IS NOT NULL"
            )
        )


def _as_day(value) -> str | None:
    if value is None:
        return None
    return value.isoformat()[:10] if isinstance(value, date) else str(value)[:10]


# --- customers ------------------------------------------------------------------------------

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "å": "a", "ø": "o"})


def _ascii(text: str) -> str:
    """'Jörg Müller-Lüdenscheidt' -> 'joerg.mueller-luedenscheidt' (for e-mail addresses)."""
    folded = fold(text.lower().translate(_UMLAUTS))
    out = []
    for ch in folded:
        if ch.isalnum() and ch.isascii():
            out.append(ch)
        elif ch in " .":
            out.append(".")
        elif ch == "-":
            out.append("-")
    return ".".join(part for part in "".join(out).split(".") if part)


def _slug(text: str) -> str:
    return "-".join(p for p in _ascii(text).replace(".", "-").split("-") if p)[:40]


def _person(rng: random.Random, country: str) -> str:
    female = rng.random() < 0.5
    first = rng.choice(D.FIRST_NAMES[country][0 if female else 1])
    last = rng.choice(D.SURNAMES[country])
    if isinstance(last, tuple):
        last = last[1 if female else 0]
    return f"{first} {last}"


def _surname(rng: random.Random, country: str) -> str:
    last = rng.choice(D.SURNAMES[country])
    return last[0] if isinstance(last, tuple) else last


def _phone(rng: random.Random, country: str, area: str, *, mobile: bool = False) -> tuple[str, str]:
    """A phone number as a person would type it, and its E.164 form."""
    cc = D.COUNTRY_CODES[country]
    if mobile:
        prefix = rng.choice(D.MOBILE_PREFIXES[country])
        length = {"DE": 11, "NL": 9, "PL": 9, "SE": 9, "ES": 9}[country] - len(prefix)
    else:
        prefix = area
        length = (10 if country == "DE" else 9) - len(area)
    sub = str(rng.randrange(2 * 10 ** (length - 1), 10**length))
    e164 = f"+{cc}{prefix}{sub}"
    style = rng.random()
    if country == "DE":
        if style < 0.35:
            typed = f"0{prefix} {sub}"
        elif style < 0.6:
            typed = f"0{prefix}/{sub}"
        elif style < 0.85:
            typed = f"+49 {prefix} {sub}"
        else:
            typed = f"(0{prefix}) {sub[:3]} {sub[3:]}"
    elif style < 0.7:
        typed = f"+{cc} {prefix} {sub[:3]} {sub[3:]}"
    else:
        typed = f"00{cc} {prefix} {sub}"
    return typed, e164


def _pick_country(rng: random.Random) -> str:
    roll = rng.randrange(100)
    for country, weight in D.COUNTRY_WEIGHTS:
        if roll < weight:
            return country
        roll -= weight
    return "DE"


_PRIVATE_MAIL = {
    "DE": "posteingang.example",
    "NL": "postvak.example",
    "PL": "poczta.example",
    "SE": "brevlada.example",
    "ES": "correo.example",
}


def _add_customers(loader: BulkLoader, world: World, count: int, *, base: bool) -> int:
    """Customers K-(10000+n) with contacts, units and contracts; returns how many were added.

    The base set is numbers 1..count, each added if missing. Scale customers continue after
    the highest customer number in use.
    """
    if count <= 0:
        return 0
    p = loader.param
    if base:
        numbers = [f"K-{CUSTOMER_OFFSET + n}" for n in range(1, count + 1)]
        have = {
            row[0]
            for row in loader.execute(
                f"SELECT number FROM customer WHERE number >= {p} AND number <= {p}",
                (numbers[0], numbers[-1]),
            )
        }
        indexes = [n for n in range(1, count + 1) if f"K-{CUSTOMER_OFFSET + n}" not in have]
    else:
        highest = BASE_CUSTOMERS
        for (number,) in loader.execute(
            "SELECT number FROM customer WHERE number LIKE 'K-%' ORDER BY id DESC LIMIT 2000"
        ):
            tail = number[2:]
            if tail.isdigit():
                highest = max(highest, int(tail) - CUSTOMER_OFFSET)
        indexes = list(range(highest + 1, highest + 1 + count))
    if not indexes:
        return 0
    tables = ["customer", "contact", "unit", "service_contract"]
    if world.has_tokens:
        tables.append("customer_token")
    loader.lock(tables)
    if len(indexes) * 5 >= SUSPEND_THRESHOLD:
        loader.suspend_indexes(tables)
    ids = {t: loader.next_id(t) for t in tables}
    gen = CustomerFactory(world, ids, strict_phones=base)
    step = 20_000
    for start in range(0, len(indexes), step):
        rows = gen.make([indexes[i] for i in range(start, min(start + step, len(indexes)))])
        loader.insert("customer", CUSTOMER_COLS, rows["customer"])
        loader.insert("service_contract", CONTRACT_COLS, rows["service_contract"])
        loader.insert("contact", CONTACT_COLS, rows["contact"])
        loader.insert("unit", UNIT_COLS, rows["unit"])
        if world.has_tokens:
            loader.insert("customer_token", TOKEN_COLS, rows["customer_token"])
        if not base:
            loader.progress(f"customers: {min(start + step, len(indexes)):,}/{len(indexes):,}")
    return len(indexes)


CUSTOMER_COLS = (
    "id",
    "number",
    "name",
    "search_name",
    "address",
    "postal_code",
    "city",
    "country",
    "phone",
    "phone_e164",
    "fax",
    "fax_e164",
    "email",
    "email_key",
    "other_contact",
    "region",
    "block_level",
    "block_reason",
    "priority_id",
    "notes",
    "created_at",
    "updated_at",
    "version",
)
CONTACT_COLS = (
    "id",
    "customer_id",
    "name",
    "search_name",
    "role",
    "phone",
    "phone_e164",
    "mobile",
    "mobile_e164",
    "email",
    "email_key",
    "is_primary",
    "active",
    "created_at",
)
UNIT_COLS = (
    "id",
    "serial",
    "item",
    "item_description",
    "unit_type",
    "customer_id",
    "installed_on",
    "warranty_until",
    "contract_id",
    "location",
    "created_at",
)
CONTRACT_COLS = (
    "id",
    "code",
    "customer_id",
    "description",
    "coverage",
    "starts_on",
    "ends_on",
    "calendar_id",
    "priority_id",
    "response_minutes",
    "active",
    "created_at",
)
TOKEN_COLS = ("id", "term", "customer_id", "contact_id")


class CustomerFactory:
    """Rows for customers by index; the same index always gives the same customer."""

    def __init__(self, world: World, ids: dict[str, int], *, strict_phones: bool) -> None:
        self.world = world
        self.ids = ids
        self.strict = strict_phones
        self.fmt = world.fmt
        self.now = world.now
        self.p2 = world.priorities.get("P2", (None,))[0]
        self.p1 = world.priorities.get("P1", (None,))[0]
        self.cal_ext = world.calendar_ids.get(D.CALENDAR_EXTENDED)
        self.cal_247 = world.calendar_ids.get(D.CALENDAR_ALWAYS)

    def _next(self, table: str) -> int:
        value = self.ids[table]
        self.ids[table] = value + 1
        return value

    def _e164(self, typed: str, e164: str, country: str) -> str | None:
        # The base set goes through the same normaliser as typed input; generated numbers
        # are built in E.164 directly (tests check both ways agree).
        if self.strict:
            return normalize_phone(typed, country, strict=False)
        return e164

    def make(self, indexes: list[int]) -> dict[str, list[tuple]]:
        out: dict[str, list[tuple]] = {
            "customer": [],
            "contact": [],
            "unit": [],
            "service_contract": [],
            "customer_token": [],
        }
        ts = self.fmt.ts
        window = epoch(self.world.window_start)
        for index in indexes:
            rng = random.Random(self.world.seed * 1_000_003 + index)
            country = _pick_country(rng)
            city, postal, area, region = rng.choice(D.CITIES[country])
            private = rng.random() < 0.18
            if private:
                name = _person(rng, country)
                domain = _PRIVATE_MAIL[country]
            else:
                pattern = rng.choice(D.COMPANY_PATTERNS[country])
                name = pattern.format(s=_surname(rng, country), s2=_surname(rng, country), c=city)
                domain = _slug(name) + ".example"
            cid = self._next("customer")
            created = window - rng.randrange(86400 * 30, 86400 * 900)
            phone, phone164 = _phone(rng, country, area)
            fax = fax164 = None
            if not private and rng.random() < 0.25:
                fax, fax164 = _phone(rng, country, area)
            email = (
                f"{_ascii(name)}@{domain}"
                if private
                else f"{rng.choice(('info', 'service', 'office', 'kontakt' if country == 'DE' else 'info'))}@{domain}"  # noqa: E501
            )
            street = rng.choice(D.STREETS[country])
            number = rng.randrange(1, 180)
            address = f"{street}, {number}" if country == "ES" else f"{street} {number}"
            if country == "PL" and rng.random() < 0.5:
                address += f"/{rng.randrange(1, 40)}"
            block, reason = "none", None
            roll = rng.random()
            if index <= BASE_CUSTOMERS and index % 29 == 7:
                block, reason = D.BLOCK_REASONS[(index // 29) % len(D.BLOCK_REASONS)]
            elif index > BASE_CUSTOMERS and roll < 0.012:
                block, reason = rng.choice(D.BLOCK_REASONS)
            prio = self.p2 if not private and rng.random() < 0.04 else None
            out["customer"].append(
                (
                    cid,
                    f"K-{CUSTOMER_OFFSET + index}",
                    name,
                    fold(name),
                    address,
                    postal,
                    city,
                    country,
                    phone,
                    self._e164(phone, phone164, country),
                    fax,
                    self._e164(fax, fax164, country) if fax else None,
                    email,
                    email_key(email),
                    None,
                    region,
                    block,
                    reason,
                    prio,
                    "Key account: call the site manager before any visit." if prio else None,
                    ts(created),
                    ts(created),
                    1,
                )
            )
            if self.world.has_tokens:
                for term in name_terms(name):
                    out["customer_token"].append((self._next("customer_token"), term, cid, None))

            # Contact persons: private customers are their own contact.
            people = 1 if private else rng.choice((1, 1, 2, 2, 3, 4))
            for k in range(people):
                person = name if private else _person(rng, country)
                direct, direct164 = _phone(rng, country, area)
                mobile = mobile164 = None
                if rng.random() < 0.6:
                    mobile, mobile164 = _phone(rng, country, area, mobile=True)
                mail = f"{_ascii(person)}@{domain}"
                contact_id = self._next("contact")
                out["contact"].append(
                    (
                        contact_id,
                        cid,
                        person,
                        fold(person),
                        None if private else rng.choice(D.CONTACT_ROLES),
                        direct,
                        self._e164(direct, direct164, country),
                        mobile,
                        self._e164(mobile, mobile164, country) if mobile else None,
                        mail,
                        email_key(mail),
                        k == 0,
                        True,
                        ts(created + 3600 * k),
                    )
                )
                if self.world.has_tokens and not private:
                    for term in name_terms(person):
                        out["customer_token"].append(
                            (self._next("customer_token"), term, cid, contact_id)
                        )

            # A service contract for about a third of the business customers.
            contract_id = None
            if not private and rng.random() < 0.35:
                contract_id = self._next("service_contract")
                premium = rng.random() < 0.3
                start = self.now.date() - timedelta(days=rng.randrange(200, 1500))
                expired = rng.random() < 0.15
                end = (
                    self.now.date() - timedelta(days=rng.randrange(10, 150))
                    if expired
                    else self.now.date() + timedelta(days=rng.randrange(30, 700))
                )
                out["service_contract"].append(
                    (
                        contract_id,
                        f"SC-{start.year % 100:02d}-{index:06d}",
                        cid,
                        "Premium service agreement" if premium else "Standard service agreement",
                        "Parts and labour, 4-hour response, 07:00-20:00 Mon-Sat"
                        if premium
                        else "Parts and labour, next business day on site",
                        start.isoformat(),
                        end.isoformat(),
                        (self.cal_ext if rng.random() < 0.7 else self.cal_247) if premium else None,
                        self.p2 if premium else None,
                        240 if premium else None,
                        not expired,
                        ts(window - 86400 * 10),
                    )
                )

            # Units: what the customer owns, some under warranty, some under the contract.
            for k in range(0 if private and rng.random() < 0.5 else rng.choice((1, 1, 2, 3, 4))):
                item, description, unit_type, months = rng.choice(D.ITEMS)
                days_ago = rng.randrange(30, 2200)
                installed = self.now.date() - timedelta(days=days_ago)
                warranty = installed + timedelta(days=int(months * 30.4))
                serial = f"{item.split('-')[1]}-{installed.year % 100:02d}{installed.month:02d}-{index:06d}{k}"  # noqa: E501
                out["unit"].append(
                    (
                        self._next("unit"),
                        serial,
                        item,
                        description,
                        unit_type,
                        cid,
                        installed.isoformat(),
                        warranty.isoformat(),
                        contract_id if contract_id and rng.random() < 0.8 else None,
                        rng.choice(D.UNIT_LOCATIONS),
                        ts(window - 86400 * 5),
                    )
                )
        return out


# --- incidents ------------------------------------------------------------------------------

INCIDENT_COLS = (
    "id",
    "channel",
    "request_type",
    "status",
    "title",
    "description",
    "question",
    "answer",
    "caller_name",
    "caller_phone",
    "caller_phone_e164",
    "caller_email",
    "customer_id",
    "contact_id",
    "unit_id",
    "contract_id",
    "subcontract_id",
    "under_warranty",
    "reason_general_id",
    "reason_specific_id",
    "request_type_code_id",
    "problem_code_id",
    "priority_id",
    "priority_rank",
    "department_id",
    "owner_id",
    "responsible_id",
    "created_by_id",
    "routing_rule_id",
    "opened_at",
    "contact_ended_at",
    "registered_at",
    "assigned_at",
    "first_response_at",
    "solved_at",
    "closed_at",
    "expected_close",
    "response_due",
    "follow_up_at",
    "warning_at",
    "late_at",
    "resolve_due",
    "deadlines_manual",
    "escalation",
    "escalation_rank",
    "paused_since",
    "paused_minutes",
    "escalate_at",
    "actual_problem",
    "actual_solution",
    "resolution_general_id",
    "resolution_specific_id",
    "customer_accepted",
    "closed_by_coordinator",
    "parent_id",
    "duplicate_of_id",
    "kb_searches",
    "version",
    "updated_at",
    "updated_by_id",
)
EVENT_COLS = (
    "id", "incident_id", "event_type_id", "kind", "at", "author_id", "text", "contact_id",
    "duration_minutes", "corrects_id", "data",
)  # fmt: skip
PAUSE_COLS = ("id", "incident_id", "started_at", "ended_at")
TIME_COLS = (
    "id", "incident_id", "agent_id", "started_at", "ended_at", "minutes", "note", "created_at",
)  # fmt: skip
WO_COLS = (
    "id", "kind", "repair_kind", "status", "title", "description", "template_id",
    "problem_code_id", "department_id", "assignee_id", "subcontract_id", "billable",
    "cross_reference", "created_by_id", "created_at", "completed_at", "version",
)  # fmt: skip
LINK_COLS = ("incident_id", "work_order_id", "linked_at", "linked_by_id", "closed_incident")
SEARCH_COLS = (
    "id", "incident_id", "agent_id", "at", "query", "results", "opened_article_id", "answered",
)  # fmt: skip

ESCALATION_NAMES = ("on_time", "follow_up", "warning", "late")
# Escalation thresholds as the sweep reads them: (deadline index, rank, response clock).
# The response clocks stop at the first response; the resolution clock runs until solved.
THRESHOLDS = ((1, 1, True), (2, 2, True), (3, 3, True), (4, 3, False))
INBOUND = {
    "phone": "CallIn",
    "cti": "CallIn",
    "walk-in": "CallIn",
    "email": "EmailIn",
    "fax": "Note",
    "web": "Note",
}
USER_EVENTS = frozenset(("CallIn", "CallOut", "EmailIn", "EmailOut", "Dispatch", "Note"))
LANG = {"DE": "de", "NL": "nl", "PL": "pl", "SE": "sv", "ES": "es"}
# The agent row that authors what the clocks do by themselves (as the deadline service).
SYSTEM_LOGIN = "cc-tui"


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


@dataclass
class Batch:
    incident_cols: tuple[str, ...]
    incident: list = field(default_factory=list)
    event: list = field(default_factory=list)
    incident_pause: list = field(default_factory=list)
    time_entry: list = field(default_factory=list)
    work_order: list = field(default_factory=list)
    incident_work_order: list = field(default_factory=list)
    kb_search: list = field(default_factory=list)
    # Positions of WorkOrder events in `event`: their text names the work order's id.
    wo_events: list = field(default_factory=list)

    def write(self, loader: BulkLoader) -> None:
        loader.insert("work_order", WO_COLS, self.work_order)
        loader.insert("incident", self.incident_cols, self.incident)
        loader.insert("incident_work_order", LINK_COLS, self.incident_work_order)
        loader.insert("incident_pause", PAUSE_COLS, self.incident_pause)
        loader.insert("event", EVENT_COLS, self.event)
        loader.insert("time_entry", TIME_COLS, self.time_entry)
        loader.insert("kb_search", SEARCH_COLS, self.kb_search)


@dataclass
class Plan:
    """What one incident should become; the base set fixes some of it by hand."""

    status: str
    rtype: str
    t_open: int
    customer: CustomerRef | None = None
    scenario: dict | None = None
    channel: str | None = None
    parent_id: int | None = None
    share_work_order: int | None = None
    reopened: bool = False
    coordinator: bool = False
    running_timer: bool = False
    priority: str | None = None


class Timeline:
    """The events of one incident, collected out of order and written in time order."""

    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: list[tuple] = []

    def add(self, at, code, author, text, contact=None, minutes=None, data=None) -> None:
        self.items.append((at, code, author, text, contact, minutes, data))


class IncidentFactory:
    """Turns plans into incident rows with coherent timelines."""

    def __init__(self, world: World, ids: dict[str, int], rng: random.Random, *, rich: bool):
        self.w = world
        self.ids = ids
        self.rng = rng
        # The base set gets the details (dispatch notes, field changes, confirmations);
        # generated incidents keep the timeline to what every incident of its kind has.
        self.rich = rich
        self.ts = world.fmt.ts
        self.day = world.fmt.day
        self.now = world.now_s
        self.blank = dict.fromkeys(world.incident_cols)
        self.has_escalate_at = "escalate_at" in world.incident_cols
        self.batch = Batch(world.incident_cols)
        self.timers: set[int] = set(world.running_timers)
        self._data_cache: dict = {}
        self._pick_cache: dict = {}
        c = world.codes
        self.reason = {path: i for (kind, path), i in c.items() if kind == "reason"}
        self.resolution = {path: i for (kind, path), i in c.items() if kind == "resolution"}
        self.rtypes = {path: i for (kind, path), i in c.items() if kind == "request-type"}
        self.problems = {path: i for (kind, path), i in c.items() if kind == "problem"}
        self.prio = world.priorities
        self.by_unit_type: dict[str, list] = {}
        self.generic = []
        for scenario in D.ACTION_SCENARIOS:
            for unit_type in scenario["units"]:
                self.by_unit_type.setdefault(unit_type, []).append(scenario)
            if not scenario["units"]:
                self.generic.append(scenario)
        self.queue_scenarios = [s for s in self.generic if s["reason"] != "NET/OUTAGE"]
        self.templated = [
            s
            for s in D.ACTION_SCENARIOS
            if self.problems.get(s["problem"]) in world.problem_template
        ]
        self.sd = world.departments.get("SD", (None,))[0]
        self.sd_agents = [a for a in world.by_dept.get(self.sd, []) if a[1] == "agent"] or [
            (world.system_author, "admin", set(), None)
        ]
        self.sd_by_lang = {
            lang: [a for a in self.sd_agents if lang in a[2]] for lang in LANG.values()
        }
        self.supervisors = {
            dept: next((a[0] for a in agents if a[1] == "supervisor"), agents[0][0])
            for dept, agents in world.by_dept.items()
        }

    # --- small helpers -------------------------------------------------------------------

    def _id(self, table: str) -> int:
        value = self.ids[table]
        self.ids[table] = value + 1
        return value

    def _data(self, key, build) -> str:
        found = self._data_cache.get(key)
        if found is None:
            found = self._data_cache[key] = _json(build())
        return found

    def _status(self, tl: Timeline, at: int, author: int, old: str, new: str, note=None) -> None:
        data = self._data(("s", old, new), lambda: {"field": "status", "from": old, "to": new})
        tl.add(
            at, "StatusChange", author, f"{old} -> {new}" + (f": {note}" if note else ""), data=data
        )

    def _clock(self, calendar_id: int | None) -> WorkClock:
        if calendar_id is None:
            calendar_id = self.w.departments.get("SD", (None, None, None))[2]
        return self.w.clocks.get(calendar_id) or next(iter(self.w.clocks.values()))

    def _after(self, t: int, target: int) -> int:
        """`target`, or a moment between `t` and now when `target` is not in the past."""
        if t < target < self.now - 60:
            return target
        return t + max(1, (self.now - t) // 2)

    def _taker(self, customer: CustomerRef | None) -> int:
        """A first-level agent, speaking the caller's language most of the time."""
        if customer is not None and self.rng.random() < 0.8:
            speakers = self.sd_by_lang.get(LANG.get(customer.country, "de"))
            if speakers:
                return self.rng.choice(speakers)[0]
        return self.rng.choice(self.sd_agents)[0]

    def _route(self, facts: tuple):
        """The first active rule whose set fields all match (as the routing service)."""
        unit_type, reason_g, reason_s, region, prio_id, channel, rtype = facts
        for rule in self.w.rules:
            (
                _rid,
                _pos,
                _name,
                r_unit,
                r_reason,
                r_region,
                r_prio,
                r_channel,
                r_rtype,
                *_result,
            ) = rule
            if (
                (r_unit is None or r_unit == unit_type)
                and (r_reason is None or r_reason in (reason_g, reason_s))
                and (r_region is None or r_region == region)
                and (r_prio is None or r_prio == prio_id)
                and (r_channel is None or r_channel == channel)
                and (r_rtype is None or r_rtype == rtype)
            ):
                return rule
        return None

    def _owner(self, dept: int, skill: str | None, region: str | None) -> int:
        """A department member with the skill, from the caller's region when there is one."""
        key = (dept, skill, region)
        pool = self._pick_cache.get(key)
        if pool is None:
            agents = [a for a in self.w.by_dept.get(dept, []) if a[1] == "agent"]
            skilled = [a for a in agents if not skill or skill in a[2]] or agents
            local = [a[0] for a in skilled if a[3] == region]
            pool = self._pick_cache[key] = (
                local,
                [a[0] for a in skilled] or [self.w.system_author],
            )
        local, skilled = pool
        if local and self.rng.random() < 0.8:
            return self.rng.choice(local)
        return self.rng.choice(skilled)

    def _reason(self, inc: dict, path: str) -> None:
        inc["reason_specific_id"] = self.reason.get(path)
        inc["reason_general_id"] = self.reason.get(path.split("/")[0])

    # --- one incident ------------------------------------------------------------------------

    def make(self, iid: int, plan: Plan) -> None:
        """Append the rows of one incident (and its timeline) to the batch."""
        rng = self.rng
        R = rng.random
        w = self.w
        ts = self.ts
        inc = dict(self.blank)
        tl = Timeline()
        status, rtype, t_open = plan.status, plan.rtype, plan.t_open
        channel = plan.channel
        if channel is None:
            roll = R()
            if status == "registered" and rtype == "action":
                channel = "web"  # a web form without serial number waits in the desk queue
            elif rtype == "comment":
                channel = "phone" if roll < 0.5 else "email" if roll < 0.8 else "web"
            else:
                channel = (
                    "phone"
                    if roll < 0.45
                    else "email"
                    if roll < 0.7
                    else "cti"
                    if roll < 0.83
                    else "web"
                    if roll < 0.94
                    else "walk-in"
                    if roll < 0.98
                    else "fax"
                )
        customer = plan.customer
        if customer is None and w.customers and (rtype == "action" or R() > 0.04):
            customer = w.customers[rng.randrange(len(w.customers))]
        if customer is not None and customer.block == "block" and rtype == "action":
            # Registration of action requests is refused for blocked customers: the call is
            # recorded as the information the agent gave instead.
            rtype = "information"
            status = "closed" if status != "abandoned" else status
        inc.update(id=iid, channel=channel, request_type=rtype, status=status)
        contact = rng.choice(customer.contacts) if customer and customer.contacts else None
        taker = self._taker(customer)
        phone_call = channel in ("phone", "cti", "walk-in")
        duration = 90 + int(rng.expovariate(1 / 300)) if phone_call else 60 + rng.randrange(360)
        t_reg = min(t_open + duration, self.now - 30)
        t_open = min(t_open, t_reg - 60)
        inc.update(
            opened_at=ts(t_open),
            contact_ended_at=ts(t_reg),
            created_by_id=taker,
            deadlines_manual=False,
            escalation="on_time",
            escalation_rank=0,
            paused_minutes=0,
            kb_searches=0,
            priority_rank=9,
        )
        if contact is not None:
            inc.update(
                caller_name=contact[1],
                caller_phone=contact[2],
                caller_phone_e164=contact[3],
                caller_email=contact[4],
            )
        tl.add(
            t_open,
            "Contact",
            taker,
            f"{channel} contact started",
            data=self._data(
                ("c", channel, rtype), lambda: {"channel": channel, "request_type": rtype}
            ),
        )

        if status == "abandoned":
            inc.update(
                caller_name=None, caller_email=None, caller_phone=None, caller_phone_e164=None
            )
            if channel == "cti" and contact is not None:
                inc.update(caller_phone=contact[2], caller_phone_e164=contact[3])
            seconds = 10 + rng.randrange(110)
            inc["contact_ended_at"] = ts(t_open + seconds)
            tl.add(
                t_open + seconds,
                "Contact",
                taker,
                f"contact abandoned after {seconds} s: {rng.choice(D.ABANDON_NOTES)}",
                data=self._data(
                    ("s", "draft", "abandoned"),
                    lambda: {"field": "status", "from": "draft", "to": "abandoned"},
                ),
            )
            return self._finish(iid, inc, tl)

        if customer is not None:
            inc["customer_id"] = customer.id
            inc["contact_id"] = contact[0] if contact else None
        cid = contact[0] if contact else None
        inbound = INBOUND[channel]
        minutes = max(1, duration // 60) if phone_call else None

        if rtype == "comment":
            reason, rt_code, words = rng.choice(D.COMMENTS)
            self._reason(inc, reason)
            inc.update(
                title=words[:120],
                description=words,
                registered_at=ts(t_reg),
                closed_at=ts(t_reg),
                request_type_code_id=self.rtypes.get(rt_code),
                department_id=self.sd,
            )
            tl.add(t_reg, inbound, taker, words, cid, minutes)
            self._status(tl, t_reg + 1, taker, "draft", "closed")
            return self._finish(iid, inc, tl)

        if rtype == "information":
            reason, rt_code, question, answer, slug = rng.choice(D.INFO_SCENARIOS)
            self._reason(inc, reason)
            inc.update(
                title=question[:120],
                question=question,
                registered_at=ts(t_reg),
                request_type_code_id=self.rtypes.get(rt_code),
                department_id=self.sd,
            )
            if slug and slug in w.kb and (self.rich or R() < 0.3):
                self._kb_search(iid, inc, tl, t_open + duration // 2, taker, question, slug)
            tl.add(t_reg - 5, inbound, taker, question, cid, minutes)
            if status == "closed" and R() > 0.12:
                # Answered during the call: closed at once.
                tl.add(
                    t_reg - 2,
                    "FieldChange",
                    taker,
                    f"answered: {answer}",
                    data=self._data(
                        ("a", answer), lambda: {"field": "answer", "from": None, "to": answer}
                    ),
                )
                self._status(tl, t_reg, taker, "draft", "closed")
                inc.update(
                    answer=answer,
                    closed_at=ts(t_reg),
                    first_response_at=ts(t_reg),
                    customer_accepted=True,
                    owner_id=taker,
                )
                return self._finish(iid, inc, tl)
            # Not answerable during the call: registered for a call-back by the desk.
            scenario = {
                "resolution": "INFO/ANSWERED",
                "problem_text": question,
                "solution": answer,
                "note": None,
            }
            prio = self.prio.get(plan.priority or "P3") or w.default_priority
            return self._work(
                iid,
                inc,
                tl,
                plan,
                status,
                customer,
                cid,
                None,
                scenario,
                prio,
                t_reg,
                taker,
                inbound,
            )

        # Action request: pick what it is about, and the unit when the caller knows it.
        scenario = plan.scenario
        unit = None
        if status == "registered" and scenario is None:
            scenario = rng.choice(self.queue_scenarios)
        if customer is not None and customer.units and (scenario is None or scenario["units"]):
            day = self.day(t_open)
            usable = [u for u in customer.units if u[6] is None or u[6] <= day]
            if scenario is not None:
                usable = [u for u in usable if u[3] in scenario["units"]]
            if usable and (scenario is not None or R() < 0.8):
                unit = rng.choice(usable)
        if scenario is None:
            options = self.by_unit_type.get(unit[3]) if unit else None
            if status == "transferred":
                options = [s for s in options or () if s in self.templated]
            if not options:
                unit = None
                options = self.templated if status == "transferred" else self.generic
            scenario = rng.choice(options)
        said = rng.choice(scenario["said"])
        self._reason(inc, scenario["reason"])
        inc.update(
            title=rng.choice(scenario["titles"]),
            description=said,
            request_type_code_id=self.rtypes.get(scenario["type"]),
            problem_code_id=self.problems.get(scenario["problem"]),
        )
        if unit is not None:
            day = self.day(t_open)
            inc["unit_id"] = unit[0]
            inc["under_warranty"] = bool(unit[5] and unit[5] >= day)
            if unit[4] and (unit[7] or "") <= day <= (unit[8] or "9999"):
                inc["contract_id"] = unit[4]
            for sub_id, item, unit_type, sub_customer in w.subcontracts:
                if (
                    item in (None, unit[2])
                    and unit_type in (None, unit[3])
                    and sub_customer in (None, customer.id)
                ):
                    inc["subcontract_id"] = sub_id
                    break
        prio = self._priority(plan, inc, customer, scenario)
        tl.add(t_reg - 5, inbound, taker, said, cid, minutes)
        return self._work(
            iid, inc, tl, plan, status, customer, cid, unit, scenario, prio, t_reg, taker, inbound
        )

    def _priority(self, plan: Plan, inc: dict, customer, scenario) -> tuple:
        """Contract first, then the customer, then what the problem usually is."""
        w = self.w
        if plan.priority:
            return self.prio[plan.priority]
        if inc["contract_id"] in w.contract_priority:
            return w.priority_by_id[w.contract_priority[inc["contract_id"]]]
        if customer is not None and customer.priority_id in w.priority_by_id:
            return w.priority_by_id[customer.priority_id]
        weights = scenario["weights"]
        roll = self.rng.randrange(sum(weights))
        for code, weight in zip(("P1", "P2", "P3", "P4"), weights, strict=True):
            if roll < weight:
                return self.prio.get(code, w.default_priority)
            roll -= weight
        return w.default_priority

    def _kb_search(self, iid, inc, tl, at, agent, query, slug) -> None:
        article_id, title = self.w.kb[slug]
        words = " ".join(query.lower().strip("?").split()[-3:])
        self.batch.kb_search.append(
            (
                self._id("kb_search"),
                iid,
                agent,
                self.ts(at),
                words,
                _json([{"slug": slug, "title": title}]),
                article_id,
                True,
            )
        )
        tl.add(
            at,
            "KbSearch",
            agent,
            f"KB search '{words}': 1 result, opened {slug}",
            data=_json({"query": words, "results": [slug], "opened": slug, "answered": True}),
        )
        inc["kb_searches"] += 1

    def _work(
        self, iid, inc, tl, plan, status, customer, cid, unit, scenario, prio, t_reg, taker, inbound
    ) -> None:
        """A registered request: routing, first response, the work, and where it ended."""
        rng = self.rng
        R = rng.random
        ts = self.ts
        now = self.now
        w = self.w
        prio_id, rank, resp_min, fu_min, warn_min, late_min, resolve_min, basis, cal = prio
        if basis == "contract":
            cal = w.contract_calendar.get(inc["contract_id"]) or cal
        clock = self._clock(cal)
        biz = self._clock(None)
        inc.update(priority_id=prio_id, priority_rank=rank, registered_at=ts(t_reg))
        self._status(tl, t_reg, taker, "draft", "registered")
        deadlines = [
            clock.add(t_reg, m) if m else None
            for m in (resp_min, fu_min, warn_min, late_min, resolve_min)
        ]
        region = customer.region if customer else None
        info = inc["request_type"] == "information"
        if plan.parent_id:
            inc["parent_id"] = plan.parent_id
            tl.add(
                t_reg + 3,
                "Link",
                taker,
                f"linked to parent INC-{plan.parent_id} (same outage)",
                data=_json({"field": "parent", "from": None, "to": f"INC-{plan.parent_id}"}),
            )

        # Who gets it: the desk takes call-backs itself; action requests are routed.
        if info:
            dept, owner, how = self.sd, self._taker(customer), "claim"
            inc["department_id"] = dept
        else:
            facts = (
                unit[3] if unit else None,
                inc["reason_general_id"],
                inc["reason_specific_id"],
                region,
                prio_id,
                inc["channel"],
                "action",
            )
            rule = self._route(facts)
            if rule is None:
                dept, owner, how = self.sd, None, "queue"
                tl.add(
                    t_reg + 1,
                    "Routing",
                    taker,
                    "no routing rule matched",
                    data=_json({"rule": None}),
                )
            else:
                rid, position, name, *_m, dept, rule_owner, least, skill = rule
                owner, how = None, "queue"
                if rule_owner is not None:
                    owner, how = rule_owner, "owner"
                elif least and status != "registered":
                    owner, how = self._owner(dept, skill, region), "least_loaded"
                login = w.agent_login.get(owner) if owner else None
                code = w.dept_code.get(dept, "?")
                target = f"{code}, owner {login}" if login else f"{code} queue"
                if how == "least_loaded":
                    target += " (least loaded)"
                tl.add(
                    t_reg + 1,
                    "Routing",
                    taker,
                    f"routed by rule {position}" + (f" ({name})" if name else "") + f" to {target}",
                    data=self._data(
                        ("r", rid, login),
                        lambda: {
                            "rule": rid,
                            "position": position,
                            "department": code,
                            "owner": login,
                            "how": how,
                        },
                    ),
                )
                inc["routing_rule_id"] = rid
            inc["department_id"] = dept
        dept_code = w.dept_code.get(dept, "?")
        if status == "registered":
            return self._finish(iid, inc, tl, deadlines=deadlines, eval_at=now, clock=clock)
        if owner is None:
            # Waited in the queue until an agent of the department claimed it.
            owner, how = self._owner(dept, None, region), "claim"

        wait = rng.randrange(1800) if how == "claim" else 0
        t_asg = min(t_reg + 2 + wait, now - 20)
        inc.update(
            assigned_at=ts(t_asg),
            owner_id=owner,
            responsible_id=self.supervisors.get(dept, owner) if rank == 1 else owner,
        )
        if how == "claim":
            login = w.agent_login.get(owner, "?")
            tl.add(
                t_asg - 1,
                "Assignment",
                owner,
                f"claimed by {login} from the {dept_code} queue",
                data=self._data(
                    ("claim", login),
                    lambda: {"field": "owner", "from": None, "to": login, "how": "claim"},
                ),
            )
        self._status(tl, t_asg, taker if how != "claim" else owner, "registered", "assigned")
        if status == "assigned":
            return self._finish(iid, inc, tl, deadlines=deadlines, eval_at=now, clock=clock)

        # First response: the owner picks it up and calls (or mails) the customer.
        factor = 0.05 + rng.expovariate(1 / 0.45)
        t_resp = clock.add(t_asg, max(1, int(resp_min * factor)))
        t_resp = max(min(t_resp, t_asg + (now - t_asg) * 2 // 3), t_asg + 30)
        self._status(tl, t_resp, owner, "assigned", "in_process")
        out_type = "EmailOut" if inc["channel"] == "email" else "CallOut"
        if info:
            said_back = f"Called back with the answer: {scenario['solution']}"
        else:
            said_back = scenario.get("note") or rng.choice(D.CALLBACK_NOTES)
        t_call = max(min(t_resp + 60 + rng.randrange(600), now - 5), t_resp + 1)
        tl.add(
            t_call,
            out_type,
            owner,
            said_back,
            cid,
            3 + rng.randrange(12) if out_type == "CallOut" else None,
        )
        inc["first_response_at"] = ts(t_call)
        responded = t_call
        t = t_call
        if self.rich and w.departments.get(dept_code, (0, False))[1] and status != "pending":
            t = min(t + 600 + rng.randrange(3600), now - 4)
            tl.add(t, "Dispatch", owner, rng.choice(D.DISPATCH_NOTES))
        if self.rich and unit is not None and R() < 0.3 and t < now - 7200:
            t = min(t + 1800 + rng.randrange(7200), now - 3)
            tl.add(
                t,
                "Note",
                owner,
                "Customer confirmed the details by e-mail; serial number "
                "checked against the type plate.",
            )
        self._time_entry(iid, plan, status, owner, t_resp)

        if status == "pending" or (
            status in ("solved", "closed") and t < now - 5 * 86400 and R() < 0.12
        ):
            p_start = min(t + 600 + rng.randrange(7200), now - 2)
            self._status(tl, p_start, owner, "in_process", "pending", rng.choice(D.PENDING_REASONS))
            pause_id = self._id("incident_pause")
            if status == "pending":
                self.batch.incident_pause.append((pause_id, iid, ts(p_start), None))
                inc["paused_since"] = ts(p_start)
                return self._finish(
                    iid,
                    inc,
                    tl,
                    deadlines=deadlines,
                    eval_at=p_start,
                    responded=responded,
                    clock=clock,
                )
            p_end = self._after(p_start, biz.add(p_start, 60 + rng.randrange(2400)))
            self.batch.incident_pause.append((pause_id, iid, ts(p_start), ts(p_end)))
            inc["paused_minutes"] = (p_end - p_start) // 60
            shift = clock.between(p_start, p_end)
            deadlines = [clock.add(d, shift) if d and d > p_start else d for d in deadlines]
            self._status(tl, p_end, owner, "pending", "in_process")
            t = p_end

        if status == "in_process" and not plan.reopened:
            return self._finish(
                iid, inc, tl, deadlines=deadlines, eval_at=now, responded=responded, clock=clock
            )
        template = w.problem_template.get(inc["problem_code_id"])
        if (
            template is not None
            and not info
            and (status == "transferred" or (status == "closed" and R() < 0.3))
        ):
            return self._transfer(
                iid,
                inc,
                tl,
                plan,
                status,
                customer,
                scenario,
                template,
                owner,
                dept,
                t,
                deadlines,
                responded,
                clock,
            )

        # Solved: the actual problem, the solution and the resolution codes.
        spread = resolve_min or 480
        t_solve = clock.add(t_reg, int(spread * (0.05 + rng.expovariate(1 / 0.3))))
        t_solve = self._after(t, max(t_solve, t + 300))
        if plan.reopened:
            # The first solution did not last: the customer calls, the incident is reopened.
            self._resolve(inc, scenario, tl, owner, t_solve)
            t_back = self._after(t_solve, t_solve + (now - t_solve) // 3)
            tl.add(
                t_back,
                inbound,
                taker,
                "Customer calls: the problem is back, the solution did not last.",
                cid,
                4,
            )
            self._status(tl, t_back + 60, taker, "solved", "in_process", "customer does not accept")
            inc["customer_accepted"] = False
            if status == "in_process":
                return self._finish(
                    iid, inc, tl, deadlines=deadlines, eval_at=now, responded=responded, clock=clock
                )
            t_solve = self._after(t_back + 60, t_back + 3600)
        self._resolve(inc, scenario, tl, owner, t_solve)
        inc["solved_at"] = ts(t_solve)
        if info:
            inc["answer"] = scenario["solution"]
        if status == "solved":
            return self._finish(
                iid, inc, tl, deadlines=deadlines, eval_at=t_solve, responded=responded, clock=clock
            )
        t_close = self._after(t_solve, biz.add(t_solve, 30 + rng.randrange(1200)))
        if plan.coordinator or R() < 0.05:
            closer = self.supervisors.get(dept, owner)
            self._status(tl, t_close, closer, "solved", "closed", "closed by coordinator")
            inc["closed_by_coordinator"] = True
        else:
            if self.rich:
                tl.add(
                    t_close - 30,
                    out_type,
                    owner,
                    "Customer confirms the solution works.",
                    cid,
                    2 if out_type == "CallOut" else None,
                )
            self._status(tl, t_close, owner, "solved", "closed")
            inc.update(customer_accepted=True, closed_by_coordinator=False)
        inc["closed_at"] = ts(t_close)
        return self._finish(
            iid, inc, tl, deadlines=deadlines, eval_at=t_solve, responded=responded, clock=clock
        )

    def _time_entry(self, iid, plan, status, owner, start) -> None:
        rng = self.rng
        ts = self.ts
        if plan.running_timer and owner not in self.timers and status == "in_process":
            self.timers.add(owner)
            self.batch.time_entry.append(
                (self._id("time_entry"), iid, owner, ts(start), None, 0, "Timer running", ts(start))
            )
            return
        spent = 10 + rng.randrange(80)
        end = start + spent * 60
        if end < self.now:
            note = rng.choice(
                (
                    "Diagnosis and call-back",
                    "Remote session",
                    "Phone support",
                    "Preparing the visit",
                    "Research and documentation",
                )
            )
            self.batch.time_entry.append(
                (self._id("time_entry"), iid, owner, ts(start), ts(end), spent, note, ts(end))
            )

    def _resolve(self, inc, scenario, tl, owner, at) -> None:
        general = scenario["resolution"].split("/")[0]
        inc.update(
            actual_problem=scenario["problem_text"],
            actual_solution=scenario["solution"],
            resolution_general_id=self.resolution.get(general),
            resolution_specific_id=self.resolution.get(scenario["resolution"]),
        )
        if self.rich:
            fields = (
                ("resolution_general_id", general),
                ("resolution_specific_id", scenario["resolution"]),
                ("actual_problem", scenario["problem_text"]),
                ("actual_solution", scenario["solution"]),
            )
            for offset, (name, value) in enumerate(fields):
                tl.add(
                    at - 4 + offset,
                    "FieldChange",
                    owner,
                    f"{name.removesuffix('_id')} set",
                    data=_json({"field": name, "from": None, "to": value}),
                )
        self._status(tl, at, owner, "in_process", "solved")

    def _transfer(
        self,
        iid,
        inc,
        tl,
        plan,
        status,
        customer,
        scenario,
        template,
        owner,
        dept,
        t,
        deadlines,
        responded,
        clock,
    ) -> None:
        """Hand the request to a work order; a completed last work order closes it."""
        rng = self.rng
        ts = self.ts
        w = self.w
        t_wo = self._after(t, t + 600 + rng.randrange(7200))
        code, name, kind, repair, billable, _minutes = w.templates[template]
        wo_dept = w.code_department.get(inc["problem_code_id"]) or dept
        assignee = self._owner(wo_dept, None, customer.region if customer else None)
        done = status == "closed"
        t_done = None
        if done:
            t_done = self._after(t_wo + 1, self._clock(None).add(t_wo, 120 + rng.randrange(2400)))
        if plan.share_work_order:
            wo_id = plan.share_work_order
            tl.add(
                t_wo,
                "Link",
                owner,
                f"linked to work order WO-{wo_id} (same problem reported earlier)",
                data=_json({"field": "work_order", "from": None, "to": f"WO-{wo_id}"}),
            )
        else:
            wo_id = self._id("work_order")
            covered = inc["under_warranty"] or inc["contract_id"] is not None
            charge = bool(billable) and not covered
            self.batch.work_order.append(
                (
                    wo_id,
                    kind,
                    repair,
                    "completed" if done else rng.choice(("open", "in_progress", "in_progress")),
                    f"{name}: {inc['title']}"[:300],
                    scenario.get("note"),
                    template,
                    inc["problem_code_id"],
                    wo_dept,
                    assignee,
                    inc["subcontract_id"] if kind == "subcontract" else None,
                    charge,
                    f"SO-{time.gmtime(t_wo).tm_year}-{wo_id:06d}" if charge else None,
                    owner,
                    ts(t_wo),
                    ts(t_done) if done else None,
                    2 if done else 1,
                )
            )
            tl.add(
                t_wo,
                "WorkOrder",
                owner,
                f"work order WO-{wo_id} created from template {code}",
                data=_json({"work_order": wo_id, "template": code, "kind": kind}),
            )
        # The completed order closed the incident: reopening it would reopen the incident.
        self.batch.incident_work_order.append((iid, wo_id, ts(t_wo), owner, done))
        self._status(tl, t_wo + 1, owner, "in_process", "transferred")
        if not done:
            return self._finish(
                iid,
                inc,
                tl,
                deadlines=deadlines,
                eval_at=self.now,
                responded=responded,
                clock=clock,
            )
        tl.add(
            t_done,
            "WorkOrder",
            assignee,
            f"work order WO-{wo_id} completed",
            data=_json({"work_order": wo_id, "status": "completed"}),
        )
        self._status(
            tl, t_done + 1, w.clock_author, "transferred", "closed", "last work order completed"
        )
        inc.update(
            actual_problem=scenario["problem_text"],
            actual_solution=scenario["solution"],
            resolution_general_id=self.resolution.get("WO"),
            resolution_specific_id=self.resolution.get("WO/DONE"),
            closed_at=ts(t_done + 1),
            closed_by_coordinator=False,
        )
        return self._finish(
            iid, inc, tl, deadlines=deadlines, eval_at=t_done, responded=responded, clock=clock
        )

    def duplicate(self, iid: int, target: dict) -> None:
        """A call about an open incident, added there as an event; the contact record is
        closed as its duplicate. Also a note on the incident, corrected later."""
        ts = self.ts
        agent = target["created_by_id"]
        last = max(r[4] for r in self.batch.event if r[1] == target["id"])
        t = self.now - 1800
        if ts(t) <= last:
            t = self.now - 300
        inc = dict(self.blank)
        inc.update(
            id=iid,
            channel="phone",
            request_type="action",
            status="closed",
            title=f"Call added to INC-{target['id']}",
            customer_id=target["customer_id"],
            contact_id=target["contact_id"],
            caller_name=target["caller_name"],
            caller_phone=target["caller_phone"],
            caller_phone_e164=target["caller_phone_e164"],
            created_by_id=agent,
            opened_at=ts(t),
            contact_ended_at=ts(t + 180),
            closed_at=ts(t + 180),
            priority_rank=9,
            deadlines_manual=False,
            escalation="on_time",
            escalation_rank=0,
            paused_minutes=0,
            duplicate_of_id=target["id"],
            kb_searches=0,
        )
        tl = Timeline()
        tl.add(
            t,
            "Contact",
            agent,
            "phone contact started",
            data=_json({"channel": "phone", "request_type": "action"}),
        )
        tl.add(
            t + 179,
            "Link",
            agent,
            f"added to INC-{target['id']}",
            data=_json({"field": "duplicate_of", "from": None, "to": f"INC-{target['id']}"}),
        )
        self._status(tl, t + 180, agent, "draft", "closed")
        self._finish(iid, inc, tl)
        et = self.w.event_types
        call = self._id_event()
        self.batch.event.append(
            (
                call,
                target["id"],
                et["CallIn"],
                "user",
                ts(t + 180),
                agent,
                "Customer asks whether the spare part has arrived yet.",
                target["contact_id"],
                3,
                None,
                None,
            )
        )
        wrong = self._id_event()
        self.batch.event.append(
            (
                wrong,
                target["id"],
                et["Note"],
                "user",
                ts(t + 240),
                agent,
                "Spare part ordered, delivery on Monday.",
                None,
                None,
                None,
                None,
            )
        )
        self.batch.event.append(
            (
                self._id_event(),
                target["id"],
                et["Note"],
                "user",
                ts(t + 270),
                agent,
                "Correction: delivery is on Wednesday, the supplier confirmed.",
                None,
                None,
                wrong,
                None,
            )
        )

    def _id_event(self) -> int:
        return self._id("event")

    def _finish(
        self, iid, inc, tl, *, deadlines=None, eval_at=None, responded=None, clock=None
    ) -> None:
        """Deadlines, escalation as the sweep would have raised it, events in time order."""
        ts = self.ts
        if deadlines is not None:
            names = ("response_due", "follow_up_at", "warning_at", "late_at", "resolve_due")
            for name, value in zip(names, deadlines, strict=True):
                inc[name] = ts(value) if value else None
            resolve = deadlines[4]
            if resolve and inc["request_type"] == "action" and self.rng.random() < 0.3:
                inc["expected_close"] = self.day(resolve)
            rank = 0
            upcoming = []
            for index, level, response_clock in THRESHOLDS:
                at = deadlines[index]
                if at is None:
                    continue
                if response_clock and responded is not None and at >= responded:
                    continue  # the response came first: this clock stopped
                if at <= eval_at:
                    if level > rank:
                        # The sweep runs every minute.
                        moment = min(at + self.rng.randrange(60), max(eval_at, at))
                        tl.add(
                            moment,
                            "Escalation",
                            self.w.clock_author,
                            f"escalation {ESCALATION_NAMES[rank]} -> {ESCALATION_NAMES[level]}",
                            data=self._data(
                                ("e", rank, level),
                                lambda r=rank, lv=level: {
                                    "field": "escalation",
                                    "from": ESCALATION_NAMES[r],
                                    "to": ESCALATION_NAMES[lv],
                                },
                            ),
                        )
                        rank = level
                else:
                    upcoming.append((at, level))
            if rank:
                inc["escalation"] = ESCALATION_NAMES[rank]
                inc["escalation_rank"] = rank
            if self.has_escalate_at and inc["status"] in RUNNING:
                nxt = min((at for at, level in upcoming if level > rank), default=None)
                inc["escalate_at"] = ts(nxt) if nxt else None
        items = tl.items
        items.sort(key=_first)
        et = self.w.event_types
        rows = self.batch.event
        next_id = self.ids["event"]
        for at, code, author, text, contact, minutes, data in items:
            kind = "user" if code in USER_EVENTS else "system"
            if code == "WorkOrder":
                self.batch.wo_events.append(len(rows))
            rows.append(
                (next_id, iid, et[code], kind, ts(at), author, text, contact, minutes, None, data)
            )
            next_id += 1
        self.ids["event"] = next_id
        last = items[-1]
        inc["version"] = len(items)
        inc["updated_at"] = ts(last[0])
        inc["updated_by_id"] = last[2]
        self.batch.incident.append(tuple(inc.values()))


# Bulk rows carry their status as data (no transition happened): see lifecycle.py.
RUNNING = frozenset(RUNNING_STATUSES)


def _first(item: tuple) -> int:
    return item[0]


# --- the base set and scale ------------------------------------------------------------------


def _ids(loader: BulkLoader) -> dict[str, int]:
    tables = ("incident", "event", "incident_pause", "time_entry", "work_order", "kb_search")
    return {t: loader.next_id(t) for t in tables}


def _add_base_incidents(loader: BulkLoader, world: World) -> None:
    """About 400 incidents of the last four months, every status, and a few stories."""
    loader.lock(SCALE_TABLES)
    ids = _ids(loader)
    rng = random.Random(world.seed)
    factory = IncidentFactory(world, ids, rng, rich=True)
    now = world.now_s
    # The last four days hold a hand-picked mix of every status, so queues and escalation
    # badges show all their states; the months before follow the normal mix.
    showcase = (
        ["registered"] * 6
        + ["assigned"] * 7
        + ["in_process"] * 9
        + ["pending"] * 6
        + ["transferred"] * 6
        + ["solved"] * 8
        + ["abandoned"] * 3
        + ["closed"] * 5
    )
    rng.shuffle(showcase)
    recent_start = now - 4 * 86400
    older = _business_times(rng, now - BASE_DAYS * 86400, recent_start, BASE_INCIDENTS - 50)
    recent = _business_times(rng, recent_start, now - 1800, len(showcase))
    plans = [
        Plan(*reversed(_draw(rng, (now - t) / 86400, open_scale=(0.5, 0.08, 0.03))), t)
        for t in sorted(older)
    ]
    for t, status in zip(sorted(recent), showcase, strict=True):
        plans.append(Plan(status, "information" if status == "abandoned" else "action", t))

    customers = [c for c in world.customers if c.block != "block"]
    berlin = [c for c in customers if c.region == "DE-EAST"] or customers
    printers = [c for c in customers if any(u[3] == "printer" for u in c.units)] or customers
    outage_scenario = next(s for s in D.ACTION_SCENARIOS if s["reason"] == "NET/OUTAGE")
    paper = D.ACTION_SCENARIOS[0]
    first = ids["incident"]
    # A site outage: one parent incident (P1), three more calls linked to it.
    outage = len(plans) - 12
    plans[outage] = Plan(
        "in_process",
        "action",
        plans[outage].t_open,
        customer=berlin[0],
        scenario=outage_scenario,
        priority="P1",
    )
    for k, status in enumerate(("assigned", "in_process", "registered"), 1):
        plans[outage + k] = Plan(
            status,
            "action",
            plans[outage].t_open + 300 * k,
            customer=berlin[k % len(berlin)],
            scenario=outage_scenario,
            priority="P1",
            parent_id=first + outage,
        )
    # Three customers report the same printer fault: one work order serves all three.
    shared = len(plans) - 30
    for k in range(3):
        plans[shared + k] = Plan(
            "transferred",
            "action",
            plans[shared + k].t_open,
            customer=printers[k % len(printers)],
            scenario=paper,
        )
    # A solution the customer did not accept, a coordinator's close, running timers.
    plans[-60] = Plan(
        "in_process",
        "action",
        plans[-60].t_open,
        customer=printers[-1],
        scenario=paper,
        reopened=True,
    )
    plans[-40] = Plan("closed", "action", plans[-40].t_open, coordinator=True)
    for plan in plans[-40:]:
        plan.running_timer = plan.status == "in_process" and not plan.reopened

    shared_wo = None
    for n, plan in enumerate(plans):
        if shared < n < shared + 3:
            plan.share_work_order = shared_wo
        factory.make(first + n, plan)
        if n == shared and factory.batch.work_order:
            shared_wo = factory.batch.work_order[-1][0]
    ids["incident"] = first + len(plans)

    # A customer calls about a pending incident: the call becomes an event there, the
    # contact record is kept, closed as its duplicate (volume reports still count it).
    target = next(
        (
            first + n
            for n, p in enumerate(plans)
            if p.status == "pending" and p.t_open < now - 86400
        ),
        None,
    )
    if target is not None:
        row = next(r for r in factory.batch.incident if r[0] == target)
        factory.duplicate(ids["incident"], dict(zip(world.incident_cols, row, strict=True)))
        ids["incident"] += 1
    factory.batch.write(loader)


def _draw(rng: random.Random, age: float, *, open_scale: tuple[float, float, float]):
    """Request type and status of an incident opened `age` days ago."""
    roll = rng.random()
    if roll < 0.05:
        return "information", "abandoned"
    if roll < 0.13:
        return "comment", "closed"
    rtype = "information" if roll < 0.5 else "action"
    recent, middle, old = open_scale
    p_open = recent if age < 30 else middle if age < 180 else old
    if rtype == "information":
        p_open *= 0.4
    elif age < 1:
        p_open = 1.0  # an action request of the last hours is not done yet
    if rng.random() < p_open:
        if rtype == "information":
            weights = (("registered", 40), ("assigned", 40), ("in_process", 20))
        elif age < 30:
            weights = (
                ("registered", 12),
                ("assigned", 20),
                ("in_process", 33),
                ("pending", 15),
                ("transferred", 20),
            )
        else:
            weights = (
                ("registered", 4),
                ("assigned", 8),
                ("in_process", 15),
                ("pending", 36),
                ("transferred", 37),
            )
        pick = rng.randrange(sum(w for _, w in weights))
        for status, weight in weights:
            if pick < weight:
                return rtype, status
            pick -= weight
    if age < 10 and rtype == "action" and rng.random() < 0.3:
        return rtype, "solved"
    return rtype, "closed"


def _business_times(rng, start: int, end: int, count: int) -> list[int]:
    """`count` contact start times between start and end, busiest on weekday mornings."""
    cdf = _load_curve(start, end)
    total = cdf[-1]
    out = []
    hours = len(cdf) - 1
    base = start - start % 3600
    for _ in range(count):
        u = rng.random() * total
        h = bisect.bisect_right(cdf, u) - 1
        h = min(max(h, 0), hours - 1)
        t = base + h * 3600 + rng.randrange(3600)
        out.append(min(max(t, start), end))
    return out


_CURVES: dict[tuple[int, int], list[float]] = {}


def _load_curve(start: int, end: int) -> list[float]:
    """Cumulative call volume per hour (local Berlin time): weekdays 8-17 busy."""
    key = (start, end)
    if key in _CURVES:
        return _CURVES[key]
    zone = ZoneInfo("Europe/Berlin")
    base = start - start % 3600
    hours = (end - base) // 3600 + 1
    day_shape = (
        0.2,
        0.1,
        0.1,
        0.1,
        0.1,
        0.3,
        1,
        3,
        9,
        10,
        9,
        8,
        6,
        8,
        9,
        8,
        7,
        4,
        2,
        1.2,
        0.8,
        0.6,
        0.4,
        0.3,
    )
    cdf = [0.0]
    total = 0.0
    offset_cache: dict[int, int] = {}
    for i in range(hours):
        t = base + i * 3600
        day = t // 86400
        offset = offset_cache.get(day)
        if offset is None:
            offset = offset_cache[day] = int(
                datetime.fromtimestamp(t, zone).utcoffset().total_seconds()
            )
        local = t + offset
        hour = local // 3600 % 24
        weekday = (local // 86400 + 3) % 7  # 1970-01-01 was a Thursday
        weight = day_shape[hour] * (0.15 if weekday >= 5 else 1.0)
        total += weight
        cdf.append(total)
    _CURVES[key] = cdf
    return cdf


@dataclass(frozen=True)
class Chunk:
    """A slice of a scale load: incidents first_id .. first_id + size - 1."""

    first_id: int
    offset: int  # position of the first one within the load
    size: int
    count: int  # incidents in the whole load


# The world a chunk is generated from; worker processes inherit it when they are forked.
_CHUNK_WORLD: World | None = None
LOCAL_TABLES = ("event", "incident_pause", "time_entry", "work_order", "kb_search")


def _generate(chunk: Chunk) -> Batch:
    """One chunk's rows, with ids from 0 in every table but `incident` (see `_place`).

    Seeded by the chunk's first incident id, so the rows do not depend on which process
    made them or in which order.
    """
    world = _CHUNK_WORLD
    assert world is not None
    ids = dict.fromkeys(LOCAL_TABLES, 0)
    ids["incident"] = chunk.first_id
    rng = random.Random(world.seed * 7919 + chunk.first_id)
    factory = IncidentFactory(world, ids, rng, rich=False)
    cdf, base, hours = world.curve
    step = cdf[-1] / chunk.count
    now = world.now_s
    for k in range(chunk.size):
        # Evenly spread quantiles of the call volume: times grow with the incident number.
        u = (chunk.offset + k + rng.random()) * step
        h = min(max(bisect.bisect_right(cdf, u) - 1, 0), hours - 1)
        within = (u - cdf[h]) / max(cdf[h + 1] - cdf[h], 1e-9)
        t = base + h * 3600 + int(within * 3600)
        rtype, status = _draw(rng, (now - t) / 86400, open_scale=(0.9, 0.15, 0.04))
        factory.make(chunk.first_id + k, Plan(status=status, rtype=rtype, t_open=t))
    return factory.batch


def _place(batch: Batch, ids: dict[str, int]) -> None:
    """Move a chunk's rows to their final ids, right after the rows written before them."""
    e, p, t, w, k = (ids[name] for name in LOCAL_TABLES)
    batch.event = [(e + r[0], *r[1:]) for r in batch.event]
    for index in batch.wo_events:
        row = batch.event[index]
        data = json.loads(row[10])
        local = data["work_order"]
        data["work_order"] = w + local
        text = row[6].replace(f"WO-{local} ", f"WO-{w + local} ")
        batch.event[index] = (*row[:6], text, *row[7:10], _json(data))
    batch.incident_pause = [(p + r[0], *r[1:]) for r in batch.incident_pause]
    batch.time_entry = [(t + r[0], *r[1:]) for r in batch.time_entry]
    batch.kb_search = [(k + r[0], *r[1:]) for r in batch.kb_search]
    batch.work_order = [
        (w + r[0], *r[1:12], f"{r[12][:8]}{w + r[0]:06d}" if r[12] else None, *r[13:])
        for r in batch.work_order
    ]
    batch.incident_work_order = [(r[0], w + r[1], *r[2:]) for r in batch.incident_work_order]
    for name in LOCAL_TABLES:
        ids[name] += len(getattr(batch, name))


def _add_scale_incidents(loader: BulkLoader, world: World, count: int, say: Progress) -> None:
    """`count` more incidents over the last three years, in chunks, with progress.

    Chunks are generated in worker processes (one per core) while this process writes the
    previous ones; the database sees one writer and one transaction.
    """
    global _CHUNK_WORLD
    if not world.customers:
        from cc_tui.errors import RuleViolation

        raise RuleViolation("the demo needs customers before it can generate incidents")
    loader.lock(SCALE_TABLES)
    if count * 6 >= SUSPEND_THRESHOLD:
        loader.suspend_indexes(SCALE_TABLES)
    ids = _ids(loader)
    start = epoch(world.window_start)
    if world.clocks_from > start - 86400 * 30:
        world._clocks(loader, start - 86400 * 30)
    cdf = _load_curve(start, world.now_s - 600)
    world.curve = (cdf, start - start % 3600, len(cdf) - 1)
    chunks = [
        Chunk(ids["incident"] + offset, offset, min(CHUNK, count - offset), count)
        for offset in range(0, count, CHUNK)
    ]
    workers = min(os.cpu_count() or 1, 4) if len(chunks) > 2 else 1
    started = time.monotonic()
    done = 0
    _CHUNK_WORLD = world
    try:
        if workers > 1 and "fork" in multiprocessing.get_all_start_methods():
            # Forked workers share the world read above; they never touch the database.
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                batches = pool.imap(_generate, chunks)
                for batch in batches:
                    done += _write_chunk(loader, batch, ids, done, count, started, say)
        else:
            for chunk in chunks:
                done += _write_chunk(loader, _generate(chunk), ids, done, count, started, say)
    finally:
        _CHUNK_WORLD = None


def _write_chunk(loader, batch: Batch, ids, done: int, count: int, started: float, say) -> int:
    _place(batch, ids)
    batch.write(loader)
    done += len(batch.incident)
    rate = done / max(time.monotonic() - started, 1e-6)
    say(f"incidents: {done:,}/{count:,} ({rate:,.0f}/s)")
    return len(batch.incident)
