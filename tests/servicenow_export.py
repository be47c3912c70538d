"""A generated ServiceNow-style incident export (CSV), for the importer's tests and benchmark.

`generate(n, seed)` returns the CSV text and the rows it holds (as dicts of cells, the bad
ones marked with the reason the importer must give), so tests can compute the expected
figures from the rows in plain Python.
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

COLUMNS = [
    "number",
    "opened_at",
    "resolved_at",
    "closed_at",
    "state",
    "priority",
    "category",
    "subcategory",
    "assignment_group",
    "assigned_to",
    "caller_id",
    "short_description",
    "closed_by",
    "location",
    "contact_type",
    "opened_by",
    "sys_created_by",
    "close_code",
    "close_notes",
]
PRIORITIES = ["1 - Critical", "2 - High", "3 - Moderate", "4 - Low", "5 - Planning"]
CATEGORIES = {
    "Hardware": ["Monitor", "Keyboard", "Disk"],
    "Software": ["Email", "Operating System", "Office"],
    "Network": ["VPN", "Wireless", "DHCP"],
    "Inquiry / Help": ["Password", "Access"],
    "Database": ["Oracle", "DB2"],
}
GROUPS = ["Service Desk", "Hardware", "Network", "Software", "Database", "Field Services"]
FIRST = ["Beth", "David", "Fred", "Abel", "Bud", "Carol", "Jürgen", "Zoë", "Don", "Luke"]
LAST = ["Anglin", "Loo", "Luddy", "Tuter", "Richman", "Coughlin", "Müller", "Núñez", "Goodliffe"]
LOCATIONS = ["Paris, France", "100 South Charles Street, Baltimore", "Berlin", "Madrid"]
CONTACTS = ["phone", "email", "self-service", "walk-in", "chat"]
CLOSE_CODES = [
    "Solved (Permanently)",
    "Solved (Work Around)",
    "Solved Remotely (Permanently)",
    "Not Solved (Not Reproducible)",
    "Not Solved (Too Costly)",
    "Closed/Resolved by Caller",
]


@dataclass
class Export:
    text: str
    rows: list[dict[str, str]]  # every data row, in file order
    bad: dict[int, str] = field(default_factory=dict)  # line -> a word of the reason
    lines: list[int] = field(default_factory=list)  # line of each row

    @property
    def good(self) -> list[dict[str, str]]:
        return [r for r, line in zip(self.rows, self.lines, strict=True) if line not in self.bad]


def login(name: str) -> str:
    """The user name ServiceNow writes in sys_created_by: 'Beth Anglin 3' -> 'beth.anglin.3'."""
    return ".".join(name.lower().split())


def _fmt(moment: datetime | None) -> str:
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S")


def generate(
    n: int,
    *,
    seed: int = 7,
    start: datetime = datetime(2025, 1, 1),
    days: int = 365,
    bad_every: int = 0,
    agents: int = 40,
    callers: int = 2000,
    first_number: int = 10001,
) -> Export:
    """n data rows over `days` days from `start` (naive: the export's wall clock).

    Who registered a row: `opened_by` (a name) on most, else `sys_created_by` (a login, the
    way ServiceNow writes it), and on one row in ten neither. Resolved and closed rows carry
    a `close_code` and `close_notes`, canceled ones none.

    With `bad_every` k, every k-th row is spoiled in one of the ways the importer refuses."""
    rng = random.Random(seed)
    # The registering agent and the resolution come from a generator of their own, so the
    # other columns are the same as in files made before these columns were.
    more = random.Random(seed + 1)
    people = [f"{rng.choice(FIRST)} {rng.choice(LAST)} {i}" for i in range(agents)]
    persons = [f"{rng.choice(FIRST)} {rng.choice(LAST)}-{i}" for i in range(callers)]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    export = Export(text="", rows=[])
    line = 1
    for i in range(n):
        opened = start + timedelta(seconds=rng.randrange(days * 86400))
        resolved = opened + timedelta(minutes=rng.randrange(5, 10 * 1440))
        state = rng.choice(["Closed", "Closed", "Closed", "Resolved", "Canceled"])
        closed = None
        if state == "Closed":
            closed = resolved + timedelta(minutes=rng.randrange(0, 3 * 1440))
        elif state == "Canceled":
            resolved, closed = None, opened + timedelta(minutes=rng.randrange(1, 600))
        category = rng.choice(list(CATEGORIES))
        row = {
            "number": f"INC{first_number + i:07d}",
            "opened_at": _fmt(opened),
            "resolved_at": _fmt(resolved),
            "closed_at": _fmt(closed),
            "state": state,
            "priority": rng.choice(PRIORITIES),
            "category": category,
            "subcategory": rng.choice(CATEGORIES[category]),
            "assignment_group": rng.choice(GROUPS),
            "assigned_to": rng.choice(people),
            "caller_id": rng.choice(persons),
            "short_description": f"Problem {i}: " + rng.choice(["printer", "mail", "vpn"]),
            "closed_by": rng.choice(people) if closed else "",
            "location": rng.choice(LOCATIONS),
            "contact_type": rng.choice(CONTACTS),
        }
        opener = more.choice(people)
        registered = more.random()
        row["opened_by"] = opener if registered < 0.7 else ""
        row["sys_created_by"] = login(opener) if 0.5 < registered < 0.9 else ""
        row["close_code"] = more.choice(CLOSE_CODES) if resolved else ""
        row["close_notes"] = f"Fixed: {row['short_description']}" if resolved else ""
        line += 1
        if bad_every and i % bad_every == bad_every - 1:
            kind = (i // bad_every) % 5
            if kind == 0:
                row["opened_at"] = "yesterday at noon"
                export.bad[line] = "not a date"
            elif kind == 1:
                row["number"] = ""
                export.bad[line] = "number is empty"
            elif kind == 2:
                row["state"], row["resolved_at"] = "Closed", ""
                row["closed_at"] = _fmt(opened - timedelta(hours=2))
                export.bad[line] = "closed before opened"
            elif kind == 3:
                row["state"] = "In Progress"
                export.bad[line] = "not closed history"
            else:
                row["priority"] = "urgent-ish"
                export.bad[line] = "priority"
        writer.writerow([row[c] for c in COLUMNS])
        export.rows.append(row)
        export.lines.append(line)
    export.text = out.getvalue()
    return export
