"""The words the demo data set is made of: names, places, products, codes, scenarios and
articles, kept as YAML files in `data_files/` beside this module and read when the demo
generator is imported (only `cc-tui demo` and the benchmarks do that).

`generator.py` combines them with a seeded random generator, so the same seed always gives
the same data set. Addresses use the reserved `.example` domain so that no notification ever
reaches a real mailbox. Lists in the files are read as tuples, as the generator expects.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

FILES = Path(__file__).parent / "data_files"


def _tupled(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_tupled(item) for item in value)
    if isinstance(value, dict):
        return {key: _tupled(item) for key, item in value.items()}
    return value


@cache
def _read(name: str) -> dict[str, Any]:
    with (FILES / f"{name}.yaml").open(encoding="utf-8") as file:
        # libyaml's loader when PyYAML has it: a tenth of the pure-Python one's time.
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        return {key: _tupled(value) for key, value in yaml.load(file, Loader=loader).items()}


# --- company (company.yaml) ---
COMPANY: str = _read("company")["COMPANY"]
COMPANY_DOMAIN: str = _read("company")["COMPANY_DOMAIN"]
PORTAL: str = _read("company")["PORTAL"]

# --- people (people.yaml) ---
FIRST_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = _read("people")["FIRST_NAMES"]
SURNAMES: dict[str, tuple[str | tuple[str, str], ...]] = _read("people")["SURNAMES"]
COMPANY_PATTERNS: dict[str, tuple[str, ...]] = _read("people")["COMPANY_PATTERNS"]
CITIES: dict[str, tuple[tuple[str, str, str, str], ...]] = _read("people")["CITIES"]
STREETS: dict[str, tuple[str, ...]] = _read("people")["STREETS"]
COUNTRY_WEIGHTS: tuple[tuple[str, int], ...] = _read("people")["COUNTRY_WEIGHTS"]
COUNTRY_CODES: dict[str, str] = _read("people")["COUNTRY_CODES"]
MOBILE_PREFIXES: dict[str, tuple[str, ...]] = _read("people")["MOBILE_PREFIXES"]
CONTACT_ROLES: tuple[str, ...] = _read("people")["CONTACT_ROLES"]

# --- products (products.yaml) ---
ITEMS: tuple[tuple[str, str, str, int], ...] = _read("products")["ITEMS"]
UNIT_LOCATIONS: tuple[str, ...] = _read("products")["UNIT_LOCATIONS"]

# --- organisation (organisation.yaml) ---
CALENDAR_BUSINESS: str = _read("organisation")["CALENDAR_BUSINESS"]
CALENDAR_EXTENDED: str = _read("organisation")["CALENDAR_EXTENDED"]
CALENDAR_ALWAYS: str = _read("organisation")["CALENDAR_ALWAYS"]
DEPARTMENTS: tuple[tuple[str, str, str, bool], ...] = _read("organisation")["DEPARTMENTS"]
AGENTS: tuple[tuple[str, str, str, str | None, str, str | None], ...] = _read("organisation")[
    "AGENTS"
]

# --- codes (codes.yaml) ---
REASONS: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = _read("codes")["REASONS"]
RESOLUTIONS: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = _read("codes")[
    "RESOLUTIONS"
]
REQUEST_TYPES: tuple[tuple[str, str], ...] = _read("codes")["REQUEST_TYPES"]
WORK_ORDER_TEMPLATES: tuple[tuple[str, str, str, str | None, str, int, bool], ...] = _read("codes")[
    "WORK_ORDER_TEMPLATES"
]
WORK_ORDER_TASKS: dict[str, tuple[str, ...]] = _read("codes")["WORK_ORDER_TASKS"]
SERVICE_TREE: tuple[
    tuple[str, str, str, str, str, tuple[tuple[str, str, str | None], ...]], ...
] = _read("codes")["SERVICE_TREE"]
PRIORITIES: tuple[tuple[str, str, int, int, int, int, int, int, str, str | None, bool], ...] = (
    _read("codes")["PRIORITIES"]
)
ESCALATION_ACTIONS: tuple[tuple[str, str, str, str | None, str | None], ...] = _read("codes")[
    "ESCALATION_ACTIONS"
]
ROUTING_RULES: tuple[
    tuple[
        str,
        str | None,
        str | None,
        str | None,
        str | None,
        str | None,
        str | None,
        str,
        str | None,
        bool,
        str | None,
    ],
    ...,
] = _read("codes")["ROUTING_RULES"]
SUBCONTRACTS: tuple[tuple[str, str, str, str, str | None, str | None], ...] = _read("codes")[
    "SUBCONTRACTS"
]
BLOCK_REASONS: tuple[tuple[str, str], ...] = _read("codes")["BLOCK_REASONS"]

# --- scenarios (scenarios.yaml) ---
ACTION_SCENARIOS: tuple[dict, ...] = _read("scenarios")["ACTION_SCENARIOS"]
INFO_SCENARIOS: tuple[tuple[str, str, str, str, str | None], ...] = _read("scenarios")[
    "INFO_SCENARIOS"
]
COMMENTS: tuple[tuple[str, str, str], ...] = _read("scenarios")["COMMENTS"]
PENDING_REASONS: tuple[str, ...] = _read("scenarios")["PENDING_REASONS"]
ABANDON_NOTES: tuple[str, ...] = _read("scenarios")["ABANDON_NOTES"]
CALLBACK_NOTES: tuple[str, ...] = _read("scenarios")["CALLBACK_NOTES"]
EMAIL_OUT_NOTES: tuple[str, ...] = _read("scenarios")["EMAIL_OUT_NOTES"]
DISPATCH_NOTES: tuple[str, ...] = _read("scenarios")["DISPATCH_NOTES"]

# --- articles (articles.yaml) ---
KB_ARTICLES: tuple[dict, ...] = _read("articles")["KB_ARTICLES"]

# --- recent activity (activity.yaml) ---
MAILS: dict[str, dict[str, str]] = _read("activity")["MAILS"]
REPLIES: dict[str, str] = _read("activity")["REPLIES"]
CALLS: tuple[tuple[int, int, int, str, str], ...] = _read("activity")["CALLS"]
CALL_NOTES: dict[str, str] = _read("activity")["CALL_NOTES"]
