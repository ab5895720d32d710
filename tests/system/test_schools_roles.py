"""Issue 25 point 2: `schoolbot run` as a real process on PostgreSQL, in both ways it can
be given the database: with the tables' owner for migrations and a role of its own for
the bot (row-level security is the backstop), and with one URL (it says RLS is not)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.helpers import env_for, owner_and_app_roles, postgres_problem, run_until_healthy


@pytest.fixture
def roles():
    if problem := postgres_problem():
        pytest.skip(problem)
    yield from owner_and_app_roles()


@pytest.mark.issue(25, 2)
async def test_2_the_bot_runs_as_a_role_that_does_not_own_its_tables(roles, tmp_path):
    owner_url, app_url = roles
    env = env_for(tmp_path, DATABASE_URL=app_url, DATABASE_OWNER_URL=owner_url)
    output = await run_until_healthy(env, tmp_path)
    assert "row-level security on (the bot's database role does not own the tables)" in output
    engine = sa.create_engine(owner_url)
    with engine.connect() as connection:
        owner = connection.execute(
            sa.text("SELECT tableowner FROM pg_tables WHERE tablename = 'case'")
        ).scalar()
        forced = connection.execute(
            sa.text("SELECT relforcerowsecurity FROM pg_class WHERE relname = 'case'")
        ).scalar()
    engine.dispose()
    assert owner == sa.engine.make_url(owner_url).username and forced


@pytest.mark.issue(25, 2)
async def test_2_with_one_url_the_bot_says_row_level_security_is_no_backstop(roles, tmp_path):
    owner_url, _ = roles
    output = await run_until_healthy(env_for(tmp_path, DATABASE_URL=owner_url), tmp_path)
    assert "row-level security is NOT a backstop here" in output
