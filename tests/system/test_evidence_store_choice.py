"""Where evidence is kept, as `schoolbot` starts (issue 25, point 7): the database by default
on PostgreSQL, a folder with SQLite; a local folder on PostgreSQL is refused, as a real
process, until it is declared shared; and `schoolbot records move-evidence-to-database`
moves an existing folder in, audited, safe to run again."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess

import pytest
import sqlalchemy as sa

from bot.kernel.evidence_database import DatabaseEvidenceStore
from bot.kernel.evidence_folder import FolderEvidenceStore
from bot.kernel.evidence_keys import EvidenceKeys
from bot.kernel.evidence_store import INTACT
from bot.storage import db
from tests.helpers import SCHOOLBOT, env_for, run_until_healthy

pytestmark = pytest.mark.issue(25, 7)
SHOT = b"\x89PNG\r\n\x1a\nMARKER-SHOT a screenshot kept before the database store"
LETTER = b"%PDF-1.4 MARKER-LETTER kept encrypted"


def refused(env: dict[str, str], cwd) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SCHOOLBOT, "run", "--port", "0"],
        env=env, cwd=cwd, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


async def test_postgresql_keeps_evidence_in_the_database_unless_a_shared_folder_is_declared(
    pg_url, tmp_path
):
    env = env_for(tmp_path, DATABASE_URL=pg_url)
    output = await run_until_healthy(env, tmp_path)
    assert "Evidence files: kept in the database." in output

    local = refused({**env, "EVIDENCE_STORE": "folder"}, tmp_path)
    assert local.returncode != 0
    said = " ".join((local.stdout + local.stderr).split())
    assert "Error: Evidence files would be kept in the local folder" in said
    assert "EVIDENCE_FOLDER_SHARED=true" in said and "move-evidence-to-database" in said
    assert "Traceback" not in said

    shared = tmp_path / "shared-evidence"
    output = await run_until_healthy(
        {**env, "EVIDENCE_STORE": "folder", "EVIDENCE_FOLDER": str(shared),
         "EVIDENCE_FOLDER_SHARED": "true"},
        tmp_path,
    )  # fmt: skip
    assert f"Evidence files: kept in the folder {shared}." in output


async def test_sqlite_keeps_evidence_in_the_data_folder(tmp_path):
    output = await run_until_healthy(env_for(tmp_path), tmp_path)
    assert f"Evidence files: kept in the folder {tmp_path / 'data' / 'evidence'}." in output


async def test_a_folder_is_moved_into_the_database_checked_audited_and_safe_to_rerun(
    pg_url, tmp_path
):
    secret = base64.b64encode(os.urandom(32)).decode()
    keys = EvidenceKeys.parse(secret)
    folder = FolderEvidenceStore(tmp_path / "data" / "evidence", keys)
    shot, letter = hashlib.sha256(SHOT).hexdigest(), hashlib.sha256(LETTER).hexdigest()
    FolderEvidenceStore(folder.root).put(shot, SHOT)  # stored before EVIDENCE_KEYS was set
    folder.put(letter, LETTER)
    changed = hashlib.sha256(b"the original").hexdigest()
    FolderEvidenceStore(folder.root).put(changed, b"the original")
    folder.path_for(changed).write_bytes(b"edited on the disk")
    env = env_for(tmp_path, DATABASE_URL=pg_url, EVIDENCE_KEYS=secret)

    before = await run_until_healthy(env, tmp_path)
    assert "Warning: 3 evidence file(s) are still in the folder" in before
    assert "move-evidence-to-database" in before

    moved = run(env, tmp_path)
    assert moved.returncode == 1, moved.stderr  # one file could not be moved
    assert "Moved 2 evidence file(s)" in moved.stdout and "1 left in the folder" in moved.stdout
    assert f"file {changed[:16]}: it no longer matches its fingerprint" in moved.stderr
    assert list(folder.names()) == [changed]  # left for the IT lead to look at

    engine = db.make_engine(pg_url)
    store = DatabaseEvidenceStore(engine, keys)
    assert store.read(shot) == SHOT and store.read(letter) == LETTER
    assert store.check(shot) == INTACT and store.key_of(shot) is None  # moved as it was kept
    assert store.key_of(letter) == keys.current_id
    with engine.connect() as connection:
        audit = connection.execute(
            sa.text("SELECT actor, detail FROM audit_event WHERE action = :a"),
            {"a": "evidence.moved_to_database"},
        ).all()
    assert len(audit) == 1 and audit[0].actor.startswith("cli:")
    assert audit[0].detail["moved"] == 2 and audit[0].detail["left"] == 1

    folder.path_for(changed).unlink()  # the IT lead dealt with it
    again = run(env, tmp_path)
    assert again.returncode == 0, again.stderr
    assert "Moved 0 evidence file(s)" in again.stdout
    assert sorted(store.names()) == sorted([shot, letter])
    encrypted = run(env, tmp_path, "encrypt-evidence")  # the database store's files too
    assert encrypted.returncode == 0, encrypted.stderr
    assert "Encrypted 1 file(s)" in encrypted.stdout and store.key_of(shot) == keys.current_id
    engine.dispose()


def run(env: dict[str, str], cwd, command: str = "move-evidence-to-database"):
    return subprocess.run(
        [*SCHOOLBOT, "records", command],
        env=env, cwd=cwd, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
