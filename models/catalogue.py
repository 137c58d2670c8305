"""The catalogue as messages read it: read once per process, kept until staff change it.

Every free-text message is matched against the benefits, the programmes' and the
competitions' aliases. Reading those rows and decoding their JSON for every
message cost more than everything else a message does, so a process keeps a
snapshot: plain frozen values, never ORM instances (a session would adopt a shared
instance, and another thread's session would then see its changes half-made).

Invalidation is a token in ``catalogue_version``, one row. Any change to a
programme, competition or benefit through a session (the admin, ``sync-data``,
``aid-window``, seeding, a bulk ``update()``) writes a fresh random token in the
same transaction, caught by the session events below, so no writer can forget
it. A message reads the token once (one indexed row) and rebuilds the snapshot
when it differs: an edit reaches every process and machine with the next message
after it commits. Random rather than counted: a rolled-back edit and a later
committed one would otherwise share a number, and a snapshot of the uncommitted
one would pass for current.

What must stay live is not here: windows, places left and capacities are read per
message from the rows (a handler that picked an item by its code loads it).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import event, insert, select, update
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column

from models.aid import AidProgramme, programmes
from models.base import Base
from models.benefit import Benefit, benefits
from models.competition import Competition, competitions

T = TypeVar("T")
CATALOGUE = (AidProgramme, Competition, Benefit)
_SESSION_KEY = "unionbot.catalogue"  # this transaction's snapshot, in Session.info
_NOTED_KEY = "unionbot.catalogue_version"  # the version this transaction read, if it has


class CatalogueVersion(Base):
    """One row: the token of the catalogue's latest change."""

    __tablename__ = "catalogue_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[int]


_TOKEN_QUERY = select(CatalogueVersion.token).where(CatalogueVersion.id == 1)
# The token as a column of a larger read (models.intake_read).
TOKEN = _TOKEN_QUERY.scalar_subquery()


@dataclass(frozen=True)
class BenefitCard:
    """A benefit as workers are answered with it, and the words that point to it."""

    code: str
    title: str
    answer: str
    audience: str
    how: str
    link: str
    keywords: tuple[str, ...]
    questions: tuple[str, ...]


@dataclass(frozen=True)
class Named:
    """A programme or competition as free text names it: its code, title and aliases."""

    code: str
    title: str
    aliases: tuple[str, ...]

    @property
    def definition(self) -> Mapping[str, Any]:
        # handlers.cues.match_aliases reads aliases where the rows keep them.
        return {"aliases": self.aliases}


@dataclass(frozen=True, eq=False)
class Catalogue:
    """The active benefits, programmes and competitions, in the lists' order."""

    token: int | None
    benefits: tuple[BenefitCard, ...]
    programmes: tuple[Named, ...]
    competitions: tuple[Named, ...]
    _derived: dict[Callable, Any] = field(default_factory=dict, repr=False)

    def derive(self, build: Callable[[Catalogue], T]) -> T:
        """``build(self)``, computed once per snapshot (the matcher's index, say)."""
        try:
            return self._derived[build]
        except KeyError:
            return self._derived.setdefault(build, build(self))

    def benefit(self, code: str) -> BenefitCard | None:
        return next((card for card in self.benefits if card.code == code), None)


_lock = threading.Lock()
_UNREAD = object()
_kept: Catalogue | None = None


def current(session: Session) -> Catalogue:
    """The catalogue as ``session``'s transaction sees it: the kept snapshot when its
    token is the database's, else a fresh one (kept for the next messages)."""
    global _kept
    snapshot = session.info.get(_SESSION_KEY)
    if snapshot is not None:
        return snapshot
    noted = session.info.get(_NOTED_KEY, _UNREAD)
    token = session.scalar(_TOKEN_QUERY) if noted is _UNREAD else noted
    kept = _kept
    if kept is None or token is None or kept.token != token:
        kept = _load(session, token)
        if token is not None:  # no row: nothing tells a change apart, so keep nothing
            with _lock:
                _kept = kept
    session.info[_SESSION_KEY] = kept
    return kept


def note_token(session: Session, token: int | None) -> None:
    """The token as ``session``'s transaction just read it (with the intake's one read),
    so the catalogue's check costs no statement of its own."""
    session.info[_NOTED_KEY] = token


def listed(values: object, key: str) -> tuple[str, ...]:
    """The strings under ``key`` of a JSON object staff edit (a benefit's ``matching``,
    a programme's ``definition``); anything malformed reads as none."""
    found = values.get(key) if isinstance(values, dict) else None
    if not isinstance(found, list | tuple):
        return ()
    return tuple(str(v) for v in found if v)


def card_of(benefit: Benefit) -> BenefitCard:
    return BenefitCard(
        benefit.code,
        benefit.title or "",
        benefit.answer or "",
        benefit.audience or "",
        benefit.how or "",
        benefit.link or "",
        listed(benefit.matching, "keywords"),
        listed(benefit.matching, "questions"),
    )


def _load(session: Session, token: int | None) -> Catalogue:
    return Catalogue(
        token,
        tuple(card_of(b) for b in benefits(session)),
        tuple(Named(p.code, p.name, listed(p.definition, "aliases")) for p in programmes(session)),
        tuple(
            Named(c.code, c.title, listed(c.definition, "aliases")) for c in competitions(session)
        ),
    )


def bump(session: Session) -> None:
    """Mark the catalogue changed, in ``session``'s transaction."""
    session.info.pop(_SESSION_KEY, None)
    token = secrets.randbits(62)
    session.info[_NOTED_KEY] = token  # this transaction now sees the changed catalogue
    connection = session.connection()
    table = CatalogueVersion.__table__
    if connection.execute(update(table).values(token=token)).rowcount == 0:
        connection.execute(insert(table).values(id=1, token=token))


@event.listens_for(Session, "before_flush")
def _flushing_changes(session: Session, _context, _instances) -> None:
    changed = any(isinstance(item, CATALOGUE) for item in (*session.new, *session.deleted)) or any(
        isinstance(item, CATALOGUE) and session.is_modified(item) for item in session.dirty
    )
    if changed:
        bump(session)


@event.listens_for(Session, "do_orm_execute")
def _bulk_changes(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    if any(mapper.class_ in CATALOGUE for mapper in state.all_mappers):
        bump(state.session)


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction) -> None:
    # The next transaction reads the token again (an edit may have come in between).
    if transaction.parent is None:
        session.info.pop(_SESSION_KEY, None)
        session.info.pop(_NOTED_KEY, None)
