"""Database engines and migrations. SQLite by default; PostgreSQL via DATABASE_URL."""

from __future__ import annotations

import contextlib
import os
from importlib import resources
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Engine

from bot.observability import metrics


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names, or None (another database, or SQLite in memory)."""
    parsed = sa.engine.make_url(url)
    name = parsed.database
    if not parsed.drivername.startswith("sqlite") or not name or name == ":memory:":
        return None
    return None if name.startswith("file:") else Path(name)


def make_private_sqlite(url: str) -> bool:
    """Create the SQLite file readable by its owner only (0600), before SQLite creates it.

    SQLite would make it readable by every user; its -wal and -shm files copy the mode of
    the database file, so they are private too. A looser existing file is tightened. A new
    folder for it is 0700. True when the file was created just now (a new, empty database).
    """
    path = sqlite_file(url)
    if path is None:
        return False
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        if path.stat().st_mode & 0o077:
            with contextlib.suppress(PermissionError):
                path.chmod(0o600)
        return False
    return True


def make_engine(url: str, lock_timeout: float = 5.0, **kwargs: Any) -> Engine:
    """An engine whose waits are bounded, so a locked or dead database fails fast and visibly.
    Its errors never quote the statement's parameters: they hold what staff wrote."""
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        make_private_sqlite(url)
        engine = sa.create_engine(
            url, connect_args={"timeout": lock_timeout, "check_same_thread": False}, **kwargs
        )
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        kwargs.setdefault("pool_pre_ping", True)
        kwargs.setdefault("connect_args", {"connect_timeout": 5})
        engine = sa.create_engine(url, **kwargs)
    event.listen(engine, "handle_error", _count_error)
    return engine


_ERROR_KINDS: tuple[tuple[type[Exception], str], ...] = (
    (sa.exc.IntegrityError, "integrity"),
    (sa.exc.OperationalError, "operational"),
    (sa.exc.InterfaceError, "interface"),
    (sa.exc.ProgrammingError, "programming"),
)


def _count_error(context: sa.engine.ExceptionContext) -> None:
    """Every error the driver raises (a failed connect included) counts on /metrics."""
    error = context.sqlalchemy_exception
    kind = next((k for cls, k in _ERROR_KINDS if isinstance(error, cls)), "other")
    metrics.database_error(kind)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # What is deleted or overwritten is zeroed on disk, not left in a free page where a
    # copy of the file would still show it (a disposed record must leave no copy).
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def checkpoint(engine: Engine) -> bool:
    """SQLite: copy the write-ahead log into the database and empty it, so the old pages
    it holds (the text a disposal just removed) are gone from disk too. True when the log
    is now empty; False if a reader kept it (the next checkpoint finishes the job)."""
    if engine.dialect.name != "sqlite":
        return True
    with engine.connect() as connection:
        busy, _, _ = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
    return not busy


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("bot.storage") / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head", *, app_url: str | None = None) -> None:
    """Bring the schema up to date; safe to run on every start. `url` migrates (the tables'
    owner); `app_url`, when it is another PostgreSQL role, is granted what the bot needs."""
    make_private_sqlite(url)
    command.upgrade(alembic_config(url), revision)
    if app_url and app_url != url and url.startswith("postgresql"):
        grant_app_role(url, sa.engine.make_url(app_url).username or "")


def grant_app_role(owner_url: str, role: str) -> None:
    """Rows, not tables: the bot's own role may read and write rows (row-level security
    decides which) but can't change the schema, drop a policy or truncate."""
    owner = make_engine(owner_url)
    try:
        with owner.begin() as connection:
            if connection.execute(sa.text("SELECT current_user")).scalar() == role:
                return
            quoted = connection.dialect.identifier_preparer.quote(role)
            connection.execute(
                sa.text(
                    f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}"
                )
            )
            connection.execute(
                sa.text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}")
            )
    finally:
        owner.dispose()


def isolation_line(engine: Engine) -> str:
    """The start-up line saying what keeps schools apart in this database."""
    if engine.dialect.name != "postgresql":
        return "Schools: kept apart by the bot's own queries (SQLite has no row-level security)."
    with engine.connect() as connection:
        exempt = connection.execute(
            sa.text(
                "SELECT r.rolsuper OR r.rolbypassrls OR pg_has_role(current_user, "
                "(SELECT relowner FROM pg_class WHERE oid = 'public.case'::regclass), 'USAGE') "
                "FROM pg_roles r WHERE r.rolname = current_user"
            )
        ).scalar()
    if exempt:
        return (
            "Schools: row-level security is NOT a backstop here: the bot's database role owns "
            "the tables (or is a superuser). Give DATABASE_URL a role of its own and set "
            "DATABASE_OWNER_URL for migrations (docs/schools.md)."
        )
    return "Schools: row-level security on (the bot's database role does not own the tables)."
