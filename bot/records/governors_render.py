"""Charts (matplotlib, SVG for the web page, PNG for the PDF) and the PDF for governors.

Each chart draws only what the tables show: a count below 3 is drawn as an empty bar
labelled "fewer than 3", so a chart never gives away a number the table hides.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")  # no display: render to files only

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from matplotlib.figure import Figure

from bot.records.governors import SMALL, Figures, shown

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
    heights = [c if c >= SMALL else 0 for c in counts]
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


def _latin(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def report_pdf(data: Figures) -> bytes:
    """The report as a PDF a clerk can attach to governors' papers: real text, each chart
    with its numbers in a table beside it, then every figure in one table."""
    pdf = FPDF(format="A4")
    pdf.set_title(f"{data.term.label} report for governors, {data.school}")
    pdf.set_lang("en-GB")
    pdf.set_author(data.school)
    pdf.set_creator("schoolbot")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.multi_cell(
        0, 9, _latin(f"{data.school}: {data.term.label}"), new_x=XPos.LMARGIN, new_y=YPos.NEXT
    )
    pdf.set_font("Helvetica", size=10)
    pdf.multi_cell(
        0,
        5,
        _latin(
            f"Report for governors, {data.term.first:%-d %B %Y} to {data.term.last:%-d %B %Y}. "
            "Aggregates only; no names."
        ),
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    for chart in charts(data):
        if pdf.get_y() > 200:
            pdf.add_page()
        pdf.ln(4)
        pdf.set_font("Helvetica", "B", 13)
        pdf.cell(0, 7, _latin(chart.title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        top = pdf.get_y()
        pdf.image(io.BytesIO(render(data, chart.key, "png")), x=10, y=top, w=110)
        pdf.set_font("Helvetica", size=9)
        pdf.set_xy(125, top + 2)
        for label, value in chart.table:
            pdf.set_x(125)
            pdf.multi_cell(45, 5, _latin(label), border="B", new_x=XPos.RIGHT, new_y=YPos.TOP)
            pdf.multi_cell(30, 5, _latin(value), border="B", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_y(max(pdf.get_y(), top + 110 * 3.4 / 6) + 2)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 13)
    pdf.cell(0, 7, "All figures", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", size=9)
    with pdf.table(col_widths=(45, 100, 45), text_align="LEFT") as table:
        table.row(["Section", "Measure", "Value"])
        for row in data.rows():
            table.row([_latin(cell) for cell in row])
    pdf.ln(4)
    for note in data.notes:
        pdf.multi_cell(0, 5, _latin(note), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())
