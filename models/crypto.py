"""Encryption at rest for sensitive personal information (PIPL arts. 28 and 51).

Columns typed :class:`EncryptedText` or :class:`EncryptedJSON` hold
``<key id>:<base64(nonce + AES-256-GCM ciphertext)>``. The key id travels with
each value, so a new ``data_key`` can take over while values written under a
retired key still decrypt; ``unionbot reencrypt`` rewrites them under the new
key. Lookups ("has this ID number applied before?") use a keyed hash
(:func:`lookup_hash`), never the plaintext.

The keyring is process-wide because SQLAlchemy column types have no other way
to reach it; :func:`install` sets it once when the app or a CLI command starts.
Without one, writing a sensitive value raises: plaintext is never stored.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Engine, String, Text, TypeDecorator, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, created_at

NONCE_BYTES = 12
TAG_BYTES = 16
KEY_ID_PATTERN = re.compile(r"[0-9a-f]{8}")


class DataKeyError(RuntimeError):
    """The data key is missing or does not match what the database holds."""


def key_id(key: bytes) -> str:
    """A short public name for ``key``: stored with each value, reveals nothing about it."""
    return hashlib.sha256(b"unionbot key id\0" + key).hexdigest()[:8]


@dataclass(frozen=True)
class Keyring:
    """The current data key, retired keys that can still decrypt, and the lookup-hash key."""

    current: bytes
    retired: tuple[bytes, ...] = ()
    index_key: bytes = b""

    @property
    def current_id(self) -> str:
        return key_id(self.current)

    @property
    def ids(self) -> set[str]:
        return {key_id(key) for key in (self.current, *self.retired)}

    @property
    def lookup_key(self) -> bytes:
        # Derived from the current key unless given, so a deployment needs one secret;
        # rotating data_key then needs index_key pinned to the old derived value.
        return self.index_key or hmac.digest(self.current, b"unionbot lookup hash", "sha256")

    def encrypt(self, plaintext: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.current).encrypt(nonce, plaintext.encode(), self.current_id.encode())
        return f"{self.current_id}:{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str) -> str:
        kid, sep, body = token.partition(":")
        if not sep or not KEY_ID_PATTERN.fullmatch(kid):
            # Never echo the value: it may be plaintext written outside unionbot.
            raise DataKeyError(
                "a stored value is not an encrypted value (written outside unionbot?)"
            )
        key = next((k for k in (self.current, *self.retired) if key_id(k) == kid), None)
        if key is None:
            raise DataKeyError(
                f"a value was encrypted with data key {kid}, which is not configured "
                "(set it as security.data_key or in security.retired_data_keys)"
            )
        try:
            raw = base64.b64decode(body, validate=True)
        except binascii.Error:
            raise DataKeyError(f"a value under data key {kid} is damaged (not base64)") from None
        if len(raw) < NONCE_BYTES + TAG_BYTES:
            raise DataKeyError(f"a value under data key {kid} is damaged (too short)")
        try:
            plain = AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], kid.encode())
        except InvalidTag:
            raise DataKeyError(f"a value under data key {kid} failed authentication") from None
        return plain.decode()

    def lookup_hash(self, purpose: str, value: str) -> str:
        message = f"{purpose}\0{value}".encode()
        return hmac.new(self.lookup_key, message, "sha256").hexdigest()


_keyring: Keyring | None = None


def install(keyring: Keyring) -> None:
    global _keyring
    _keyring = keyring


def keyring() -> Keyring:
    if _keyring is None:
        raise DataKeyError("no data key installed; sensitive data cannot be read or written")
    return _keyring


def lookup_hash(purpose: str, value: str) -> str:
    """Keyed hash of ``value`` for equality lookups; ``purpose`` keeps uses apart."""
    return keyring().lookup_hash(purpose, value)


class EncryptedText(TypeDecorator):
    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else keyring().encrypt(value)

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else keyring().decrypt(value)


class EncryptedJSON(TypeDecorator):
    """A JSON document encrypted as a whole. Assign a new value to change it:
    changes made inside the document are not tracked."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        if value is None:
            return None
        return keyring().encrypt(json.dumps(value, ensure_ascii=False))

    def process_result_value(self, value: str | None, dialect: Any) -> Any:
        return None if value is None else json.loads(keyring().decrypt(value))


class KeyCheck(Base):
    """One row per data key that has written to this database.

    Lets startup tell "wrong key" apart from "new database" before anything is
    written under a key that cannot read what is already there.
    """

    __tablename__ = "key_checks"

    key_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    check_value: Mapped[str] = mapped_column(EncryptedText)
    created_at: Mapped[created_at]


CHECK_PLAINTEXT = "unionbot"


def verify(engine: Engine, ring: Keyring) -> None:
    """Refuse a keyring that cannot read this database; record the current key's use.

    Skipped on a database that has no schema yet (the check runs again after migrating).
    """
    if "key_checks" not in inspect(engine).get_table_names():
        return
    with Session(engine) as session, session.begin():
        known = set(session.scalars(select(KeyCheck.key_id)))
        missing = known - ring.ids
        if known and not (known & ring.ids):
            raise DataKeyError(
                "security.data_key does not match this database: its data was written "
                f"with data key {', '.join(sorted(missing))}"
            )
        if missing:
            raise DataKeyError(
                f"data key {', '.join(sorted(missing))} wrote to this database but is not "
                "configured; keep it in security.retired_data_keys until "
                "`unionbot reencrypt` has run"
            )
        for check in session.scalars(select(KeyCheck)):
            if check.check_value != CHECK_PLAINTEXT:
                raise DataKeyError(f"data key {check.key_id} failed its check value")
        if ring.current_id not in known:
            try:
                with session.begin_nested():
                    session.add(KeyCheck(key_id=ring.current_id, check_value=CHECK_PLAINTEXT))
            except IntegrityError:
                pass  # another process starting at the same time recorded it first


def encrypted_columns() -> Iterable[tuple[type, str]]:
    """Every (model, attribute) stored encrypted, for re-encryption under a new key."""
    for mapper in Base.registry.mappers:
        for column in mapper.columns:
            if isinstance(column.type, EncryptedText | EncryptedJSON) and column.key:
                yield mapper.class_, column.key


def reencrypt(engine: Engine, ring: Keyring) -> int:
    """Rewrite every encrypted value under the current key; return how many rows changed."""
    changed = 0
    current = ring.current_id + ":"
    for model, attribute in encrypted_columns():
        if model is KeyCheck:
            continue  # retired keys' check values are deleted below, not rewritten or counted
        table = model.__table__
        column = table.c[attribute]
        raw = column.type.impl  # read and write the stored token itself
        pk = list(table.primary_key.columns)
        # Rewriting a value is not a change of it: keep columns like updated_at (which the
        # retention purge reads) as they were instead of letting their onupdate fire.
        unchanged = {c.name: c for c in table.columns if c.onupdate is not None}
        with Session(engine) as session, session.begin():
            rows = session.execute(select(*pk, column.cast(raw)).where(column.isnot(None))).all()
            for *keys, token in rows:
                if token.startswith(current):
                    continue
                value = column.type.process_result_value(token, engine.dialect)
                where = [c == k for c, k in zip(pk, keys, strict=True)]
                session.execute(
                    table.update().where(*where).values({**unchanged, column.name: value})
                )
                changed += 1
    with Session(engine) as session, session.begin():
        for check in session.scalars(select(KeyCheck)):
            if check.key_id != ring.current_id:
                session.delete(check)
    return changed
