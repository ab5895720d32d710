"""The keys evidence files are encrypted with at rest (AES-256-GCM, from `cryptography`).

EVIDENCE_KEYS holds one or more keys, each 32 random bytes in base64, separated by commas.
The first encrypts every new file; any of them decrypts, so a key is rotated by putting a
new one first and keeping the old one until `schoolbot records encrypt-evidence` has
re-encrypted every file with the new one.

A file is `MAGIC`, the key's id (4 bytes, from a hash of the key: the key itself is never
written), a 12-byte nonce, then the ciphertext with its tag. The file's SHA-256 name (the
hash of the original bytes) is authenticated with it, so a file moved to another name
does not open.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"SBEV1"
KEY_ID_BYTES = 4
NONCE_BYTES = 12
HEADER_BYTES = len(MAGIC) + KEY_ID_BYTES + NONCE_BYTES
HOW_TO_MAKE_ONE = 'python3 -c "import base64, os; print(base64.b64encode(os.urandom(32)).decode())"'


class KeyProblem(ValueError):
    """EVIDENCE_KEYS can't be used; the message says why in a line (never the key)."""


class EvidenceLocked(Exception):
    """A file that can't be opened with the keys this server has; the message says why
    (never a byte of the file)."""


def key_id(key: bytes) -> bytes:
    return hashlib.sha256(b"schoolbot evidence key\0" + key).digest()[:KEY_ID_BYTES]


@dataclass(frozen=True)
class EvidenceKeys:
    keys: tuple[bytes, ...]

    @classmethod
    def parse(cls, text: str) -> EvidenceKeys:
        """From EVIDENCE_KEYS: base64 keys separated by commas (or spaces), first one first."""
        found: list[bytes] = []
        for n, part in enumerate(text.replace(",", " ").split(), 1):
            try:
                padded = part + "=" * (-len(part) % 4)
                key = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
            except (binascii.Error, ValueError):
                raise KeyProblem(f"EVIDENCE_KEYS: key {n} is not base64.") from None
            if len(key) != 32:
                raise KeyProblem(
                    f"EVIDENCE_KEYS: key {n} is {len(key)} bytes; each must be 32 "
                    f"(make one with: {HOW_TO_MAKE_ONE})."
                )
            found.append(key)
        if not found:
            raise KeyProblem("EVIDENCE_KEYS is empty.")
        return cls(tuple(found))

    @property
    def current_id(self) -> str:
        """The id of the key new files are encrypted with, as hex (safe to print)."""
        return key_id(self.keys[0]).hex()

    @property
    def ids(self) -> set[str]:
        """The hex ids of every key this server has."""
        return {key_id(k).hex() for k in self.keys}

    def encrypt(self, name: str, data: bytes) -> bytes:
        key = self.keys[0]
        header = MAGIC + key_id(key)
        nonce = os.urandom(NONCE_BYTES)
        return header + nonce + AESGCM(key).encrypt(nonce, data, header + name.encode())

    def decrypt(self, name: str, blob: bytes) -> bytes:
        header = header_of(blob)
        nonce = blob[len(header) : HEADER_BYTES]
        wanted = header[len(MAGIC) :]
        key = next((k for k in self.keys if key_id(k) == wanted), None)
        if key is None:
            raise EvidenceLocked(
                f"the file was encrypted with key {wanted.hex()}, which is not in EVIDENCE_KEYS"
            )
        try:
            return AESGCM(key).decrypt(nonce, blob[HEADER_BYTES:], header + name.encode())
        except InvalidTag:
            raise EvidenceLocked(
                "the file does not decrypt with its key: it has been changed or damaged"
            ) from None


def header_of(blob: bytes) -> bytes:
    return blob[: len(MAGIC) + KEY_ID_BYTES]


def is_encrypted(head: bytes) -> bool:
    return head.startswith(MAGIC)


def file_key_id(head: bytes) -> str | None:
    """The hex id of the key a file was encrypted with, from its first bytes; None if plain."""
    if not is_encrypted(head) or len(head) < len(MAGIC) + KEY_ID_BYTES:
        return None
    return head[len(MAGIC) : len(MAGIC) + KEY_ID_BYTES].hex()
