"""Rules of the exchanges between professionals, without I/O: who sees which message, whom a message tells (members
only: a chosen id or an ``@Prénom Nom`` that is nobody of the group tells nobody), what counts as unread."""
from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

EMPTY = "Écrivez un message avant de l'envoyer."
NOT_A_MEMBER = "Seuls les membres du groupe de suivi peuvent être mentionnés ou recevoir une question."
SELF_QUESTION = "Adressez la question à un autre membre du groupe de suivi."


class ExchangeError(ValueError):
    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.message, self.field = message, field


@dataclass(frozen=True)
class GroupMember:
    person_id: uuid.UUID
    firstname: str
    lastname: str


@dataclass(frozen=True)
class Seen:
    """What the visibility rule needs of a message."""

    shared_with_beneficiary: bool


def visible(message: Seen, *, member: bool) -> bool:
    """Members read the whole thread; the beneficiary only what was shared with her; anyone else nothing."""
    return member or message.shared_with_beneficiary


def check_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise ExchangeError(EMPTY, "text")
    return text


def folded(value: str) -> str:
    """Lower case, without accents, spaces squeezed: ``@Éloïse  Dupont`` matches ``@eloise dupont``."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", value) if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


def written_mentions(text: str, members: Iterable[GroupMember]) -> set[uuid.UUID]:
    """The members named in the text as ``@Prénom Nom`` (or ``@Nom Prénom``, or ``@Prénom`` when one member only
    has that first name). Whatever else follows an @ (an email address, someone outside the group) names nobody."""
    members = list(members)
    body = folded(text)
    found: set[uuid.UUID] = set()

    def named(words: str) -> bool:
        words = folded(words)
        return bool(words) and re.search(rf"(?<![\w.])@{re.escape(words)}(?![\w-])", body) is not None

    firstnames: dict[str, int] = {}
    for m in members:
        firstnames[folded(m.firstname)] = firstnames.get(folded(m.firstname), 0) + 1
    for m in members:
        if named(f"{m.firstname} {m.lastname}") or named(f"{m.lastname} {m.firstname}") or (
                firstnames.get(folded(m.firstname)) == 1 and named(m.firstname)):
            found.add(m.person_id)
    return found


def recipients(author_id: uuid.UUID | None, members: Iterable[GroupMember], chosen: Iterable[uuid.UUID],
               addressed_to: uuid.UUID | None, text: str) -> tuple[list[uuid.UUID], uuid.UUID | None]:
    """Whom a message tells: the members chosen in the form (anyone else is refused), those written as ``@Nom``,
    and the member a question is put to; never the author. Returns (mentioned ids in the group's order,
    addressed_to)."""
    members = list(members)
    ids = [m.person_id for m in members]
    chosen = set(chosen)
    if not chosen <= set(ids) or (addressed_to is not None and addressed_to not in ids):
        raise ExchangeError(NOT_A_MEMBER, "mentions" if not chosen <= set(ids) else "addressed_to")
    if addressed_to is not None and addressed_to == author_id:
        raise ExchangeError(SELF_QUESTION, "addressed_to")
    told = chosen | written_mentions(text, members) | ({addressed_to} if addressed_to else set())
    told.discard(author_id)
    return [i for i in ids if i in told], addressed_to


def unread(messages: Iterable[tuple[uuid.UUID | None, datetime]], reader: uuid.UUID,
           read_up_to: datetime | None) -> int:
    """Messages of others newer than what the reader last viewed (all of them if she never opened the thread)."""
    return sum(1 for author, at in messages
               if author != reader and (read_up_to is None or at > read_up_to))
