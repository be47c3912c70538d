"""The one partial-update convention of the edit services (incidents, deadlines, customers):
a keyword left at `UNSET` is not changed, `None` clears the field.
"""

from __future__ import annotations

from typing import Any


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()  # "not given", as opposed to None ("clear it")


def given(fields: dict[str, Any]) -> dict[str, Any]:
    """The fields the caller gave (those not left at UNSET)."""
    return {name: value for name, value in fields.items() if value is not UNSET}
