"""What the three directory imports share: the plan of a row, its French messages, the people found by email.

A row's values are those the import service parsed (``data_import.domain.kinds``: field → value, absent or None
where the cell was empty). The directory validates them again with its own rules (the ones its forms use), so
that an imported structure or person is one the directory would have accepted from a form.
"""
from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.imports import ImportRowValues, MatchView, ReviewStatus, RowReview
from directory.adapters.orm import Person, PersonStructure
from servicekit.errors import Invalid, ServiceError

# Spec §4.1 D (v1's account request answered "un compte associé à l'email existe déjà").
ACCOUNT_EXISTS = "Un compte associé à cette adresse électronique existe déjà."


@dataclass
class Plan:
    """What a row would do (review) or does (apply): its status and what applying it writes."""

    status: ReviewStatus
    match: MatchView | None = None
    messages: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)  # variable fields of a ``same`` row that applying changes
    work: Any = None  # what the kind needs to apply the row

    def review(self, row: int) -> RowReview:
        return RowReview(row=row, status=self.status, match=self.match, messages=self.messages, changed=self.changed)


def invalid(*messages: str) -> Plan:
    return Plan(ReviewStatus.invalid, messages=list(messages))


def conflict(message: str, match: MatchView | None = None) -> Plan:
    return Plan(ReviewStatus.conflict, match=match, messages=[message])


def text(values: dict[str, Any], name: str) -> str:
    value = values.get(name)
    return "" if value is None else str(value).strip()


def first(values: dict[str, Any], name: str) -> str:
    """The first of a list cell (phones): the directory keeps one number per person and per structure."""
    value = values.get(name) or []
    if isinstance(value, str):
        return value.strip()
    return str(value[0]).strip() if value else ""


def column_message(error: Exception, headers: dict[str, str]) -> str:
    """The directory's French refusal, prefixed by the column it is about (as the template names it)."""
    if isinstance(error, ValidationError):
        error = Invalid.of_fields(error.errors())
    message = error.message if isinstance(error, ServiceError) else str(error)
    details = getattr(error, "details", {}) or {}
    names = [details["field"]] if "field" in details else [
        f["loc"][-1] for f in details.get("fields", []) if f.get("loc")]
    columns = [headers[n] for n in names if n in headers]
    return f"« {columns[0]} » : {message}" if columns else message


def person_label(person: Person) -> str:
    return f"{person.firstname} {person.lastname} ({person.email})"


def person_match(person: Person) -> MatchView:
    return MatchView(target_id=person.id, label=person_label(person))


@dataclass
class PeopleByEmail:
    """Active people of every territory whose email a batch names, with their structures: one query each."""

    people: dict[str, Person] = field(default_factory=dict)
    structures: dict[uuid.UUID, set[uuid.UUID]] = field(default_factory=lambda: defaultdict(set))

    @classmethod
    async def load(cls, session: AsyncSession, emails: Iterable[str]) -> PeopleByEmail:
        found = cls()
        emails = sorted({e for e in emails if e})
        if not emails:
            return found
        people = (await session.execute(select(Person).where(
            Person.email.in_(emails), Person.deactivated_at.is_(None)))).scalars().all()
        found.people = {p.email: p for p in people}
        for person_id, structure_id in await session.execute(select(
                PersonStructure.person_id, PersonStructure.structure_id).where(
                PersonStructure.person_id.in_([p.id for p in people]))):
            found.structures[person_id].add(structure_id)
        return found

    def get(self, email: str) -> Person | None:
        return self.people.get(email)

    def add(self, person: Person, structure_ids: Iterable[uuid.UUID]) -> None:
        self.people[person.email] = person
        self.structures[person.id] = set(structure_ids)


def emails_of(rows: Iterable[ImportRowValues], name: str) -> list[str]:
    return [text(r.values, name).lower() for r in rows]
