"""The evidence store contract (issue 25, point 7): the folder store and the database store,
on SQLite and PostgreSQL, keep the same promises, checked by the same tests. A file is kept
once by its SHA-256, encrypted at rest when there are keys, checked intact, missing,
changed or locked, re-encrypted in one step, and deleted leaving no copy."""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.kernel.evidence_database import BLOBS, DatabaseEvidenceStore
from bot.kernel.evidence_folder import FolderEvidenceStore
from bot.kernel.evidence_keys import EvidenceKeys, EvidenceLocked
from bot.kernel.evidence_store import CHANGED, INTACT, LOCKED, MISSING, EvidenceStore
from bot.storage import db
from tests.helpers import fresh_postgres, postgres_problem

SECRET = b"MARKER-SCREENSHOT of the abuse, as a teacher saved it" * 20
SHA = hashlib.sha256(SECRET).hexdigest()
KEY, OTHER_KEY = (base64.b64encode(os.urandom(32)).decode() for _ in range(2))
pytestmark = pytest.mark.issue(25, 7)


@pytest.fixture(params=["folder", "database on sqlite", "database on postgresql"])
def where(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Where a store keeps its bytes: a folder, or a migrated database's URL."""
    if request.param == "folder":
        yield str(tmp_path / "evidence")
    elif request.param == "database on sqlite":
        url = f"sqlite:///{tmp_path / 'test.db'}"
        db.upgrade(url)
        yield url
    else:
        if problem := postgres_problem():
            pytest.skip(problem)
        for url in fresh_postgres():
            db.upgrade(url)
            yield url


@pytest.fixture
def open_store(where: str) -> Iterator:
    """Stores on the same place, each with the keys it is given (as several servers, or a
    server restarted with other keys, would open it)."""
    engines: list[sa.Engine] = []

    def opened(keys: str | None = None) -> EvidenceStore:
        parsed = EvidenceKeys.parse(keys) if keys else None
        if not where.startswith(("sqlite", "postgresql")):
            return FolderEvidenceStore(Path(where), parsed)
        engines.append(db.make_engine(where))
        return DatabaseEvidenceStore(engines[-1], parsed)

    yield opened
    for engine in engines:
        engine.dispose()


def kept(store: EvidenceStore, sha: str) -> bytes | None:
    """The bytes as they are at rest, read past the store: the file or the row."""
    if isinstance(store, FolderEvidenceStore):
        path = store.path_for(sha)
        return path.read_bytes() if path.exists() else None
    assert isinstance(store, DatabaseEvidenceStore)
    with store.engine.connect() as connection:
        found = connection.execute(sa.select(BLOBS.c.data).where(BLOBS.c.sha256 == sha)).scalar()
    return None if found is None else bytes(found)


def tamper(store: EvidenceStore, sha: str, blob: bytes) -> None:
    """Someone with access to the disk or the database changes the bytes at rest."""
    if isinstance(store, FolderEvidenceStore):
        store.path_for(sha).write_bytes(blob)
        return
    assert isinstance(store, DatabaseEvidenceStore)
    with store.engine.begin() as connection:
        connection.execute(sa.update(BLOBS).where(BLOBS.c.sha256 == sha).values(data=blob))


def test_bytes_are_kept_once_read_back_and_listed(open_store):
    store = open_store()
    at = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
    store.put(SHA, SECRET, at=at)
    store.put(SHA, SECRET, at=at + timedelta(hours=2))  # the same file again: kept once
    assert store.read(SHA) == SECRET and store.check(SHA) == INTACT
    assert list(store.names()) == [SHA]
    assert store.stored_at(SHA) == (at + timedelta(hours=2)).timestamp()  # stored again now
    assert store.key_of(SHA) is None  # no keys: kept as it came
    assert open_store().read(SHA) == SECRET  # another server on the same place reads it


def test_missing_bytes_are_missing_everywhere(open_store):
    store = open_store(KEY)
    assert store.check(SHA) == MISSING and store.stored_at(SHA) is None
    with pytest.raises(FileNotFoundError):
        store.read(SHA)
    assert store.remove(SHA) is False and list(store.names()) == []


def test_with_keys_nothing_of_the_file_is_at_rest_and_only_a_key_opens_it(open_store):
    keys = EvidenceKeys.parse(KEY)
    store = open_store(KEY)
    store.put(SHA, SECRET)
    blob = kept(store, SHA)
    assert blob is not None and b"MARKER" not in blob
    assert blob.startswith(b"SBEV1" + bytes.fromhex(keys.current_id))
    assert store.key_of(SHA) == keys.current_id and store.read(SHA) == SECRET
    assert open_store(OTHER_KEY).check(SHA) == LOCKED  # a server without its key
    assert open_store().check(SHA) == LOCKED  # a server with no keys at all
    with pytest.raises(EvidenceLocked):
        open_store().read(SHA)


def test_changed_bytes_are_never_passed_off_as_the_file(open_store):
    plain, keyed = open_store(), open_store(KEY)
    other = hashlib.sha256(b"another screenshot").hexdigest()
    plain.put(other, b"another screenshot")
    tamper(plain, other, b"another screenshot, edited")
    assert plain.check(other) == CHANGED
    keyed.put(SHA, SECRET)
    blob = kept(keyed, SHA)
    assert blob is not None
    tamper(keyed, SHA, blob[:-1] + bytes([blob[-1] ^ 1]))  # one bit of the ciphertext
    assert keyed.check(SHA) == CHANGED


def test_plain_files_are_encrypted_and_rotated_in_one_step_each(open_store):
    open_store().put(SHA, SECRET)  # stored before EVIDENCE_KEYS was set
    with pytest.raises(EvidenceLocked):
        open_store().encrypt_one(SHA)
    store = open_store(KEY)
    assert store.encrypt_one(SHA) is True and store.encrypt_one(SHA) is False
    blob = kept(store, SHA)
    assert blob is not None and b"MARKER" not in blob and store.read(SHA) == SECRET
    rotated = open_store(f"{OTHER_KEY},{KEY}")  # a new key first, the old one kept
    assert rotated.encrypt_one(SHA) is True
    assert rotated.key_of(SHA) == EvidenceKeys.parse(OTHER_KEY).current_id
    assert open_store(OTHER_KEY).read(SHA) == SECRET
    changed = hashlib.sha256(b"plain bytes").hexdigest()
    store.put(changed, b"plain bytes")
    tamper(store, changed, b"plain bytes, edited")
    with pytest.raises(ValueError, match="fingerprint"):
        store.encrypt_one(changed)  # a changed file is never sealed as if it were the original


def test_removed_bytes_leave_no_copy(open_store):
    store = open_store(KEY)
    store.put(SHA, SECRET)
    keep = hashlib.sha256(b"a file another case holds").hexdigest()
    store.put(keep, b"a file another case holds")
    assert store.remove(SHA) is True and store.remove(SHA) is False
    assert kept(store, SHA) is None and store.check(SHA) == MISSING
    assert list(store.names()) == [keep] and store.read(keep) == b"a file another case holds"


def test_a_sweep_never_deletes_bytes_stored_again_since_it_looked(open_store):
    sweep, upload = open_store(KEY), open_store(KEY)  # two instances
    at = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
    sweep.put(SHA, SECRET, at=at)
    cutoff = at + timedelta(hours=1)  # the sweep: unused, and older than an hour
    upload.put(SHA, SECRET, at=at + timedelta(hours=2))  # the same screenshot, sent again
    assert sweep.remove(SHA, stored_before=cutoff) is False
    assert upload.read(SHA) == SECRET
    assert sweep.remove(SHA, stored_before=at + timedelta(hours=3)) is True
    assert sweep.check(SHA) == MISSING
