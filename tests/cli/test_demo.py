"""`cc-tui demo`: the demo data set is complete, coherent, idempotent, and scales by totals."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from cc_tui.models import Incident
from cc_tui.normalize import email_key, fold, name_terms, normalize_phone

# The loader writes through raw connections of its own.
pytestmark = pytest.mark.commits

OPEN = ("registered", "assigned", "in_process", "pending", "transferred")
ALL_STATUSES = (*OPEN, "solved", "closed", "abandoned")


def scalar(db, sql: str, **params):
    with db.engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def rows(db, sql: str, **params) -> list[tuple]:
    with db.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params)]


def run_demo(cli, *args: str, login: str = "admin") -> dict:
    result = cli("demo", *args, "--json", login=login)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_demo_loads_everything_once(cli, db):
    first = run_demo(cli)
    counts = first["counts"]
    assert counts["department"] >= 5 and counts["agent"] >= 30
    assert counts["customer"] == 300 and counts["contact"] >= 300 and counts["unit"] >= 300
    assert counts["incident"] > 350 and counts["event"] > 5 * counts["incident"]
    assert first["added"]["incident"] == counts["incident"]

    second = run_demo(cli)
    if second["escalated"]:
        # A clock ran out between the two runs: only the closing sweep's events (and the
        # alerts it queued for the consoles) are new.
        assert set(second["added"]) <= {"event", "notification"}
    else:
        assert second["counts"] == counts
        assert second["added"] == {}
    # The invoking login is still the admin; demo agents of every role exist.
    roles = dict(rows(db, "SELECT login, role FROM agent"))
    assert roles["admin"] == "admin"
    assert {"agent", "supervisor", "admin"} <= set(roles.values())
    # One change-feed row for each layer of the load, not one per row.
    marks = rows(db, "SELECT action FROM change WHERE entity = 'demo' ORDER BY id")
    assert marks == [("loaded",), ("activity",)]


def test_demo_content_is_complete_and_coherent(cli, db):
    run_demo(cli)
    statuses = dict(rows(db, "SELECT status, COUNT(*) FROM incident GROUP BY status"))
    assert set(ALL_STATUSES) <= set(statuses)
    assert {r[0] for r in rows(db, "SELECT DISTINCT request_type FROM incident")} == {
        "information",
        "action",
        "comment",
    }
    assert len(rows(db, "SELECT DISTINCT channel FROM incident")) >= 5
    kinds = {r[0] for r in rows(db, "SELECT DISTINCT kind FROM kb_article")}
    assert kinds == {"script", "phone", "url", "link"}
    assert scalar(db, "SELECT COUNT(*) FROM kb_article WHERE version > 1") >= 3
    assert (
        scalar(
            db,
            "SELECT COUNT(*) FROM kb_article a WHERE NOT EXISTS (SELECT 1 FROM kb_article_version "
            "v WHERE v.article_id = a.id AND v.version = a.version)",
        )
        == 0
    )
    # Links point at articles that exist.
    assert (
        scalar(
            db,
            "SELECT COUNT(*) FROM kb_article a WHERE a.kind = 'link' AND NOT EXISTS "
            "(SELECT 1 FROM kb_article b WHERE b.slug = a.link_slug)",
        )
        == 0
    )
    blocks = dict(rows(db, "SELECT block_level, COUNT(*) FROM customer GROUP BY block_level"))
    assert blocks.get("warn", 0) >= 3 and blocks.get("block", 0) >= 2
    assert (
        scalar(
            db, "SELECT COUNT(*) FROM customer WHERE block_level <> 'none' AND block_reason IS NULL"
        )
        == 0
    )
    # Blocked customers have no action requests (registration is refused for them).
    assert (
        scalar(
            db,
            "SELECT COUNT(*) FROM incident i JOIN customer c ON c.id = i.customer_id "
            "WHERE c.block_level = 'block' AND i.request_type = 'action'",
        )
        == 0
    )
    assert scalar(db, "SELECT COUNT(*) FROM priority WHERE is_default") == 1
    assert scalar(db, "SELECT COUNT(*) FROM routing_rule") >= 5
    assert scalar(db, "SELECT COUNT(*) FROM code WHERE work_order_template_id IS NOT NULL") > 5
    # Work orders: templates with checklists, orders of every kind, one order shared by
    # several customers' incidents, and each order-closed incident marked on its link.
    assert scalar(db, "SELECT COUNT(*) FROM work_order_template WHERE tasks IS NULL") == 0
    kinds = {k for (k,) in rows(db, "SELECT DISTINCT kind FROM work_order")}
    assert kinds == {"service", "subcontract", "repair"}
    assert (
        scalar(
            db,
            "SELECT MAX(n) FROM (SELECT COUNT(DISTINCT i.customer_id) AS n "
            "FROM incident_work_order w JOIN incident i ON i.id = w.incident_id "
            "GROUP BY w.work_order_id) t",
        )
        >= 2
    )
    closed_by_order = (
        "SELECT COUNT(*) FROM incident_work_order w JOIN incident i ON i.id = w.incident_id "
        "JOIN work_order o ON o.id = w.work_order_id WHERE "
    )
    assert scalar(db, closed_by_order + "w.closed_incident AND i.status <> 'closed'") == 0
    assert scalar(db, closed_by_order + "w.closed_incident") > 0
    assert scalar(db, "SELECT COUNT(*) FROM calendar_day") > 10
    assert scalar(db, "SELECT COUNT(*) FROM subcontract_agreement") >= 2
    assert scalar(db, "SELECT COUNT(*) FROM unit WHERE contract_id IS NOT NULL") > 0
    assert scalar(db, "SELECT COUNT(*) FROM service_contract WHERE priority_id IS NOT NULL") > 0
    _check_incidents(db)


def _check_incidents(db) -> None:
    """The rules every demo incident keeps, whatever layer made it."""
    now = datetime.now(UTC)
    assert (
        scalar(
            db,
            "SELECT COUNT(*) FROM incident i WHERE NOT EXISTS "
            "(SELECT 1 FROM event e WHERE e.incident_id = i.id)",
        )
        == 0
    )
    inconsistent = {
        "closed without closed_at": "status = 'closed' AND closed_at IS NULL",
        "closed before registered": "closed_at < registered_at",
        "solved before registered": "solved_at < registered_at",
        "assigned before registered": "assigned_at < registered_at",
        "registered before opened": "registered_at < opened_at",
        "response before opened": "first_response_at < opened_at",
        "solved without resolution": "status = 'solved' AND (actual_problem IS NULL OR "
        "actual_solution IS NULL OR resolution_general_id IS NULL OR "
        "resolution_specific_id IS NULL)",
        "solved without solved_at": "status = 'solved' AND solved_at IS NULL",
        "open with closed_at": "status IN ('registered','assigned','in_process','pending',"
        "'transferred') AND closed_at IS NOT NULL",
        "assigned without owner": "status IN ('assigned','in_process','pending') "
        "AND owner_id IS NULL",
        "registered with owner": "status = 'registered' AND owner_id IS NOT NULL",
        "pending without pause": "status = 'pending' AND (paused_since IS NULL OR NOT EXISTS "
        "(SELECT 1 FROM incident_pause p WHERE p.incident_id = incident.id "
        "AND p.ended_at IS NULL))",
        "transferred without work order": "status = 'transferred' AND NOT EXISTS "
        "(SELECT 1 FROM incident_work_order w WHERE w.incident_id = incident.id)",
        "abandoned with registration": "status = 'abandoned' AND registered_at IS NOT NULL",
        "rank out of step": "escalation_rank <> CASE escalation WHEN 'on_time' THEN 0 "
        "WHEN 'follow_up' THEN 1 WHEN 'warning' THEN 2 ELSE 3 END",
        "action without priority": "request_type = 'action' AND status <> 'abandoned' "
        "AND duplicate_of_id IS NULL AND priority_id IS NULL",
    }
    for what, condition in inconsistent.items():
        assert scalar(db, f"SELECT COUNT(*) FROM incident WHERE {condition}") == 0, what
    latest = scalar(
        db, "SELECT MAX(x) FROM (SELECT MAX(at) AS x FROM event UNION ALL "
        "SELECT MAX(closed_at) FROM incident UNION ALL SELECT MAX(opened_at) FROM incident) t"
    )  # fmt: skip
    if isinstance(latest, str):
        latest = datetime.fromisoformat(latest).replace(tzinfo=UTC)
    assert latest is not None and latest <= now
    # The timeline reads in time order, event ids follow time within an incident.
    assert (
        scalar(
            db,
            "SELECT COUNT(*) FROM event a JOIN event b ON b.incident_id = a.incident_id "
            "AND b.id = (SELECT MIN(c.id) FROM event c WHERE c.incident_id = a.incident_id "
            "AND c.id > a.id) WHERE b.at < a.at",
        )
        == 0
    )
    # Status changes carry from/to; every status change ends where the incident is.
    bad_data = 0
    for (data,) in rows(
        db,
        "SELECT e.data FROM event e JOIN event_type t ON t.id = e.event_type_id "
        "WHERE t.code = 'StatusChange'",
    ):
        value = json.loads(data) if isinstance(data, str) else data
        bad_data += not ({"from", "to"} <= set(value))
    assert bad_data == 0
    last_status = rows(
        db,
        "SELECT i.status, e.data FROM incident i JOIN event e ON e.id = (SELECT MAX(x.id) "
        "FROM event x JOIN event_type t ON t.id = x.event_type_id "
        "WHERE x.incident_id = i.id AND t.code IN ('StatusChange', 'Contact') "
        "AND x.data IS NOT NULL AND i.duplicate_of_id IS NULL)",
    )
    for status, data in last_status:
        value = json.loads(data) if isinstance(data, str) else data
        if "to" in value:
            assert value["to"] == status, (status, value)


def test_demo_ends_with_an_escalation_sweep(db, admin, monkeypatch):
    """Clocks that run out while the demo loads are escalated before it returns."""
    import cc_tui.demo.generator as demo
    from cc_tui.clock import system_now
    from tests import factories as f

    # A load that took three days: its data is as of then, the board reads it now.
    clock = f.fake_clock(monkeypatch, system_now() - timedelta(days=3))
    sweep = demo._sweep

    def sweep_three_days_later(*args):
        clock.now = system_now()
        return sweep(*args)

    monkeypatch.setattr(demo, "_sweep", sweep_three_days_later)
    summary = demo.load_demo(db, login="admin")
    assert summary.escalated > 0
    now = datetime.now(UTC)
    with db.session(write=False) as session:
        overdue = session.scalar(
            select(func.count())
            .select_from(Incident)
            .where(
                Incident.status.in_(("registered", "assigned", "in_process", "transferred")),
                Incident.escalate_at <= now,
            )
        )
    assert overdue == 0


def test_scale_tops_up_to_totals_with_valid_keys(cli, db):
    summary = run_demo(cli, "--incidents", "2000", "--customers", "500")
    assert summary["counts"]["incident"] == 2000
    assert summary["counts"]["customer"] == 500
    again = run_demo(cli, "--incidents", "2000", "--customers", "500")
    assert again["added"] == {}
    smaller = run_demo(cli, "--incidents", "1500")
    assert smaller["counts"]["incident"] == 2000
    _check_foreign_keys(db)
    _check_incidents(db)
    open_share = scalar(
        db,
        "SELECT COUNT(*) FROM incident WHERE status IN "
        "('registered','assigned','in_process','pending','transferred')",
    )
    assert 0 < open_share < 2000 * 0.25
    per_incident = scalar(db, "SELECT COUNT(*) FROM event") / 2000
    assert 3 <= per_incident <= 10
    # Scale customers are stored as the services store them.
    checked = 0
    for name, search, phone, e164, country, email, key in rows(
        db,
        "SELECT name, search_name, phone, phone_e164, country, email, email_key FROM customer "
        "ORDER BY id DESC LIMIT 150",
    ):
        assert search == fold(name)
        assert key == email_key(email)
        assert normalize_phone(phone, country) == e164, (phone, country, e164)
        checked += 1
    for phone, e164, mobile, mobile164, country in rows(
        db,
        "SELECT k.phone, k.phone_e164, k.mobile, k.mobile_e164, c.country FROM contact k "
        "JOIN customer c ON c.id = k.customer_id ORDER BY k.id DESC LIMIT 150",
    ):
        assert normalize_phone(phone, country) == e164
        if mobile:
            assert normalize_phone(mobile, country) == mobile164
    assert checked == 150


def _check_foreign_keys(db) -> None:
    if db.is_sqlite:
        assert rows(db, "PRAGMA foreign_key_check") == []
        return
    assert (
        scalar(db, "SELECT COUNT(*) FROM pg_constraint WHERE contype = 'f' AND NOT convalidated")
        == 0
    )
    for table, column, parent in (
        ("event", "incident_id", "incident"),
        ("event", "author_id", "agent"),
        ("event", "contact_id", "contact"),
        ("incident", "customer_id", "customer"),
        ("incident", "unit_id", "unit"),
        ("incident", "owner_id", "agent"),
        ("incident_work_order", "work_order_id", "work_order"),
        ("unit", "contract_id", "service_contract"),
    ):
        orphans = scalar(
            db,
            f"SELECT COUNT(*) FROM {table} t WHERE t.{column} IS NOT NULL AND NOT EXISTS "
            f"(SELECT 1 FROM {parent} p WHERE p.id = t.{column})",
        )
        assert orphans == 0, (table, column)


def test_large_load_drops_and_restores_indexes_and_keys(db, admin, monkeypatch):
    """The path a million-incident load takes: indexes and keys are back afterwards."""
    import cc_tui.demo.generator as demo

    def catalog():
        if db.is_sqlite:
            return sorted(rows(db, "SELECT name, sql FROM sqlite_master WHERE type = 'index'"))
        # PostgreSQL prints a recreated index's predicate differently: compare names.
        indexes = rows(
            db, "SELECT tablename, indexname FROM pg_indexes WHERE schemaname = 'public'"
        )
        keys = rows(
            db, "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'f'"
        )
        return sorted(indexes + keys)

    demo.load_demo(db, login="admin")
    before = catalog()
    monkeypatch.setattr(demo, "SUSPEND_THRESHOLD", 0)
    messages: list[str] = []
    summary = demo.load_demo(
        db, login="admin", incidents=1200, customers=400, progress=messages.append
    )
    assert summary.counts["incident"] == 1200
    assert any("rebuilt" in m for m in messages)
    assert catalog() == before
    _check_foreign_keys(db)
    # New rows after the load get fresh ids (PostgreSQL sequences were moved on).
    with db.session() as session:
        from cc_tui.models import Change

        change = Change(entity="test", action="after-load")
        session.add(change)
        session.flush()
        assert change.id is not None
    with db.engine.begin() as conn:
        top = conn.execute(text("SELECT MAX(id) FROM incident")).scalar()
        conn.execute(
            text(
                "INSERT INTO incident (channel, request_type, status, priority_rank, "
                "created_by_id, opened_at, deadlines_manual, escalation, escalation_rank, "
                "paused_minutes, kb_searches, version, updated_at) VALUES ('phone', 'comment', "
                "'draft', 9, :agent, :now, false, 'on_time', 0, 0, 0, 1, :now)"
            ),
            {"agent": admin.id, "now": datetime.now(UTC).replace(tzinfo=None)},
        )
        assert conn.execute(text("SELECT MAX(id) FROM incident")).scalar() == top + 1


def test_customer_words_are_indexed(cli, db):
    run_demo(cli)
    terms: dict[int, set[str]] = {}
    for customer_id, term in rows(
        db, "SELECT customer_id, term FROM customer_token WHERE contact_id IS NULL"
    ):
        terms.setdefault(customer_id, set()).add(term)
    names = rows(db, "SELECT id, name FROM customer")
    assert names
    for customer_id, name in names:
        assert name_terms(name) <= terms.get(customer_id, set()), name
    accented = [n for _, n in names if fold(n) != n.lower()]
    assert accented, "names with accents are part of the demo"


def test_demo_needs_an_admin_and_keeps_the_invoking_role(cli, db):
    from cc_tui.models import Agent

    with db.session() as session:
        session.add(Agent(login="katrin.vogel", name="Katrin V.", role="admin"))
        session.add(Agent(login="plain", name="Plain Agent", role="agent"))
    refused = cli("demo", login="plain")
    assert refused.exit_code == 1
    assert "admin" in refused.stderr
    assert scalar(db, "SELECT COUNT(*) FROM incident") == 0
    run_demo(cli, login="katrin.vogel")
    assert scalar(db, "SELECT role FROM agent WHERE login = 'katrin.vogel'") == "admin"
    assert scalar(db, "SELECT name FROM agent WHERE login = 'katrin.vogel'") == "Katrin V."


def test_negative_totals_are_a_usage_error(cli):
    result = cli("demo", "--incidents", "-5")
    assert result.exit_code == 2
    assert result.stdout == ""


def test_same_seed_same_data(tmp_path):
    """Reproducible: two databases loaded at the same moment hold the same rows."""
    from cc_tui.db.engine import Database
    from cc_tui.db.migrate import upgrade
    from cc_tui.demo.generator import load_demo
    from cc_tui.services.context import bootstrap_admin

    moment = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    snapshots = []
    for name in ("a", "b"):
        db = Database(f"sqlite:///{tmp_path / name}.sqlite3")
        upgrade(db)
        with db.session() as session:
            bootstrap_admin(session, "admin")
        load_demo(db, login="admin", incidents=600, customers=350, now=moment)
        snapshots.append(
            rows(db, "SELECT id, status, title, customer_id, opened_at, closed_at FROM incident")
            + rows(db, "SELECT id, number, name, phone_e164 FROM customer")
            + rows(db, "SELECT COUNT(*), MAX(id) FROM event")
            + rows(db, "SELECT call_id, state, customer_id, incident_id, rang_at FROM phone_call")
            + rows(db, "SELECT message_id, status, incident_id, sha256 FROM mail_message")
            + rows(
                db, "SELECT reason, incident_id, status, last_error, message_id FROM notification"
            )
        )
        db.dispose()
    assert snapshots[0] == snapshots[1]


def test_recent_activity_fills_the_call_log_mail_and_outbox(cli, db):
    """Calls, e-mail and notifications are there, made as the services make them."""
    from cc_tui.services.context import resolve_actor
    from cc_tui.services.cti.callbacks import callback_list
    from cc_tui.services.cti.calls import list_calls
    from cc_tui.services.incidents.timeline import timeline
    from cc_tui.services.mail.intake import attachment_content, attachments, quarantine_list
    from cc_tui.services.mail.mailboxes import list_mailboxes, parse_url
    from cc_tui.services.notify.sender import list_outbox

    run_demo(cli)
    with db.session(write=False) as s:
        # The caller log: answered and missed calls, callers identified, two taken.
        calls = list_calls(s)
        assert len(calls) == 10
        assert {c.state for c in calls} == {"ended", "missed"}
        assert all(c.agent is None for c in calls if c.state == "missed")
        assert all(c.agent and c.answered_at for c in calls if c.state == "ended")
        assert sum(c.customer is not None for c in calls) >= 7
        taken = [c for c in calls if c.incident_id is not None]
        assert len(taken) == 2
        today = [c for c in calls if c.rang_at >= datetime.now(UTC) - timedelta(hours=3)]
        assert len(today) >= 7
        supervisor = resolve_actor(s, "katrin.vogel")
        assert len(callback_list(s, actor=supervisor)) == 3
        # The mailbox: loopback, no password stored, not read until activated; not the
        # benchmark's name.
        assert list_mailboxes(s) == []
        (box,) = list_mailboxes(s, inactive=True)
        assert box.name == "support" and box.password_file is None and not box.active
        assert parse_url(box.url).loopback
        # The quarantine: the scanner's message without a sender, the blocked customer's.
        reasons = sorted(r.reason or "" for r in quarantine_list(s))
        assert len(reasons) == 2
        assert reasons[0].startswith("cannot be filed:") and "is blocked" in reasons[0]
        assert reasons[1].startswith("no sender address")
        # The outbox: sent, waiting (one greylisted, with the server's answer) and failed.
        outbox = list_outbox(s)
        states = {r.status for r in outbox}
        assert states == {"sent", "queued", "failed"}
        (failed,) = [r for r in outbox if r.status == "failed"]
        assert "550" in (failed.last_error or "")
        assert any(r.status == "queued" and "451" in (r.last_error or "") for r in outbox)
        assert any(r.status == "queued" and r.attempts == 0 for r in outbox)
        assert all(r.message_id for r in outbox if r.status == "sent")
        # A conversation: the request (with its attachment), our reply, the customer's answer
        # threaded by In-Reply-To to the reply that was sent.
        (printer,) = [r for r in outbox if r.event == "reply" and r.status == "sent"]
        assert printer.incident is not None
        events = timeline(s, ref=printer.incident, kind="contact").events
        assert [e.type for e in events] == ["EmailIn", "EmailOut", "EmailIn"]
        files = attachments(s, int(printer.incident.split("-")[1]))
        assert [f.filename for f in files] == ["ereignisprotokoll.csv"]
        _name, content = attachment_content(s, int(printer.incident.split("-")[1]), files[0].id)
        assert content.startswith(b"Zeitpunkt;Code;Meldung")
    answer = rows(
        db,
        "SELECT m.in_reply_to, n.message_id FROM mail_message m JOIN notification n "
        "ON n.incident_id = m.incident_id AND n.reason = 'reply' "
        "WHERE m.direction = 'in' AND m.subject LIKE 'AW:%'",
    )
    assert answer and answer[0][0] == answer[0][1]
    # Every filed message points at its incident; an auto-reply joined its thread.
    assert (
        scalar(
            db,
            "SELECT COUNT(*) FROM mail_message WHERE status = 'processed' AND direction = 'in' "
            "AND incident_id IS NULL",
        )
        == 0
    )
    assert scalar(db, "SELECT COUNT(*) FROM mail_message WHERE kind = 'auto-reply'") == 1
    # A call added to an open incident closed its contact without mailing the caller.
    assert (
        scalar(
            db,
            "SELECT COUNT(*) FROM notification n JOIN incident i ON i.id = n.incident_id "
            "WHERE i.duplicate_of_id IS NOT NULL",
        )
        == 0
    )
    _check_incidents(db)
