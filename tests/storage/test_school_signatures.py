"""Issue 25 point 2: isolated by construction. Every public function of the repository
modules (bot/storage and each feature's queries.py) that touches the database takes the
school: a `SchoolSession`, which can't be opened without one. And each function that
names a school's table in a statement filters by `school_id` itself, since SQLite has no
row-level security to catch what it forgets."""

from __future__ import annotations

import ast
import importlib
import inspect
import typing
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, SQLModel

import bot.storage.tables  # noqa: F401  (every table on the metadata)
from bot.storage.scoping import SchoolSession

ROOT = Path(__file__).resolve().parents[2]
REPOSITORIES = sorted(
    [
        *(p for p in (ROOT / "bot/storage").glob("*.py") if p.stem not in {"__init__"}),
        *(ROOT / "bot/features").glob("*/queries.py"),
    ]
)
# Not repositories: the engine and migrations, column types, tables, the scoping itself,
# and the trust's list of schools (read before any school is known).
NOT_REPOSITORIES = {"db", "types", "tables", "scoping", "schools"}
# Functions that name a school's table on purpose without filtering by school, and why.
TRUST_WIDE = {
    # Evidence files are stored once per SHA-256 for the whole install: a file still used
    # by any school must not be deleted (on PostgreSQL row-level security narrows this to
    # the school; see docs/schools.md, "Not yet").
    "bot.storage.repository.evidence_in_use",
    "bot.records.evidence_files.sweep_unused",  # in the trust scope, audited
}
DATABASE_HANDLES = (Session, Connection, Engine)
SCHOOL_MODELS = {
    mapper.class_.__name__
    for mapper in SQLModel._sa_registry.mappers  # type: ignore[attr-defined]
    if "school_id" in mapper.class_.__table__.c
    # Trust-wide routing (a workspace's or a team's school): read before the school is known.
    and not getattr(mapper.class_, "trust_wide", False)
}


def _modules() -> list[str]:
    names = []
    for path in REPOSITORIES:
        if path.stem in NOT_REPOSITORIES:
            continue
        names.append(".".join(path.relative_to(ROOT).with_suffix("").parts))
    return names


def _every_module() -> list[str]:
    """Everything that may run a statement: the repositories' callers too."""
    names = []
    for path in sorted((ROOT / "bot").rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        if "migrations" in path.parts or module.removeprefix("bot.storage.") in NOT_REPOSITORIES:
            continue
        if path.stem == "__main__":  # runs the command when imported
            continue
        names.append(module.removesuffix(".__init__"))
    return names


# Public functions elsewhere that hold an engine and read no school's table.
NO_SCHOOL_DATA = {
    "bot.app.database_problem",  # the readiness probe: SHOW / SELECT 1
    # The install's one evidence store: bytes named by SHA-256, reached through evidence rows.
    "bot.kernel.evidence_choice.choose_evidence_store",
}


def _public_functions(module_name: str):
    """Its functions, and its classes' methods."""
    module = importlib.import_module(module_name)
    found = [(n, f) for n, f in inspect.getmembers(module, inspect.isfunction)]
    for class_name, cls in inspect.getmembers(module, inspect.isclass):
        if cls.__module__ == module_name:
            found += [
                (f"{class_name}.{n}", f) for n, f in inspect.getmembers(cls, inspect.isfunction)
            ]
    for name, fn in found:
        if not name.rpartition(".")[2].startswith("_") and fn.__module__ == module_name:
            yield f"{module_name}.{name}", fn


def _hints(fn: object) -> dict[str, object]:
    """Its parameters' types; a type imported only for type checkers counts by its name."""
    try:
        return typing.get_type_hints(fn)
    except NameError:
        raw = getattr(fn, "__annotations__", {})
        known = {h.__name__: h for h in (*DATABASE_HANDLES, SchoolSession)}
        return {k: known.get(str(v).rpartition(".")[2], v) for k, v in raw.items()}


def _takes_a_database(hints: dict[str, object]) -> list[object]:
    return [
        hint
        for hint in hints.values()
        if isinstance(hint, type) and issubclass(hint, DATABASE_HANDLES)
    ]


@pytest.mark.issue(25, 2)
def test_2_there_are_repository_modules_to_check():
    assert {"bot.storage.repository", "bot.features.comments.queries"} <= set(_modules())


@pytest.mark.issue(25, 2)
@pytest.mark.parametrize("module_name", _every_module())
def test_2_every_repository_function_takes_the_school(module_name):
    """The repositories, and every caller of theirs."""
    for qualified, fn in _public_functions(module_name):
        if qualified in NO_SCHOOL_DATA:
            continue
        handles = _takes_a_database(_hints(fn))
        takes_school = bool({"school", "school_id"} & set(inspect.signature(fn).parameters))
        assert all(h is SchoolSession or issubclass(h, SchoolSession) for h in handles) or (
            takes_school
        ), f"{qualified} takes a database session that has no school: take a SchoolSession"


@pytest.mark.issue(25, 2)
@pytest.mark.parametrize("module_name", _every_module())
def test_2_every_statement_on_a_schools_table_filters_by_school(module_name):
    module = importlib.import_module(module_name)
    text = Path(inspect.getfile(module)).read_text(encoding="utf-8")
    tree = ast.parse(text)
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        qualified = f"{module_name}.{node.name}"
        statements = {
            arg.id
            for call in ast.walk(node)
            if isinstance(call, ast.Call) and _called(call) in {"select", "update", "delete"}
            for arg in ast.walk(call)
            if isinstance(arg, ast.Name) and arg.id in SCHOOL_MODELS
        }
        source = ast.get_source_segment(text, node) or ""
        if statements and qualified not in TRUST_WIDE:
            assert "school_id" in source, f"{qualified} reads {sorted(statements)} for every school"


def _called(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


@pytest.mark.issue(25, 2)
def test_2_a_session_without_a_school_is_caught_by_the_check():
    """The check fails where it should: a function on a plain Session is found."""

    def leaky(session: Session) -> None:
        session.execute(sa.text("SELECT 1"))

    assert _takes_a_database(typing.get_type_hints(leaky)) == [Session]
    assert not issubclass(Session, SchoolSession)
