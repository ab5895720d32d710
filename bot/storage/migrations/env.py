"""Alembic environment: runs against the URL that `bot.storage.db.upgrade` passes in."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context
from sqlmodel import SQLModel

import bot.storage.tables  # noqa: F401  (registers the tables on SQLModel.metadata)
from bot.storage.db import make_engine

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url, "bot.storage.db.upgrade passes the URL in the config"
    engine = make_engine(url)
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # A migration that copies a table (SQLite can't change a key in place) drops the
            # old one, which other tables' foreign keys point at: off while migrating, and
            # checked afterwards. SQLite ignores this pragma inside a transaction.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                # Several instances starting at once: one migrates, the others wait, then
                # find nothing left to do.
                connection.execute(sa.text("SELECT pg_advisory_xact_lock(7240913)"))
                # Migrations work on every school's rows (row-level security, 0016).
                connection.execute(sa.text("SELECT set_config('app.trust_scope', 'on', true)"))
            context.run_migrations()
        if sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            assert not broken, f"a migration left {len(broken)} rows pointing at nothing"
    engine.dispose()


run_migrations_online()
