"""Reports as files: CSV (one row per report row) and XLSX (the rows, then the totals)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any


def flat_rows(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    """Nested figures become columns: `to_response` {mean_minutes} -> to_response_mean_minutes."""
    headers: list[str] = []
    flat: list[dict[str, Any]] = []
    for row in rows:
        out: dict[str, Any] = {}
        for key, value in row.items():
            if isinstance(value, dict):
                for inner, v in value.items():
                    out[f"{key}_{inner}"] = v
            else:
                out[key] = value
        for key in out:
            if key not in headers:
                headers.append(key)
        flat.append(out)
    return headers, [[row.get(h) for h in headers] for row in flat]


def _cell(value: Any) -> Any:
    # A spreadsheet runs a text cell that starts like a formula: keep customer text inert.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def write_csv(report: dict[str, Any], path: Path) -> None:
    headers, rows = flat_rows(report["rows"])
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(headers)
        writer.writerows([[_cell(v) for v in row] for row in rows])


def write_xlsx(report: dict[str, Any], path: Path) -> None:
    from openpyxl import Workbook  # type: ignore[import-untyped]

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = str(report.get("report", "report"))[:31]
    headers, rows = flat_rows(report["rows"])
    sheet.append(headers)
    for row in rows:
        sheet.append([_cell(v) for v in row])
    about = book.create_sheet("about")
    for key, value in report.items():
        if key != "rows":
            about.append([key, _cell(value) if not isinstance(value, dict | list) else str(value)])
    book.save(path)


def write_rows_csv(headers: list[str], rows: list[list[Any]], path: Path) -> None:
    """A list as shown on screen, one CSV row per list row; never over an existing file
    (`x` mode), formula-like cells kept inert."""
    with path.open("x", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(headers)
        writer.writerows([[_cell(v) for v in row] for row in rows])
