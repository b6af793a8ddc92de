"""Spec §4.1 C and D: orientation managers of the manager's territory, professionals of one structure.

Both are matched by email in every territory (one account per address). A match of the same kind, in the same
place, is the same person: a re-import updates their phone and position where the cell is not empty, never their
names (they are the person's own, corrected at onboarding). Anyone else holding the address is a conflict.
"""
from __future__ import annotations

import uuid

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.directory import PersonFields, PersonRole
from contracts.imports import ImportActor, ImportRowValues, Outcome, ReviewStatus
from directory.adapters.orm import Person, Structure
from directory.domain.validation import clean_email, clean_phone
from directory.handlers.deps import Deps
from directory.handlers.imports.common import (ACCOUNT_EXISTS, PeopleByEmail, Plan, column_message, conflict,
                                               emails_of, first, invalid, person_match, text)
from directory.handlers.people import add_person, clean_person, publish_person, set_contact
from servicekit.errors import Invalid

OTHER_STRUCTURE = (f"{ACCOUNT_EXISTS} C'est celui d'un professionnel d'une autre structure du territoire : "
                   "un professionnel n'appartient qu'à une structure.")
ONE_PHONE = "« Téléphones » : seul le premier numéro est enregistré (l'annuaire en garde un seul)."


class PersonImport:
    role: PersonRole
    headers: dict[str, str]  # PersonFields' field → the template's column
    phone_field: str  # the import's field of the phone: what ``changed`` names

    def __init__(self, deps: Deps, actor: ImportActor, deployment_id: uuid.UUID,
                 structure: Structure | None = None) -> None:
        self.deps, self.actor, self.deployment_id, self.structure = deps, actor, deployment_id, structure
        self.people = PeopleByEmail()

    async def load(self, session: AsyncSession, rows: list[ImportRowValues]) -> None:
        self.people = await PeopleByEmail.load(session, emails_of(rows, "email"))

    def fields(self, values: dict) -> PersonFields:
        raise NotImplementedError

    def mismatch(self, person: Person) -> str | None:
        """Why the person holding the address is not the one this row is about, or None."""
        raise NotImplementedError

    def plan(self, row: ImportRowValues) -> Plan:
        try:
            fields = self.fields(row.values)
            person = self.people.get(clean_email(fields.email))
            if person is None:
                clean_person(fields)  # a new person's names are required, as in the form
            phone = clean_phone(fields.phone)
        except (ValidationError, Invalid) as error:
            return invalid(column_message(error, self.headers))
        notes = [ONE_PHONE] if len(row.values.get("phones") or []) > 1 else []
        if person is None:
            return Plan(ReviewStatus.new, messages=notes, work=(None, fields))
        if problem := self.mismatch(person):
            same_territory = person.deployment_id == self.deployment_id
            return conflict(problem, person_match(person) if same_territory else None)
        changes = {k: v for k, v in (("phone", phone), ("position", fields.position.strip()))
                   if v and v != getattr(person, k)}
        changed = [self.phone_field if k == "phone" else k for k in changes]
        return Plan(ReviewStatus.same, match=person_match(person), messages=notes, changed=changed,
                    work=(person, changes))

    async def apply(self, session: AsyncSession, row: ImportRowValues, plan: Plan) -> tuple[Outcome, uuid.UUID]:
        person, work = plan.work
        if person is None:
            structure_ids = [self.structure.id] if self.structure else []
            person = await add_person(session, self.deps, self.deployment_id, self.role, work, structure_ids, [],
                                      self.actor.name)
            self.people.add(person, structure_ids)
            return Outcome.created, person.id
        if not work:
            return Outcome.unchanged, person.id
        person.version += 1
        set_contact(person, person.email, work.get("phone", person.phone))
        person.position = work.get("position", person.position)
        person.updated_at = self.deps.clock()
        await publish_person(session, self.deps, person, "updated")
        return Outcome.updated, person.id


class OrientationManagerImport(PersonImport):
    role = PersonRole.orientation_manager
    headers = {"email": "Courriel", "firstname": "Prénom", "lastname": "Nom", "phone": "Téléphones"}
    phone_field = "phones"

    def fields(self, values: dict) -> PersonFields:
        # "Prénom" is the first name, "Nom" the last name (v1 swapped them, spec §4.1 C).
        return PersonFields(email=text(values, "email"), firstname=text(values, "firstname"),
                            lastname=text(values, "lastname"), phone=first(values, "phones"))

    def mismatch(self, person: Person) -> str | None:
        if person.role == PersonRole.orientation_manager and person.deployment_id == self.deployment_id:
            return None
        return ACCOUNT_EXISTS


class ProfessionalImport(PersonImport):
    role = PersonRole.professional
    headers = {"email": "Courriel", "firstname": "Prénom", "lastname": "Nom", "phone": "Téléphone",
               "position": "Fonction"}
    phone_field = "mobile_number"

    def fields(self, values: dict) -> PersonFields:
        return PersonFields(email=text(values, "email"), firstname=text(values, "firstname"),
                            lastname=text(values, "lastname"), phone=text(values, "mobile_number"),
                            position=text(values, "position"))

    def mismatch(self, person: Person) -> str | None:
        if person.role != PersonRole.professional or person.deployment_id != self.deployment_id:
            return ACCOUNT_EXISTS
        if self.structure is None or self.structure.id not in self.people.structures[person.id]:
            return OTHER_STRUCTURE
        return None
