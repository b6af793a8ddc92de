"""Spec §4.1 B: one line is a structure of the manager's territory and one of its admins.

The structure is matched by name (case, accents and spaces aside) and created when absent; its variable fields are
updated where the file's cell is not empty. The admin is matched by email in every territory: created as the
structure's admin_structure when absent (identity makes the account from the event, as for a form), linked to the
structure otherwise. Several lines with the same structure add several admins.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.directory import PersonFields, PersonRole, StructureFields, StructureUpdatedV1
from contracts.imports import ImportActor, ImportRowValues, MatchView, Outcome, ReviewStatus
from directory.adapters.orm import Person, Structure
from directory.domain.validation import clean_phone
from directory.handlers.deps import Deps
from directory.handlers.imports.common import (ACCOUNT_EXISTS, PeopleByEmail, Plan, column_message, conflict,
                                               emails_of, first, invalid, person_label, text)
from directory.handlers.people import add_person, clean_person, link_person, publish_person, set_contact
from directory.handlers.structures import add_structure, apply_fields, publish_structure, refresh_people_search
from directory.handlers.views import person_links
from servicekit.contact import search_key
from servicekit.errors import Invalid

STRUCTURE_HEADERS = {"name": "Nom", "short_desc": "Description", "phone": "Téléphones", "address1": "Adresse",
                     "address2": "Adresse (complément)", "postal_code": "Code postal", "city": "Ville",
                     "website": "Site web (URL)", "email": "Courriel (email)", "siret": "Siret (Luhn)"}
ADMIN_HEADERS = {"firstname": "Prénom responsable", "lastname": "Nom responsable", "email": "Courriel responsable",
                 "phone": "Téléphones responsable", "position": "Fonction responsable"}
# Variable fields: the structure's attribute → the import's field (what ``changed`` names).
VARIABLE = {"short_desc": "short_desc", "phone": "phones", "address1": "address1", "address2": "address2",
            "postal_code": "postal_code", "city": "city", "website": "website", "email": "email", "siret": "siret"}
ONE_PHONE = "« {column} » : seul le premier numéro est enregistré (l'annuaire en garde un seul)."
ADMIN_ELSEWHERE = f"« Courriel responsable » : {ACCOUNT_EXISTS} Il n'est pas celui d'un gestionnaire de structure " \
                  "de ce territoire : indiquez une autre adresse."
ADMIN_LINKED = "Le gestionnaire {label} a déjà un compte : il sera rattaché à la structure."


@dataclass
class StructureWork:
    structure: Structure | None  # the one matched; None: created
    fields: StructureFields  # what the structure is once the row is applied
    structure_changes: list[str]
    admin: Person | None  # the one matched; None: created
    admin_fields: PersonFields
    admin_changes: dict[str, str] = field(default_factory=dict)  # position, phone
    link: bool = False  # the admin is linked to the structure


def phone_notes(values: dict, *columns: tuple[str, str]) -> list[str]:
    return [ONE_PHONE.format(column=column) for name, column in columns if len(values.get(name) or []) > 1]


class StructureImport:
    def __init__(self, deps: Deps, actor: ImportActor, deployment_id: uuid.UUID) -> None:
        self.deps, self.actor, self.deployment_id = deps, actor, deployment_id
        self.structures: dict[str, Structure] = {}
        self.people = PeopleByEmail()

    async def load(self, session: AsyncSession, rows: list[ImportRowValues]) -> None:
        names = sorted({search_key(text(r.values, "name")) for r in rows})
        found = (await session.execute(select(Structure).where(
            Structure.deployment_id == self.deployment_id, Structure.name_key.in_(names),
            Structure.deactivated_at.is_(None)))).scalars().all()
        self.structures = {s.name_key: s for s in found}
        self.people = await PeopleByEmail.load(session, emails_of(rows, "admin_email"))

    def plan(self, row: ImportRowValues) -> Plan:
        values = row.values
        structure = self.structures.get(search_key(text(values, "name")))
        errors = []
        try:
            fields, changes = self.structure_fields(values, structure)
        except (ValidationError, Invalid) as error:
            errors.append(column_message(error, STRUCTURE_HEADERS))
        admin = self.people.get(text(values, "admin_email").lower())
        try:
            admin_fields = PersonFields(
                firstname=text(values, "admin_firstname"), lastname=text(values, "admin_lastname"),
                email=text(values, "admin_email").lower(), phone=first(values, "admin_phones"),
                position=text(values, "admin_position"))
            # A new admin's names are required, as in the form; an existing admin keeps theirs (identity).
            if admin is None:
                clean_person(admin_fields)
            admin_phone = clean_phone(admin_fields.phone)
        except (ValidationError, Invalid) as error:
            errors.append(column_message(error, ADMIN_HEADERS))
        if errors:
            return invalid(*errors)
        match = self.match(structure)
        if admin is not None and (admin.role != PersonRole.admin_structure or admin.deployment_id != self.deployment_id):
            return conflict(ADMIN_ELSEWHERE, match)
        notes = phone_notes(values, ("phones", "Téléphones"), ("admin_phones", "Téléphones responsable"))
        work = StructureWork(structure, fields, changes, admin, admin_fields)
        if admin is not None:
            work.admin_changes = {k: v for k, v in (("position", admin_fields.position), ("phone", admin_phone))
                                  if v and v != getattr(admin, k)}
            work.link = structure is None or structure.id not in self.people.structures[admin.id]
            if structure is None:
                notes.append(ADMIN_LINKED.format(label=person_label(admin)))
        if structure is None:
            return Plan(ReviewStatus.new, messages=notes, work=work)
        changed = [VARIABLE[c] for c in changes] + (["admin_email"] if admin is None or work.link else []) + [
            {"position": "admin_position", "phone": "admin_phones"}[k] for k in work.admin_changes]
        return Plan(ReviewStatus.same, match=match, messages=notes, changed=changed, work=work)

    @staticmethod
    def match(structure: Structure | None) -> MatchView | None:
        if structure is None:
            return None
        place = " ".join(p for p in (structure.postal_code, structure.city) if p)
        return MatchView(target_id=structure.id, label=f"{structure.name} ({place})" if place else structure.name)

    @staticmethod
    def structure_fields(values: dict, structure: Structure | None) -> tuple[StructureFields, list[str]]:
        """What the structure is once the row is applied (its current fields, overwritten by the non-empty
        cells), checked by the directory's own rules; and which variable fields that changes."""
        cells = {name: text(values, name) for name in ("short_desc", "address1", "address2", "postal_code", "city",
                                                       "website", "email", "siret")}
        cells["phone"] = first(values, "phones")
        if structure is None:
            fields = StructureFields(name=text(values, "name"), **cells)
        else:
            current = {name: getattr(structure, name) for name in VARIABLE}
            fields = StructureFields(name=structure.name, sensitive=structure.sensitive,
                                     **{**current, **{k: v for k, v in cells.items() if v}})
        checked = Structure()
        apply_fields(checked, fields)  # raises the form's French refusals
        changes = [] if structure is None else [
            name for name in VARIABLE if getattr(checked, name) != getattr(structure, name)]
        return fields, changes

    async def apply(self, session: AsyncSession, row: ImportRowValues, plan: Plan) -> tuple[Outcome, uuid.UUID]:
        work: StructureWork = plan.work
        structure, outcome = work.structure, Outcome.unchanged
        if structure is None:
            structure = await add_structure(session, self.deps, self.deployment_id, work.fields)
            outcome = Outcome.created
        elif work.structure_changes:
            structure.version += 1
            apply_fields(structure, work.fields)
            structure.updated_at = self.deps.clock()
            await refresh_people_search(session, structure.id)  # its people are found by its city too
            await session.flush()
            await publish_structure(session, self.deps, structure, StructureUpdatedV1)
            outcome = Outcome.updated
        admin = work.admin
        if admin is None:
            admin = await add_person(session, self.deps, self.deployment_id, PersonRole.admin_structure,
                                     work.admin_fields, [structure.id], [], self.actor.name)
        elif work.link or work.admin_changes:
            await self.update_admin(session, admin, structure, work)
        if outcome == Outcome.unchanged and (work.admin is None or work.link or work.admin_changes):
            outcome = Outcome.updated
        self.structures[structure.name_key] = structure
        self.people.add(admin, self.people.structures[admin.id] | {structure.id})
        return outcome, structure.id

    async def update_admin(self, session: AsyncSession, admin: Person, structure: Structure,
                           work: StructureWork) -> None:
        admin.version += 1
        set_contact(admin, admin.email, work.admin_changes.get("phone", admin.phone))
        admin.position = work.admin_changes.get("position", admin.position)
        admin.updated_at = self.deps.clock()
        structures, systems = await person_links(session, [admin.id])
        linked = structures[admin.id] + ([structure] if work.link else [])
        await link_person(session, admin, linked, [s.id for s in systems[admin.id]])
        await publish_person(session, self.deps, admin, "updated")
