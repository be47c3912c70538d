"""The numpy half of the time analysis (see `times`): comma-joined columns parsed into
arrays, working minutes on a calendar by `searchsorted`, and the figures of a group.

Imported only when a report computes: loading numpy takes 0.1 s or more, which neither the
console's start nor the Reports screen's first paint should pay.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from cc_tui.services.worktime.hours import WorkCalendar

Floats = npt.NDArray[np.float64]


# PostgreSQL's binary timestamps count microseconds from 2000-01-01 UTC.
_PG_EPOCH_SECONDS = 946_684_800.0
_NONE = np.iinfo(np.int64).min


def integers(joined: str | bytes | None) -> npt.NDArray[np.int64]:
    """Integers in one piece -> int64: comma-joined text, or 8-byte big-endian numbers end
    to end (PostgreSQL's `int8send`); None is none."""
    if not joined:
        return np.zeros(0, dtype=np.int64)
    if isinstance(joined, bytes):
        return np.frombuffer(joined, dtype=">i8").astype(np.int64)
    return np.fromstring(joined, dtype=np.int64, sep=",")


def seconds(joined: str | bytes) -> Floats:
    """Instants in one piece -> seconds since 1970 as float64, NaN for none: PostgreSQL's
    8-byte timestamps end to end (microseconds since 2000, the smallest int64 for none),
    or SQLite's comma-joined UTC wall times ('YYYY-MM-DD HH:MM:SS[.ffffff]', '' for
    none)."""
    if isinstance(joined, bytes):
        micros = integers(joined)
        out = micros / 1e6 + _PG_EPOCH_SECONDS
        out[micros == _NONE] = np.nan
        return out
    instants = np.array(joined.split(","), dtype="datetime64[us]")
    out = instants.astype(np.int64) / 1e6
    out[np.isnat(instants)] = np.nan
    return out


def keys(joined: str | bytes, *, numeric: bool) -> tuple[list[Any], npt.NDArray[np.intp]]:
    """Group keys in one piece -> the distinct keys (None for no value) and each value's
    index among them. Numeric keys are ids (`integers`), -1 for none (sorted by `unique`);
    text keys are comma-joined, '' for none, found with a dict (twice as fast as
    `unique`'s sort on text)."""
    if numeric or isinstance(joined, bytes):
        distinct, codes = np.unique(integers(joined), return_inverse=True)
        return [None if k < 0 else int(k) for k in distinct], codes
    index: dict[str, int] = {}
    found = [index.setdefault(k, len(index)) for k in joined.split(",")]
    return [k or None for k in index], np.array(found, dtype=np.intp)


def booked(
    ids: npt.NDArray[np.int64], entry_ids: npt.NDArray[np.int64], minutes: npt.NDArray[np.int64]
) -> Floats:
    """The minutes booked on each incident of `ids` (NaN when none) from finished time
    entries given as their incident's id and minutes, in any order."""
    order = np.argsort(ids)
    ordered = ids[order]
    at = np.searchsorted(ordered, entry_ids)
    found = at < len(ordered)
    found[found] = ordered[at[found]] == entry_ids[found]
    sums = np.bincount(at[found], weights=minutes[found], minlength=len(ids))
    entries = np.bincount(at[found], minlength=len(ids))
    out = np.full(len(ids), np.nan)
    out[order] = np.where(entries > 0, sums, np.nan)
    return out


class WorkingClock:
    """Working seconds since the first day of a calendar's range, at any instant of it: the
    working spans of every local day in the range (as `worktime.hours` computes them, DST
    and holidays included) laid out as arrays with their running total, looked up with
    `searchsorted`. The working time between two instants is the difference of the two
    readings, as `working_time` sums it day by day."""

    def __init__(self, cal: WorkCalendar | None, first: float, last: float) -> None:
        self.always = cal is None or cal.always
        opens: list[float] = []
        lengths: list[float] = []
        if cal is not None and not self.always:
            day = datetime.fromtimestamp(first, UTC).astimezone(cal.zone).date()
            day -= timedelta(days=1)
            end = datetime.fromtimestamp(last, UTC).astimezone(cal.zone).date()
            end += timedelta(days=1)
            while day <= end:
                for starts, stops in cal.spans(day):
                    opens.append(starts.timestamp())
                    lengths.append((stops - starts).total_seconds())
                day += timedelta(days=1)
        self.opens = np.array(opens, dtype=np.float64)
        self.lengths = np.array(lengths, dtype=np.float64)
        # The working seconds before each span.
        self.before = np.cumsum(self.lengths) - self.lengths

    def readings(self, t: Floats) -> Floats:
        """Working seconds up to each instant: 0 before the first span, the span's running
        total plus the part of it worked (all of it once it has closed)."""
        if not len(self.opens):
            return np.zeros_like(t)
        at = np.searchsorted(self.opens, t, side="right") - 1
        inside = np.maximum(at, 0)
        got = self.before[inside] + np.minimum(t - self.opens[inside], self.lengths[inside])
        return np.where(at >= 0, got, 0.0)

    def minutes(self, start: Floats, end: Floats) -> Floats:
        """Working minutes from each start to its end: 0 when the end is not after the
        start, NaN when there is no end."""
        worked = end - start if self.always else self.readings(end) - self.readings(start)
        out = np.where(end > start, worked / 60.0, 0.0)
        out[np.isnan(end)] = np.nan
        return out


def working_minutes(
    calendars: str | bytes,
    opened: Floats,
    ends: dict[str, Floats],
    calendar: Callable[[int | None], WorkCalendar | None],
) -> dict[str, Floats]:
    """Each span's working minutes on its incident's calendar (calendar ids in one piece,
    `integers`, -1 for 24/7): every calendar laid out once over its own incidents' first
    start to their last end (one far-off date on another calendar's incident does not
    widen it), its incidents measured together."""
    ids, calendar_of = keys(calendars, numeric=True)
    out = {name: np.full(opened.shape, np.nan) for name in ends}
    for index, calendar_id in enumerate(ids):
        mine = calendar_of == index
        start = opened[mine]
        mine_ends = {name: ended[mine] for name, ended in ends.items()}
        last = float(np.nanmax(np.concatenate([start, *mine_ends.values()])))
        clock = WorkingClock(calendar(calendar_id), float(start.min()), last)
        for name, ended in mine_ends.items():
            out[name][mine] = clock.minutes(start, ended)
    return out


def ranks(n: int, num: int, den: int) -> tuple[int, int, float]:
    """0-based ranks around the num/den quantile of n values and the weight of the upper:
    exact integer arithmetic, no rounding of num/den."""
    scaled = num * (n - 1)
    return scaled // den, (scaled + den - 1) // den, (scaled % den) / den


def percentile(ordered: Sequence[float] | Floats, num: int, den: int) -> float:
    """Linear interpolation between closest ranks of sorted values (`percentile_cont`,
    numpy's default method)."""
    low, high, weight = ranks(len(ordered), num, den)
    return float(ordered[low] + (ordered[high] - ordered[low]) * weight)


def figures(values: Floats) -> dict[str, Any]:
    """Count, mean, median, p90, min and max of the values present (NaN is none), None
    when there are none; the median and p90 as `percentile_cont` computes them."""
    present = np.sort(values[~np.isnan(values)])
    if not present.size:
        return {
            "count": 0,
            "mean_minutes": None,
            "median_minutes": None,
            "p90_minutes": None,
            "min_minutes": None,
            "max_minutes": None,
        }
    return {
        "count": int(present.size),
        "mean_minutes": _round(present.mean()),
        "median_minutes": _round(percentile(present, 1, 2)),
        "p90_minutes": _round(percentile(present, 9, 10)),
        "min_minutes": _round(present[0]),
        "max_minutes": _round(present[-1]),
    }


def total(values: Floats) -> float:
    """The sum of the values present."""
    return float(np.nansum(values))


def _round(value: Any) -> float:
    return round(float(value), 2)


def members(group_of: npt.NDArray[np.intp], count: int) -> list[npt.NDArray[np.intp]]:
    """The positions of each group's values (groups 0..count-1), from one stable sort."""
    order = np.argsort(group_of, kind="stable")
    bounds = np.cumsum(np.bincount(group_of, minlength=count))
    return np.split(order, bounds[:-1])
