"""Issue 24 point 5: `schoolbot records dpia` writes a DPIA draft for this installation: the
data flows as a Mermaid diagram, processors, retention, the risks and the code that reduces
each, and every table and field the bot stores (read from the database models)."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from sqlmodel import SQLModel

import bot.storage.tables  # noqa: F401  (every table in SQLModel.metadata)
from bot.cli import main
from bot.domain.policy import load_pack
from bot.domain.retention import rules
from tests.helpers import ROOT


@pytest.fixture
def dpia(sqlite_url, tmp_path) -> str:
    out = tmp_path / "dpia.md"
    env = {
        "DATABASE_URL": sqlite_url,
        "SCHOOLBOT_POLICY": "st-anns-school",
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "s" * 32,
        "SCHOOLBOT_DATA_DIR": str(tmp_path / "data"),
    }
    result = CliRunner().invoke(main, ["records", "dpia", "-o", str(out)], env=env)
    assert result.exit_code == 0, result.output
    assert "a draft for your DPO" in result.output
    return out.read_text("utf-8")


def _section(text: str, table: str) -> str:
    start = text.index(f"### `{table}`")
    following = text.find("\n### ", start + 1)
    return text[start : following if following != -1 else len(text)]


@pytest.mark.issue(24, 5)
def test_5_the_dpia_lists_every_table_and_field_the_bot_stores(dpia):
    tables = SQLModel.metadata.tables.values()
    assert len(tables) >= 20
    for table in tables:
        section = _section(dpia, table.name)
        assert "NOT DESCRIBED" not in section, table.name
        for column in table.columns:
            assert f"| `{column.name}` |" in section, (table.name, column.name)


@pytest.mark.issue(24, 5)
def test_5_the_dpia_draws_the_flows_and_names_processors_retention_and_risks(dpia, sqlite_url):
    headings = re.findall(r"^## (.+)$", dpia, flags=re.MULTILINE)
    assert headings == [
        "1. This installation",
        "2. Why the processing is needed",
        "3. Data flows",
        "4. Processors and transfers",
        "5. What is stored: every table and field",
        "6. Retention",
        "7. Risks and how the code reduces them",
        "8. Consultation and sign-off",
    ]
    assert dpia.startswith("# Data protection impact assessment (draft): schoolbot at St Ann's")
    flows = dpia[dpia.index("```mermaid") : dpia.index("```", dpia.index("```mermaid") + 3)]
    assert "flowchart LR" in flows and "chat[Slack]" in flows
    assert "LADO, police, children's social care" in flows
    assert "| Chat services | terminal chat on the server, Slack |" in dpia
    assert f"| Database | SQLite file {sqlite_url.removeprefix('sqlite:///')} |" in dpia
    assert "Slack (Slack Technologies" in dpia and "Microsoft (Teams" not in dpia
    assert "| Data Protection Officer | TO COMPLETE |" in dpia
    for rule in rules(load_pack("st-anns-school")):
        assert f"| {rule.record} | {rule.period} |" in dpia
    risks = dpia[dpia.index("## 7.") : dpia.index("## 8.")]
    places = re.findall(r"\| `([^`]+)` \|$", risks, flags=re.MULTILINE)
    assert len(places) >= 10
    for place in places:  # each mitigation points at code that exists
        assert (ROOT / place).exists(), place
