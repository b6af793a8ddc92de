"""France Travail's principal flux (spec §4.3), the directory's part: each row's référent and their agency, found or
created in the uploader's territory before the notebook adds the référent to the beneficiary's group (the import
service sends the rows that need it here first, then to the notebook with the person's id this answers).

The agency is the structure named ``struct_principale`` (case, accents and spaces aside) in the territory, created
when there is none (v1 created it from France Travail's agencies API; the flux gives only its name). The référent is
the person holding their address (converted from France Travail's internal ``.net`` by the import service): a
professional of the territory is reused wherever they work; when nobody holds it, they are created as a professional
of the agency, and identity opens their account from the event, as for a form. An address held by anyone else (a
structure admin, someone of another territory) is not taken over: the row's référent is left out.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.directory import PersonFields, PersonRole, StructureFields
from contracts.imports import ImportActor, ImportRowValues, Outcome, ReviewStatus
from directory.adapters.orm import Person, Structure
from directory.handlers.deps import Deps
from directory.handlers.imports.common import PeopleByEmail, Plan, column_message, conflict, invalid, text
from directory.handlers.people import add_person, clean_person
from directory.handlers.structures import add_structure
from servicekit.contact import normalise_email, search_key
from servicekit.errors import Invalid

AGENCY_DESCRIPTION = "Agence France Travail"
NO_REFERENT = "Le flux ne nomme pas de référent France Travail (agence et adresse e-mail) : aucun n'est ajouté."
NOT_A_PROFESSIONAL = ("L'adresse {email} du référent France Travail est celle d'un compte qui n'est pas un "
                      "professionnel de votre territoire : le référent n'est pas ajouté.")
HEADERS = {"firstname": "referent_prenom", "lastname": "referent_nom", "email": "referent_mail",
           "name": "struct_principale"}
AGENCY_CREATED = "Agence France Travail « {name} » créée dans l'annuaire."
REFERENT_CREATED = "Référent France Travail {name} ({email}) créé dans l'annuaire, avec son compte."


@dataclass
class ReferentWork:
    agency: Structure | None  # None: created
    agency_fields: StructureFields
    person: Person | None  # None: created
    person_fields: PersonFields


class FranceTravailReferentImport:
    def __init__(self, deps: Deps, actor: ImportActor, deployment_id: uuid.UUID) -> None:
        self.deps, self.actor, self.deployment_id = deps, actor, deployment_id
        self.agencies: dict[str, Structure] = {}
        self.people = PeopleByEmail()

    async def load(self, session: AsyncSession, rows: list[ImportRowValues]) -> None:
        keys = sorted({search_key(text(r.values, "struct_principale")) for r in rows} - {""})
        found = (await session.execute(select(Structure).where(
            Structure.deployment_id == self.deployment_id, Structure.name_key.in_(keys),
            Structure.deactivated_at.is_(None)))).scalars().all() if keys else []
        self.agencies = {s.name_key: s for s in found}
        self.people = await PeopleByEmail.load(session, [self.email_of(r.values) for r in rows])

    @staticmethod
    def email_of(values: dict) -> str:
        return normalise_email(text(values, "referent_mail")) or ""

    def plan(self, row: ImportRowValues) -> Plan:
        values = row.values
        name, email = text(values, "struct_principale"), self.email_of(values)
        if not (name and email):
            return invalid(NO_REFERENT)
        person = self.people.get(email)
        if person is not None and (person.role != PersonRole.professional
                                   or person.deployment_id != self.deployment_id):
            return conflict(NOT_A_PROFESSIONAL.format(email=email))
        fields = PersonFields(firstname=text(values, "referent_prenom"), lastname=text(values, "referent_nom"),
                              email=email)
        try:
            agency_fields = StructureFields(name=name, short_desc=AGENCY_DESCRIPTION)
            if person is None:
                clean_person(fields)  # a new professional's names are required, as in the form
        except (ValidationError, Invalid) as error:
            return invalid(column_message(error, HEADERS))
        agency = self.agencies.get(search_key(name))
        status = ReviewStatus.same if agency is not None and person is not None else ReviewStatus.new
        return Plan(status, work=ReferentWork(agency, agency_fields, person, fields))

    async def apply(self, session: AsyncSession, row: ImportRowValues, plan: Plan) -> tuple[Outcome, uuid.UUID]:
        work: ReferentWork = plan.work
        # An agency created by an earlier row of the batch is found here.
        agency = work.agency or self.agencies.get(search_key(work.agency_fields.name))
        person, outcome = work.person, Outcome.unchanged
        if agency is None:
            agency = await add_structure(session, self.deps, self.deployment_id, work.agency_fields)
            self.agencies[agency.name_key] = agency
            plan.messages.append(AGENCY_CREATED.format(name=agency.name))
            outcome = Outcome.created
        if person is None:
            person = await add_person(session, self.deps, self.deployment_id, PersonRole.professional,
                                      work.person_fields, [agency.id], [], self.actor.name)
            self.people.add(person, [agency.id])
            plan.messages.append(REFERENT_CREATED.format(name=f"{person.firstname} {person.lastname}",
                                                         email=person.email))
            outcome = Outcome.created
        return outcome, person.id
