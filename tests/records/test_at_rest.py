"""Records at rest (issue 24, point 6): `schoolbot run` says in one line whether evidence
is encrypted and warns when `.env` or the data folder is readable by others; a missing key
is a status line, not a crash; `schoolbot records encrypt-evidence` migrates plain files,
safe to run again or to interrupt."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess

import pytest

from bot.kernel.evidence_folder import FolderEvidenceStore
from bot.kernel.evidence_keys import EvidenceKeys
from tests.helpers import SCHOOLBOT, env_for, run_until_healthy

PLAIN = b"MARKER-PLAIN screenshot bytes"


def key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def home(tmp_path, *, loose: bool) -> dict[str, str]:
    (tmp_path / ".env").write_text("SCHOOLBOT_POLICY=default\n")
    (tmp_path / ".env").chmod(0o644 if loose else 0o600)
    data = tmp_path / "data"
    data.mkdir(mode=0o700, exist_ok=True)
    if loose:
        data.chmod(0o755)
    return env_for(tmp_path, SCHOOLBOT_HOME=str(tmp_path))


async def run_output(env: dict[str, str], cwd) -> str:
    return await run_until_healthy(env, cwd)


@pytest.mark.issue(24, 6)
async def test_run_says_evidence_is_not_encrypted_and_warns_of_readable_env_and_data(tmp_path):
    output = await run_output(home(tmp_path, loose=True), tmp_path)
    lines = output.splitlines()
    assert any(line.startswith("Evidence files: not encrypted at rest") for line in lines)
    [env_line] = [line for line in lines if ".env can be read by other users" in line]
    assert "chmod 600" in env_line and "-rw-r--r--" in env_line
    assert any(line.startswith("Warning: the data folder") for line in lines)
    assert "Traceback" not in output


@pytest.mark.issue(24, 6)
async def test_run_with_a_key_names_it_and_the_files_still_to_migrate(tmp_path):
    env = home(tmp_path, loose=False)
    FolderEvidenceStore(tmp_path / "data" / "evidence").put(
        hashlib.sha256(PLAIN).hexdigest(), PLAIN
    )
    secret = key()
    output = await run_output({**env, "EVIDENCE_KEYS": secret}, tmp_path)
    current = EvidenceKeys.parse(secret).current_id
    assert (
        f"Evidence files: encrypted at rest (key {current}). 1 older file(s) are not yet: "
        "run  schoolbot records encrypt-evidence"
    ) in output
    assert "can be read by other users" not in output and secret not in output


@pytest.mark.issue(24, 6)
def test_a_malformed_key_stops_a_command_with_one_clear_line(tmp_path):
    env = {**home(tmp_path, loose=False), "EVIDENCE_KEYS": "c2hvcnQ="}
    done = subprocess.run(
        [*SCHOOLBOT, "records", "schedule"], env=env, capture_output=True, text=True,
        cwd=tmp_path, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "EVIDENCE_KEYS: key 1 is 5 bytes; each must be 32" in done.stderr
    assert "c2hvcnQ" not in done.stderr


@pytest.mark.issue(24, 6)
def test_encrypt_evidence_migrates_plain_files_and_is_safe_to_repeat(tmp_path):
    env = home(tmp_path, loose=False)
    store = FolderEvidenceStore(tmp_path / "data" / "evidence")
    names = []
    for n in range(3):
        data = PLAIN + bytes([n])
        names.append(hashlib.sha256(data).hexdigest())
        store.put(names[-1], data)
    # An interrupted earlier run left a half-written file: it is never taken for evidence.
    (store.path_for(names[0]).parent / ".incoming-x1").write_bytes(b"MARKER-PLAIN half")

    def cli(extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*SCHOOLBOT, "records", "encrypt-evidence"], env={**env, **extra},
            capture_output=True, text=True, cwd=tmp_path, timeout=60,
        )  # fmt: skip

    refused = cli({})
    assert refused.returncode == 1 and "EVIDENCE_KEYS is not set" in refused.stderr
    assert "os.urandom(32)" in refused.stderr  # how to make a key
    secret = key()
    first = cli({"EVIDENCE_KEYS": secret})
    assert first.returncode == 0, first.stderr
    assert "Encrypted 3 file(s)" in first.stdout and "0 already were" in first.stdout
    again = cli({"EVIDENCE_KEYS": secret})
    assert "Encrypted 0 file(s)" in again.stdout and "3 already were" in again.stdout
    keyed = FolderEvidenceStore(store.root, EvidenceKeys.parse(secret))
    for n, sha in enumerate(names):
        assert b"MARKER" not in store.path_for(sha).read_bytes()
        assert keyed.read(sha) == PLAIN + bytes([n])
