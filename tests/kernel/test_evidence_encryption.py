"""Evidence encrypted at rest (issue 24, point 6): AES-GCM with a key from the environment,
several keys for rotation (the first encrypts, any decrypts, the key's id in the header),
names and hashes still of the original bytes, plain files still readable until migrated."""

from __future__ import annotations

import base64
import hashlib
import os

import pytest

from bot.kernel.evidence_folder import FolderEvidenceStore
from bot.kernel.evidence_keys import EvidenceKeys, EvidenceLocked, KeyProblem
from bot.kernel.evidence_store import CHANGED, INTACT, LOCKED

SECRET = b"MARKER-SCREENSHOT of the abuse, as a teacher saved it" * 20


def new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


@pytest.mark.issue(24, 6)
def test_files_are_encrypted_at_rest_and_named_by_the_original_bytes(tmp_path):
    keys = EvidenceKeys.parse(new_key())
    store = FolderEvidenceStore(tmp_path, keys)
    sha = hashlib.sha256(SECRET).hexdigest()
    path = store.put(sha, SECRET)
    blob = path.read_bytes()
    assert path.name == sha and b"MARKER" not in blob
    assert blob.startswith(b"SBEV1" + bytes.fromhex(keys.current_id))
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert store.read(sha) == SECRET and store.check(sha) == INTACT
    moved = store.path_for("ab" * 32)  # the same bytes under another name don't open
    moved.parent.mkdir(mode=0o700)
    moved.write_bytes(blob)
    assert store.check("ab" * 32) == CHANGED


@pytest.mark.issue(24, 6)
def test_keys_rotate_the_first_encrypts_any_decrypts(tmp_path):
    old, new = new_key(), new_key()
    sha = hashlib.sha256(SECRET).hexdigest()
    FolderEvidenceStore(tmp_path, EvidenceKeys.parse(old)).put(sha, SECRET)
    plain_sha = hashlib.sha256(b"an older plain file").hexdigest()
    FolderEvidenceStore(tmp_path).put(plain_sha, b"an older plain file")

    rotated = FolderEvidenceStore(tmp_path, EvidenceKeys.parse(f"{new}, {old}"))
    assert rotated.read(sha) == SECRET and rotated.read(plain_sha) == b"an older plain file"
    assert rotated.key_of(sha) != rotated.keys.current_id  # type: ignore[union-attr]
    assert rotated.encrypt_one(sha) and rotated.encrypt_one(plain_sha)
    assert not rotated.encrypt_one(sha)  # already done: idempotent
    only_new = FolderEvidenceStore(tmp_path, EvidenceKeys.parse(new))
    assert only_new.read(sha) == SECRET and only_new.read(plain_sha) == b"an older plain file"
    assert b"older plain" not in only_new.path_for(plain_sha).read_bytes()


@pytest.mark.issue(24, 6)
def test_a_wrong_or_missing_key_is_a_clear_error_without_content(tmp_path):
    sha = hashlib.sha256(SECRET).hexdigest()
    FolderEvidenceStore(tmp_path, EvidenceKeys.parse(new_key())).put(sha, SECRET)
    for store in (
        FolderEvidenceStore(tmp_path, EvidenceKeys.parse(new_key())),
        FolderEvidenceStore(tmp_path),
    ):
        assert store.check(sha) == LOCKED
        with pytest.raises(EvidenceLocked) as problem:
            store.read(sha)
        assert "EVIDENCE_KEYS" in str(problem.value) and "MARKER" not in str(problem.value)
    for bad, why in (("@@@@", "not base64"), (base64.b64encode(b"short").decode(), "32")):
        with pytest.raises(KeyProblem, match=why) as problem:
            EvidenceKeys.parse(f"{new_key()},{bad}")
        assert "key 2" in str(problem.value) and bad not in str(problem.value)
