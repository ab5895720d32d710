"""Fixtures for the tests that run the real `schoolbot` as processes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers import fresh_postgres, postgres_problem


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for several processes to share (not migrated)."""
    if problem := postgres_problem():
        pytest.skip(problem)
    yield from fresh_postgres()
