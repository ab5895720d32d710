"""The one way the bot prints a PDF: vendored Unicode fonts, a sensitivity marking and
"Page N of M" on every page, and the title and language in the document's metadata.

The fonts live in bot/records/fonts (see its README for what each covers and its licence),
so a name in Polish, Welsh, Greek, Cyrillic, Arabic, Chinese, Japanese or Korean prints
as given, on any server. Text is shaped with HarfBuzz, so Arabic joins and reads right to
left. A character none of the fonts has prints as its code point ("[U+0905]") rather than
vanishing; the JSON beside a bundle keeps every character exactly.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.enums import XPos, YPos

FONTS = Path(__file__).parent / "fonts"
FAMILY = "DejaVu"
FALLBACK = "DroidFallback"
# The UK government's marking for information whose loss would harm someone (the
# Government Security Classifications), which schools and local authorities use too.
OFFICIAL_SENSITIVE = "OFFICIAL-SENSITIVE"
_FILES = {
    (FAMILY, ""): "DejaVuSans.ttf",
    (FAMILY, "B"): "DejaVuSans-Bold.ttf",
    (FALLBACK, ""): "DroidSansFallback.ttf",
}


@cache
def printable() -> frozenset[int]:
    """Every code point one of the vendored fonts can draw (line breaks and tabs too)."""
    points: set[int] = {0x09, 0x0A, 0x0D}
    for name in set(_FILES.values()):
        with TTFont(FONTS / name, lazy=True) as font:
            points.update(font.getBestCmap())
    return frozenset(points)


def printable_text(text: str) -> str:
    """The text with each character no font has replaced by its code point, so a reader
    sees that something was there (and what) rather than a blank or a question mark."""
    have = printable()
    return "".join(c if ord(c) in have else f"[U+{ord(c):04X}]" for c in text)


class Document(FPDF):
    """An A4 document in the vendored fonts, marked on every page, numbered "Page N of M"."""

    def __init__(self, *, title: str, author: str, marking: str = OFFICIAL_SENSITIVE):
        super().__init__(format="A4")
        self.marking = marking
        for (family, style), name in _FILES.items():
            self.add_font(family, style, str(FONTS / name))
        self.set_fallback_fonts([FALLBACK], exact_match=False)
        self.set_text_shaping(True)
        self.set_title(title)
        self.set_subject(marking)
        self.set_lang("en-GB")
        self.set_author(author)
        self.set_creator("schoolbot")
        self.set_auto_page_break(auto=True, margin=18)
        self.set_top_margin(16)

    def header(self) -> None:
        self.set_xy(self.l_margin, 6)
        self.set_font(FAMILY, "B", 9)
        self.set_text_color(164, 22, 26)
        self.cell(0, 5, self.marking, align="R")
        self.set_text_color(0)
        self.set_xy(self.l_margin, self.t_margin)

    def footer(self) -> None:
        self.set_y(-13)
        self.set_font(FAMILY, size=8)
        self.cell(0, 5, printable_text(self.title or ""), align="L")
        self.set_x(self.l_margin)
        self.set_font(FAMILY, "B", 8)
        self.cell(0, 5, f"{self.marking}   Page {self.page_no()} of {{nb}}", align="R")

    def write_line(
        self, text: str, size: float = 10, *, bold: bool = False, height: float = 5
    ) -> None:
        """A paragraph across the page, wrapped, in the body font."""
        self.set_font(FAMILY, "B" if bold else "", size)
        self.multi_cell(
            0, height, printable_text(text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
