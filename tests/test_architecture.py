"""The layout holds: no import cycles between modules of bot/, one list of features and of
platforms, and each feature registering what it owns. (`make test` also runs the layer
contracts in pyproject.toml with `lint-imports`.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp

from bot.features import FEATURES, build_registry
from bot.platforms import PLATFORM_NAMES, PLATFORMS
from tests.helpers import ROOT


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in graph.find_modules_directly_imported_by(module):
            if not target.startswith("bot"):
                continue
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    sys.setrecursionlimit(10_000)
    for module in sorted(graph.modules):
        if module.startswith("bot") and module not in index:
            visit(module)
    return groups


def test_no_import_cycles_between_modules_of_bot():
    graph = grimp.build_graph("bot", exclude_type_checking_imports=True, cache_dir=None)
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    graph = grimp.ImportGraph()
    for module in ("bot", "bot.a", "bot.b", "bot.c"):
        graph.add_module(module)
    graph.add_import(importer="bot.a", imported="bot.b")
    graph.add_import(importer="bot.b", imported="bot.a")
    graph.add_import(importer="bot.c", imported="bot.a")
    assert _cycles(graph) == [["bot.a", "bot.b"]]


def test_the_import_contracts_hold():
    done = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert "0 broken" in done.stdout


def test_every_feature_registers_and_every_registered_thing_is_unique():
    """Read from the feature list, not a copy of it: each feature alone registers what it
    owns, no two features register the same thing, and together they make the registry."""
    registry = build_registry()
    assert len(FEATURES) == len({f.__name__ for f in FEATURES})
    tables = ("conversations", "buttons", "reminders", "commands", "case_kinds", "alerts")
    alone = [build_registry((feature,)) for feature in FEATURES]
    for table in tables:
        names = [name for single in alone for name in getattr(single, table)]
        assert len(names) == len(set(names)), f"two features register the same {table}"
        assert set(names) == set(getattr(registry, table))
    # What databases already hold keeps its handler: conversations in progress, case
    # references and reminder kinds.
    assert {
        "friend_request", "cyberbullying", "impersonation", "account_request", "comment",
    } <= set(registry.conversations)  # fmt: skip
    assert {"FR", "CB", "IM", "AC"} <= set(registry.case_kinds)
    assert {"case.ack", "case.close", "approval.approve", "comment.replied"} <= set(
        registry.buttons
    )
    assert {
        "comment.nudge", "comment.deadline", "comment.escalate", "case.realert",
        "case.deputy", "task.due", "annual",
    } <= set(registry.reminders)  # fmt: skip


def test_platforms_are_listed_once_and_say_when_they_are_off():
    from bot.config import Settings

    assert PLATFORM_NAMES == ("console", "slack", "teams")
    off = Settings(_env_file=None, SLACK_BOT_TOKEN="", MicrosoftAppId="", TEAMS_ALLOW_ANONYMOUS="")
    for platform in PLATFORMS[1:]:
        assert platform.mode(off) is None
        assert "not configured" in platform.status(off, None)


def test_one_button_payload_round_trips_and_refuses_what_the_bot_never_sent():
    from bot.kernel.buttons import ButtonTarget

    for target in (ButtonTarget("FR-0001"), ButtonTarget("AC-0003", 1), ButtonTarget("all")):
        assert ButtonTarget.decode(target.encode()) == target
    for forged in ("", "FR-0001:", "AC-1:x", "AC-1:²", "AC-1:" + "9" * 5000, "a b", "FR:1:2"):
        assert ButtonTarget.decode(forged) is None


def test_the_documented_diagrams_match_the_dialog_declarations():
    from bot.dialogs.diagram import END, START, diagrams_section

    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    shown = page[page.index(START) : page.index(END) + len(END)]
    dialogs = [c.dialog for c in build_registry().conversations.values()]
    assert shown == diagrams_section(dialogs), (
        "docs/architecture.md's conversation diagrams are stale: run "
        "`.venv/bin/schoolbot docs diagrams --write docs/architecture.md`"
    )
    assert shown.count("```mermaid") == len(dialogs)


def test_the_readme_table_of_conversations_is_drawn_from_the_features():
    from bot.cli.docs import TABLE_END, TABLE_START, conversations_table

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = readme[readme.index(TABLE_START) : readme.index(TABLE_END) + len(TABLE_END)]
    conversations = build_registry().conversations.values()
    assert all(c.about for c in conversations), "every conversation says what it does"
    assert shown == conversations_table(conversations), (
        "README.md's table of conversations is stale: run "
        "`.venv/bin/schoolbot docs conversations --write README.md`"
    )


def test_a_platform_is_known_by_its_channel_alone(service_factory, clock):
    """Nothing outside bot/platforms names a platform: a new one ("matrix") is read by its
    channel's name and title, in the records export and in the case view's words."""
    from bot.features.cases.view import reporter_words
    from bot.records import subject_access as people
    from bot.storage.tables import AuditEvent, Case

    service = service_factory()
    with service.kernel.session() as session:
        for subject in ("matrix:@bob:example.org", "account:3"):
            session.add(AuditEvent(at=clock(), actor="console:sam", action="x", subject=subject))
        session.commit()
        with_matrix = people.collect(
            session, "console", "sam", (*PLATFORM_NAMES, "matrix"), service.kernel.registry
        )
        without = people.collect(session, "console", "sam", PLATFORM_NAMES, service.kernel.registry)
    about = [event["about"] for event in with_matrix["actions_taken"]]
    assert about == [people.REDACTED, "account:3"]
    assert without["actions_taken"][0]["about"] == "matrix:@bob:example.org"

    case = Case(ref="FR-0001", kind="FR", team="dsl", platform="matrix", reporter_id="@bob")
    assert reporter_words(case, {"matrix": "Matrix"}) == "Matrix user @bob"
    assert reporter_words(case, service.kernel.platform_titles) == "matrix user @bob"
    teams = Case(ref="FR-0002", kind="FR", team="dsl", platform="teams", reporter_id="29:1a")
    assert reporter_words(teams, service.kernel.platform_titles) == "Teams user 29:1a"
