"""The labelled corpus: what staff might type first, with the conversation it asks for
and, where a child may be at risk, the safeguarding category.

Each file `corpus/<label>.tsv` holds rows `text<TAB>label<TAB>category` ("-" for none).
Labels are conversation names, plus `question` (a question about the rules) and `none`.
A question's row has a fourth column, its topic (bot/domain/answers.py), so the bot can
answer it with the school's rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from importlib.resources import files

NONE = "none"  # no conversation: a greeting, thanks, "what can you do"
QUESTION = "question"  # a question about the rules, not a report
NO_CATEGORY = "-"


@dataclass(frozen=True)
class Example:
    text: str
    label: str
    category: str = NO_CATEGORY
    topic: str = ""  # for a question: what it asks about (bot/domain/answers.py TOPICS)

    @property
    def at_risk(self) -> bool:
        """Labelled as about a child who may be at risk (any safeguarding category)."""
        return self.category != NO_CATEGORY


def load_corpus() -> list[Example]:
    """Every row of every corpus file, in a fixed order (file name, then line)."""
    folder = files(__package__) / "corpus"
    rows: list[Example] = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".tsv"):
            rows.extend(parse_rows(entry.read_text(encoding="utf-8").splitlines()))
    return rows


def parse_rows(lines: Iterable[str]) -> list[Example]:
    rows = []
    for line in lines:
        if not line.strip() or line.startswith("#"):
            continue
        text, label, *rest = line.split("\t")
        category = (rest[0].strip() if rest else "") or NO_CATEGORY
        topic = rest[1].strip() if len(rest) > 1 else ""
        rows.append(Example(text.strip(), label.strip(), category, topic))
    return rows
