"""The Reports mode: pick a report, a period and a grouping; the figures come as a chart
(bars per group, lines over time) above a table, computed in a worker so the screen never
freezes (a loading indicator covers chart and table meanwhile); `c` and `x` export them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import events, on
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.widget import Widget
from textual.widgets import DataTable, Input, Label, Select, Static

from cc_tui.console.calls import Connection, error_message
from cc_tui.console.local_time import display_zone
from cc_tui.screens.base import ConsoleScreen

if TYPE_CHECKING:
    from cc_tui.services.reports.figures import Report
    from cc_tui.services.reports.run import Chart

REPORTS = ("volume", "times", "agents", "conversion", "sla", "backlog", "kb")
PRESETS = ("this week", "last week", "this month", "last month", "custom")
# A bar chart names at most this many groups (the largest); a line chart this many days.
BARS = 12
MIN_SLOTS = 6
TICKS = 6
# The choices in one row take 106 columns (what: report 20 and grouping 22, a gap of 2;
# when: period 20, "From" 5, a day 16, "To" 3, a day 16; padding 2). A narrower screen
# shows them in two rows, what above when, so that none is out of sight.
ONE_ROW = 106

REPORTS_CSS = """
ReportsScreen #rp-bar { height: auto; padding: 0 1; layout: horizontal; }
ReportsScreen.-narrow #rp-bar { layout: vertical; }
ReportsScreen #rp-bar Horizontal { width: auto; height: auto; }
ReportsScreen #rp-what { margin-right: 2; }
ReportsScreen #rp-bar Select { width: 20; }
ReportsScreen #rp-bar #rp-by { width: 22; }
ReportsScreen #rp-bar Input { width: 16; }
ReportsScreen #rp-bar Label { padding: 1 0 0 1; }
ReportsScreen #rp-status { padding: 0 1; color: $text-muted; height: auto; }
ReportsScreen #rp-chart { height: 2fr; min-height: 6; }
ReportsScreen #rp-table { height: 3fr; }
"""


def count_ticks(top: float, rows: int) -> list[int]:
    """Whole-number ticks from 0 to `top`, a step of 1, 2 or 5 times a power of ten apart,
    about one every two of the plot's `rows` (its lines between the frame)."""
    most = max((rows + 1) // 2, 1)
    magnitude = 1
    while True:
        for base in (1, 2, 5):
            step = base * magnitude
            if top / step <= most:
                ticks = list(range(0, int(top) + 1, step))
                return ticks if len(ticks) > 1 or top < 1 else [0, int(top)]
        magnitude *= 10


class ReportsScreen(ConsoleScreen):
    """A report over a period; `r` runs it again, `c` writes CSV, `x` writes Excel."""

    MODE = "reports"
    DEFAULT_CSS = REPORTS_CSS
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (ONE_ROW, "-wide")]
    AUTO_FOCUS = "#rp-report"
    BINDINGS = [
        Binding("r", "run", "Run", id="reports.run"),
        Binding("c", "export('csv')", "CSV", id="reports.csv"),
        Binding("x", "export('xlsx')", "Excel", id="reports.xlsx"),
        # Not in the footer (its room is for the report keys); `?` and the README list it.
        Binding("i", "import_history", "Import history", id="reports.import", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.report: Report | None = None
        self.chart: Chart | None = None
        self.busy = False
        self._request = 0
        self._zone: Any = None

    def compose_body(self) -> Iterable[Widget]:
        with Horizontal(id="rp-bar"):
            with Horizontal(id="rp-what"):
                yield Select(
                    [(name, name) for name in REPORTS], value="volume", allow_blank=False,
                    id="rp-report",
                )  # fmt: skip
                yield Select([], prompt="grouping", id="rp-by")
            with Horizontal(id="rp-when"):
                yield Select(
                    [(name, name) for name in PRESETS], value="this week", allow_blank=False,
                    id="rp-period",
                )  # fmt: skip
                yield Label(Content("From"))
                yield Input(placeholder="YYYY-MM-DD", id="rp-from", max_length=10)
                yield Label(Content("To"))
                yield Input(placeholder="YYYY-MM-DD", id="rp-to", max_length=10)
        yield Static(Content("opening the database…"), id="rp-status")
        # Loaded with the screen (F7), not at the console's start: plotext is not small.
        from textual_plotext import PlotextPlot

        yield PlotextPlot(id="rp-chart")
        yield DataTable(id="rp-table", cursor_type="row", zebra_stripes=True)

    def database_ready(self, connection: Connection) -> None:
        self._zone = display_zone(connection.settings)
        self._groupings("volume")
        self._preset("this week")
        self.action_run()

    # --- choosing -------------------------------------------------------------------------

    def _kind(self) -> str:
        return str(self.query_one("#rp-report", Select).value)

    def _groupings(self, kind: str) -> None:
        from cc_tui.services.reports.run import GROUPINGS

        choices = GROUPINGS.get(kind, ())
        select: Select[str] = self.query_one("#rp-by", Select)
        with self.prevent(Select.Changed):
            select.set_options([(g.replace("_", " "), g) for g in choices])
            if choices:
                select.value = choices[0]
        select.disabled = not choices

    def _preset(self, name: str) -> None:
        from cc_tui.services.reports.run import preset_period

        custom = name == "custom"
        for field in ("#rp-from", "#rp-to"):
            self.query_one(field, Input).disabled = not custom
        if custom:
            return
        first, end = preset_period(name, self._zone)
        self._set_days(first, end)

    def _set_days(self, first: date, end: date) -> None:
        with self.prevent(Input.Changed):
            self.query_one("#rp-from", Input).value = first.isoformat()
            self.query_one("#rp-to", Input).value = end.isoformat()

    @on(Select.Changed, "#rp-report")
    def _report_changed(self, event: Select.Changed) -> None:
        self._groupings(str(event.value))
        self.action_run()

    @on(Select.Changed, "#rp-period")
    def _period_changed(self, event: Select.Changed) -> None:
        self._preset(str(event.value))
        if event.value != "custom":
            self.action_run()
        else:
            self.query_one("#rp-from", Input).focus()

    @on(Select.Changed, "#rp-by")
    def _by_changed(self, _event: Select.Changed) -> None:
        self.action_run()

    @on(Input.Submitted, "#rp-from, #rp-to")
    def _days_entered(self, _event: Input.Submitted) -> None:
        self.action_run()

    # --- running --------------------------------------------------------------------------

    def action_run(self) -> None:
        from cc_tui.services.reports.run import run_report

        # The selects announce their first values while the database is still opening.
        if self.connection is None:
            return
        connection = self.connected()
        if connection is None:
            return
        by_select: Select[str] = self.query_one("#rp-by", Select)
        by = None if by_select.is_blank() or by_select.disabled else str(by_select.value)
        self._request += 1
        request = self._request
        self._working(True)
        kind = self._kind()
        self._say(f"computing {kind}…")
        self.call(
            run_report,
            on_result=lambda report: self._show(request, report),
            on_error=lambda error: self._failed(request, error),
            group="reports",
            actor=connection.actor,
            kind=kind,
            first=self.query_one("#rp-from", Input).value,
            end=self.query_one("#rp-to", Input).value,
            zone=self._zone,
            by=by,
        )

    def _working(self, busy: bool) -> None:
        """While a report runs its chart and table show a loading indicator; the choices
        stay usable (a new choice starts a new run, the older result is dropped)."""
        self.busy = busy
        for widget in ("#rp-chart", "#rp-table"):
            self.query_one(widget).loading = busy

    def _say(self, text: str) -> None:
        self.query_one("#rp-status", Static).update(Content(text))

    def _failed(self, request: int, error: BaseException) -> None:
        if request == self._request:
            self._working(False)
            self._say(error_message(error))

    def _show(self, request: int, report: Report) -> None:
        from cc_tui.services.reports.export import flat_rows
        from cc_tui.services.reports.run import chart

        if request != self._request:
            return
        self.report = report
        headers, rows = flat_rows(report.rows)
        table: DataTable[Text] = self.query_one("#rp-table", DataTable)
        table.clear(columns=True)
        texts = [["–" if v is None else str(v) for v in row] for row in rows]
        for index, heading in enumerate(headers):
            label = heading.replace("_", " ")
            # Widths from the figures themselves: the table is drawn right the first time,
            # not once its own measuring has caught up.
            width = max([len(label), *(len(cells[index]) for cells in texts)])
            table.add_column(label, key=heading, width=width)
        for values in texts:
            table.add_row(*(Text(value, no_wrap=True) for value in values))
        self._draw(chart(report))
        self._working(False)
        totals = ", ".join(
            f"{k.replace('_', ' ')} {str(v).replace('_', ' ')}" for k, v in report.extra.items()
        )
        self._say(
            f"{report.kind} from {report.from_} to {report.to} (not included)"
            + (f" · {totals}" if totals else "")
            + f" · {len(rows)} rows · c CSV, x Excel"
        )

    def _draw(self, figure: Chart, *, laid_out: bool = False) -> None:
        from textual_plotext import PlotextPlot

        self.chart = figure
        plot = self.query_one("#rp-chart", PlotextPlot)
        plt = plot.plt
        plt.clear_figure()
        plt.title(figure.title)
        if not figure.labels:
            plt.title(f"{figure.title}: nothing in this period")
        elif figure.kind == "bar":
            ((_name, values),) = figure.series.items()
            ranked = sorted(range(len(values)), key=lambda i: -values[i])[:BARS]
            shown = sorted(ranked)
            plt.bar([figure.labels[i] for i in shown], [values[i] for i in shown], width=0.6)
            self._count_axis([values[i] for i in shown], laid_out)
            # A few bars keep a bar's width: the axis is as wide as for MIN_SLOTS of them.
            pad = max(0, MIN_SLOTS - len(shown)) / 2
            plt.xlim(0.5 - pad, len(shown) + 0.5 + pad)
            if len(values) > BARS:
                plt.title(f"{figure.title} (the {BARS} largest of {len(values)})")
        else:
            xs = [float(x) for x in range(1, len(figure.labels) + 1)]
            for name, values in figure.series.items():
                plt.plot(xs, values, label=name if len(figure.series) > 1 else None)
            step = max(1, -(-len(xs) // TICKS))
            ticks = xs[::step]
            plt.xticks(ticks, [figure.labels[int(x) - 1] for x in ticks])
            # Counts start at zero: a flat line near the top would read as a big number.
            top = max((v for values in figure.series.values() for v in values), default=0.0)
            plt.ylim(0, top * 1.1 or 1)
            self._count_axis([v for values in figure.series.values() for v in values], laid_out)
        plot.refresh()

    def on_resize(self, _event: events.Resize) -> None:
        # The count axis has as many ticks as the chart's new height holds.
        if self.chart is not None:
            self.call_after_refresh(self._draw, self.chart, laid_out=True)

    def _count_axis(self, values: list[float], laid_out: bool) -> None:
        """Counts are read off whole numbers: 0, 5, 10, not 3.1, 6.2, 9.4."""
        from textual_plotext import PlotextPlot

        if not values or any(v != int(v) for v in values):
            return  # minutes of the time analysis: plotext's own ticks
        plot = self.query_one("#rp-chart", PlotextPlot)
        if not plot.size.height and not laid_out:
            # The first report can come before the chart's first layout: once it has a
            # height, draw again (once).
            self.call_after_refresh(self._draw, self.chart, laid_out=True)
        # The plot's rows less its title, frame and the labels under the axis.
        ticks = count_ticks(max(values), max(plot.size.height - 4, 2))
        plot.plt.yticks([float(t) for t in ticks], [str(t) for t in ticks])

    def action_import_history(self) -> None:
        """Bring a closed history over from a CSV export (admins); the report runs again."""
        from cc_tui.dialogs.history_import import ImportHistoryDialog, summary_text

        def imported(result: Any) -> None:
            if result is not None:
                first_line = summary_text(result).splitlines()[0]
                self.notify(first_line, title="History imported", markup=False)
                self.action_run()

        self.app.push_screen(ImportHistoryDialog(), imported)

    def action_export(self, fmt: str) -> None:
        report = self.report
        if report is None or self.busy:
            self._say("run a report first")
            return
        path = Path.cwd() / f"report-{report.kind}-{report.from_}-{report.to}.{fmt}"
        data = {"report": report.kind, "from": report.from_, "to": report.to,
                **report.extra, "rows": report.rows}  # fmt: skip

        def write() -> None:
            from cc_tui.services.reports.export import write_csv, write_xlsx

            try:
                (write_csv if fmt == "csv" else write_xlsx)(data, path)
            except OSError as error:
                self.app.call_from_thread(self._say, f"could not write {path}: {error}")
            else:
                self.app.call_from_thread(self._say, f"wrote {path}")

        self._say(f"writing {path.name}…")
        self.run_worker(write, thread=True, group="reports-export")
