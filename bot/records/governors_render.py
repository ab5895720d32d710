"""Charts (matplotlib, SVG for the web page, PNG for the PDF) and the PDF for governors.

Each chart draws only what the tables show: a count below 3 is drawn as an empty bar
labelled "fewer than 3", and every other bar is as tall as its rounded count, so a chart
never gives away a number the table hides.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")  # no display: render to files only

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from bot.records.governors import SMALL, Figures, rounded, shown
from bot.records.printing import FAMILY, Document, printable_text

BLUE = "#0b4f8a"
CHARTS = ("months", "kinds", "acknowledgement")


@dataclass(frozen=True)
class Chart:
    """One chart: its title, a sentence saying what it shows, and its table."""

    key: str
    title: str
    description: str
    table: list[tuple[str, str]]


def charts(data: Figures) -> list[Chart]:
    months = list(zip(data.months, map(shown, data.month_totals()), strict=True))
    kinds = list(zip(data.kinds, map(shown, data.kind_totals()), strict=True))
    ack = [
        ("Median", data.median()),
        ("90th percentile", data.p90()),
        ("Re-alert setting", f"{data.realert_minutes} minutes"),
    ]
    return [
        Chart("months", "Reports by month", "Bar chart of reports made each month.", months),
        Chart("kinds", "Reports by kind", "Bar chart of reports of each kind.", kinds),
        Chart(
            "acknowledgement",
            "Time from alert to acknowledgement",
            "Bar chart of the median and 90th percentile time to acknowledge, in minutes, "
            "with the re-alert setting drawn as a dashed line.",
            ack,
        ),
    ]


def _bars(fig: Figure, labels: list[str], counts: list[int], *, horizontal: bool = False) -> None:
    ax = fig.subplots()
    heights = [rounded(c) for c in counts]
    positions = range(len(labels))
    if horizontal:
        bars = ax.barh(positions, heights, color=BLUE)
        ax.set_yticks(list(positions), labels)
        ax.invert_yaxis()
    else:
        bars = ax.bar(positions, heights, color=BLUE)
        ax.set_xticks(list(positions), labels, rotation=0)
    ax.bar_label(bars, labels=[shown(c) for c in counts], padding=3, fontsize=9)
    (ax.set_xlim if horizontal else ax.set_ylim)(0, max([*heights, SMALL]) * 1.3)
    # Counts are whole reports: no "0.5" on the axis.
    (ax.xaxis if horizontal else ax.yaxis).set_major_locator(MaxNLocator(integer=True))
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _acknowledgement(fig: Figure, data: Figures) -> None:
    import statistics

    ax = fig.subplots()
    values = [0.0, 0.0]
    labels = ["not shown", "not shown"]
    if len(data.ack_minutes) >= SMALL:
        values = [
            statistics.median(data.ack_minutes),
            statistics.quantiles(data.ack_minutes, n=10, method="inclusive")[8],
        ]
        labels = [data.median(), data.p90()]
    bars = ax.bar([0, 1], values, color=BLUE)
    ax.set_xticks([0, 1], ["Median", "90th percentile"])
    ax.bar_label(bars, labels=labels, padding=3, fontsize=9)
    ax.axhline(data.realert_minutes, color="#a4161a", linestyle="--", linewidth=1.5)
    ax.annotate(
        f"re-alert after {data.realert_minutes} min",
        (-0.45, data.realert_minutes),
        ha="left",
        va="bottom",
        fontsize=9,
        color="#a4161a",
    )
    ax.set_ylabel("minutes")
    ax.set_ylim(0, max([*values, data.realert_minutes]) * 1.3)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def render(data: Figures, key: str, fmt: str) -> bytes:
    """One chart as SVG or PNG bytes (no scripts, no dates, so the same figures give the
    same file)."""
    fig = Figure(figsize=(6, 3.4), dpi=110)
    if key == "months":
        _bars(fig, [m.split()[0][:3] for m in data.months], data.month_totals())
    elif key == "kinds":
        _bars(fig, [_short(k) for k in data.kinds], data.kind_totals(), horizontal=True)
    elif key == "acknowledgement":
        _acknowledgement(fig, data)
    else:
        raise KeyError(key)
    fig.tight_layout()
    buffer = io.BytesIO()
    metadata = {"Date": None} if fmt == "svg" else {}
    fig.savefig(buffer, format=fmt, metadata=metadata)
    return buffer.getvalue()


def _short(kind: str) -> str:
    return {"Cyberbullying or online abuse": "Online abuse"}.get(kind, kind).replace(
        "New official account request", "Account request"
    )


CHART_WIDTH = 110  # mm; the charts are drawn 6 by 3.4 inches
CHART_HEIGHT = CHART_WIDTH * 3.4 / 6


def report_pdf(data: Figures) -> bytes:
    """The report as a PDF a clerk can attach to governors' papers: marked OFFICIAL-SENSITIVE
    and numbered on every page, dated "as at", real text, each chart with its numbers in a
    table beside it, then every figure in one table."""
    pdf = Document(
        title=f"{data.term.label} report for governors, {data.school}", author=data.school
    )
    pdf.add_page()
    pdf.write_line(f"{data.school}: {data.term.label}", 18, bold=True, height=9)
    pdf.write_line("Report for governors. Aggregates only; no names.")
    if data.state == "in progress":
        pdf.write_line(f"In progress: figures as at {data.as_at_words()}, not final.", bold=True)
    pdf.ln(2)
    pdf.set_font(FAMILY, size=9)
    with pdf.table(col_widths=(40, 150), text_align="LEFT", first_row_as_headings=False) as table:
        for label, value in data.about():
            table.row([printable_text(label), printable_text(value)])
    for chart in charts(data):
        if pdf.get_y() > 297 - 18 - CHART_HEIGHT - 12:
            pdf.add_page()
        pdf.ln(4)
        pdf.write_line(chart.title, 13, bold=True, height=7)
        top = pdf.get_y()
        pdf.image(io.BytesIO(render(data, chart.key, "png")), x=10, y=top, w=CHART_WIDTH)
        pdf.set_y(top + 2)
        pdf.set_font(FAMILY, size=9)
        # A table, not cells side by side, so a label that wraps pushes the next row down.
        with pdf.table(
            width=75,
            col_widths=(45, 30),
            align="RIGHT",
            text_align="LEFT",
            first_row_as_headings=False,
        ) as table:
            for label, value in chart.table:
                table.row([printable_text(label), printable_text(value)])
        pdf.set_y(max(pdf.get_y(), top + CHART_HEIGHT) + 2)
    pdf.add_page()
    pdf.write_line("All figures", 13, bold=True, height=7)
    pdf.set_font(FAMILY, size=9)
    with pdf.table(col_widths=(50, 100, 40), text_align="LEFT") as table:
        table.row(["Section", "Measure", "Value"])
        for row in data.rows():
            table.row([printable_text(cell) for cell in row])
    pdf.ln(4)
    for note in data.notes:
        pdf.write_line(note, 9)
    return bytes(pdf.output())
