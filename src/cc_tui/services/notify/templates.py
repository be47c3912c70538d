"""Message templates per event: shipped defaults, overridable as files.

A template is a text file `<event>.txt` (`<event>.<language>.txt` for a language such as
`de`, chosen by the customer's `language`): a first line `Subject: ...`, a blank line, the
body. Admins override one by putting a file of that name into the `templates` folder next
to the config file (or the folder named by `notify_templates`). They are rendered by
jinja2's sandbox, so a template can read the values it is given and do nothing else.

Events: registered, handed_over, solved, closed (to customers), escalation (to agents),
reply (the greeting an agent's reply starts from). An SMS template, `<event>_sms.txt`,
is the short text alone.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import select
from sqlmodel import Session, col

from cc_tui.errors import NotFound, UsageError
from cc_tui.models import Contact, Customer, Incident
from cc_tui.services.incidents.base import number

_NAME = re.compile(r"^[a-z][a-z_]{0,39}(\.[a-z]{2,8})?$")
_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


# `<event>_sms`: the text of an SMS about the event.
SMS_SUFFIX = "_sms"


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


def template_names(folder: Path | None = None) -> list[str]:
    shipped = {p.name for p in resources.files(__package__).joinpath("templates").iterdir()}
    own = {p.name for p in folder.glob("*.txt")} if folder and folder.is_dir() else set()
    return sorted(name.removesuffix(".txt") for name in shipped | own if name.endswith(".txt"))


def _find(name: str, folder: Path | None) -> str | None:
    if folder is not None:
        own = folder / f"{name}.txt"
        if own.is_file():
            return own.read_text(encoding="utf-8")
    shipped = resources.files(__package__).joinpath("templates", f"{name}.txt")
    return shipped.read_text(encoding="utf-8") if shipped.is_file() else None


def source(name: str, folder: Path | None = None, language: str | None = None) -> str:
    """The template's text: the admin's file if there is one, else the shipped one; in
    `language` when there is such a file (admin's or shipped), else the default one."""
    if not _NAME.match(name):
        raise UsageError(f"not a template name: {name!r}", field="template")
    lang = (language or "").strip().lower()
    if lang and "." not in name and re.fullmatch(r"[a-z]{2,8}", lang):
        found = _find(f"{name}.{lang}", folder)
        if found is not None:
            return found
    found = _find(name, folder)
    if found is None:
        raise NotFound(f"no template {name!r}; one of: {', '.join(template_names(folder))}")
    return found


def language_of(session: Session, incident: Incident) -> str | None:
    """The customer's language for their messages, if they have one."""
    if not incident.customer_id:
        return None
    return session.scalar(
        select(col(Customer.language)).where(col(Customer.id) == incident.customer_id)
    )


def values(
    incident: Incident,
    *,
    customer: str | None,
    contact: str | None,
    work_order: int | None = None,
    agent: str | None = None,
    alert: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What a template may use: plain values, never rows (`customer`, `contact`: names)."""
    return {
        "incident": {
            "number": number(incident.id or 0),
            "title": incident.title,
            "status": incident.status,
            "request_type": incident.request_type,
            "problem": incident.actual_problem,
            "solution": incident.actual_solution,
        },
        "customer": contact or incident.caller_name or customer,
        "work_order": f"WO-{work_order}" if work_order else None,
        "agent": agent,
        "alert": alert or {"subject": "", "body": "", "state": ""},
    }


def context(
    session: Session,
    incident: Incident,
    *,
    work_order: int | None = None,
    agent: str | None = None,
    alert: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """`values` for one incident, its names read here."""
    customer = (
        session.scalar(select(col(Customer.name)).where(col(Customer.id) == incident.customer_id))
        if incident.customer_id
        else None
    )
    contact = (
        session.scalar(select(col(Contact.name)).where(col(Contact.id) == incident.contact_id))
        if incident.contact_id
        else None
    )
    return values(
        incident,
        customer=customer,
        contact=contact,
        work_order=work_order,
        agent=agent,
        alert=alert,
    )


@functools.lru_cache(maxsize=128)
def _compiled(text: str) -> Template:
    """A template's text compiled once (compiling costs far more than rendering); an
    admin's edited file is new text, so it is compiled anew."""
    return _ENV.from_string(text)


def render(
    name: str, values: dict[str, Any], folder: Path | None = None, language: str | None = None
) -> Rendered:
    text = source(name, folder, language)
    try:
        out = _compiled(text).render(**values)
    except TemplateError as exc:
        raise UsageError(f"template {name!r}: {exc}", field="template") from exc
    head, _, body = out.partition("\n\n")
    if not head.startswith("Subject:"):
        raise UsageError(f"template {name!r} does not start with 'Subject: '", field="template")
    return Rendered(
        subject=" ".join(head.removeprefix("Subject:").split()), body=body.strip() + "\n"
    )


def render_text(
    name: str, values: dict[str, Any], folder: Path | None = None, language: str | None = None
) -> str:
    """A template without a subject (an SMS), white space folded to single spaces."""
    try:
        out = _compiled(source(name, folder, language)).render(**values)
    except TemplateError as exc:
        raise UsageError(f"template {name!r}: {exc}", field="template") from exc
    return " ".join(out.split())


def preview(session: Session, name: str, ref: str | int, folder: Path | None = None) -> Rendered:
    """A template rendered for an incident, as the sender would (nothing is queued)."""
    from cc_tui.services.incidents.base import parse_ref

    incident = session.get(Incident, parse_ref(ref))
    if incident is None:
        raise NotFound(f"no incident {ref}")
    if name.endswith(SMS_SUFFIX):
        return Rendered(
            subject="",
            body=render_text(
                name, context(session, incident), folder, language_of(session, incident)
            ),
        )
    alert = None
    if name.startswith("escalation"):
        alert = {
            "subject": f"{number(incident.id or 0)} is escalated: {incident.title or ''}",
            "body": f"{number(incident.id or 0)} reached an escalation state",
            "state": "(example)",
        }
    return render(
        name,
        context(session, incident, alert=alert),
        folder,
        language_of(session, incident),
    )
