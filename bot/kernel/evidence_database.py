"""Evidence bytes in the database (table evidence_blob): the store for PostgreSQL, where
several instances answer for one school and any of them may be asked for a file that
another received, and where a database backup should hold the whole record.

Each file is one row, kept once per SHA-256 of its original bytes and encrypted at rest
with EVIDENCE_KEYS just as the folder store does (the same format, so moving a folder in
copies the bytes as they are). Every call is its own short transaction: bytes are
committed before the conversation that holds their reference is saved, so no backup and
no other instance ever sees a reference without its bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from bot.kernel.clock import utcnow
from bot.kernel.evidence_keys import HEADER_BYTES, EvidenceKeys, file_key_id
from bot.kernel.evidence_store import EvidenceMissing, opened, resealed, sealed, state_of
from bot.storage.tables import EvidenceBlob

BLOBS: sa.Table = EvidenceBlob.__table__  # type: ignore[attr-defined]


class DatabaseEvidenceStore:
    kind = "database"

    def __init__(self, engine: sa.Engine, keys: EvidenceKeys | None = None, school_id: int = 1):
        self.engine = engine
        self.keys = keys
        self.school_id = school_id

    def where(self) -> str:
        return "the database"

    def _one(self, sha256: str) -> sa.ColumnElement[bool]:
        return sa.and_(BLOBS.c.school_id == self.school_id, BLOBS.c.sha256 == sha256)

    def put(self, sha256: str, data: bytes, at: datetime | None = None) -> None:
        self._keep(sha256, at, lambda: sealed(self.keys, sha256, data))

    def put_sealed(self, sha256: str, blob: bytes, at: datetime | None) -> bool:
        """Keep `blob` as it is (sealed elsewhere: a file moved in from the folder) unless
        these bytes are here already; True if a row was added."""
        return self._keep(sha256, at, lambda: blob)

    def _keep(self, sha256: str, at: datetime | None, blob: Callable[[], bytes]) -> bool:
        """Add the row, or mark the bytes already here as stored at `at` (now if None)."""
        moment = at or utcnow()
        touch = sa.update(BLOBS).where(self._one(sha256)).values(stored_at=moment)
        with self.engine.begin() as connection:
            if connection.execute(touch).rowcount:
                return False
        row = {"school_id": self.school_id, "sha256": sha256, "data": blob(), "stored_at": moment}
        try:
            with self.engine.begin() as connection:
                connection.execute(sa.insert(BLOBS).values(**row))
        except IntegrityError:  # another instance stored the same bytes at the same moment
            with self.engine.begin() as connection:
                connection.execute(touch)
            return False
        return True

    def raw(self, sha256: str) -> bytes:
        """The bytes as kept (encrypted or not)."""
        with self.engine.connect() as connection:
            blob = connection.execute(
                sa.select(BLOBS.c.data).where(self._one(sha256))
            ).scalar_one_or_none()
        if blob is None:
            raise EvidenceMissing(sha256[:16])
        return bytes(blob)

    def read(self, sha256: str) -> bytes:
        return opened(self.keys, sha256, self.raw(sha256))

    def check(self, sha256: str) -> str:
        return state_of(self, sha256)

    def stored_at(self, sha256: str) -> float | None:
        with self.engine.connect() as connection:
            row = connection.execute(
                sa.select(EvidenceBlob.stored_at).where(  # type: ignore[call-overload]
                    self._one(sha256)  # this store's school_id and the SHA-256
                )
            ).first()
        return None if row is None else row[0].timestamp()

    def remove(self, sha256: str, *, stored_before: datetime | None = None) -> bool:
        """One statement: a row stored again meanwhile is not deleted."""
        delete = sa.delete(BLOBS).where(self._one(sha256))
        if stored_before is not None:
            delete = delete.where(BLOBS.c.stored_at < stored_before)
        with self.engine.begin() as connection:
            gone = connection.execute(delete)
        return bool(gone.rowcount)

    def names(self) -> Iterator[str]:
        with self.engine.connect() as connection:
            found = connection.execute(
                sa.select(BLOBS.c.sha256)
                .where(BLOBS.c.school_id == self.school_id)
                .order_by(BLOBS.c.sha256)
            ).scalars()
            names = list(found)
        yield from names

    def key_of(self, sha256: str) -> str | None:
        """From the first bytes only: a start-up count does not read whole files."""
        head = sa.func.substr(BLOBS.c.data, 1, HEADER_BYTES)
        with self.engine.connect() as connection:
            first = connection.execute(
                sa.select(head).where(self._one(sha256))
            ).scalar_one_or_none()
        if first is None:
            raise EvidenceMissing(sha256[:16])
        return file_key_id(bytes(first))

    def encrypt_one(self, sha256: str) -> bool:
        """Under a row lock on PostgreSQL, so two runs at once encrypt each file once."""
        with self.engine.begin() as connection:
            query = sa.select(BLOBS.c.data).where(self._one(sha256))
            if connection.dialect.name == "postgresql":
                query = query.with_for_update()
            blob = connection.execute(query).scalar_one_or_none()
            if blob is None:
                raise EvidenceMissing(sha256[:16])
            blob = bytes(blob)
            new = resealed(self.keys, sha256, blob, file_key_id(blob[:HEADER_BYTES]))
            if new is None:
                return False
            connection.execute(sa.update(BLOBS).where(self._one(sha256)).values(data=new))
        return True
