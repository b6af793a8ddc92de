"""Import of beneficiaries (spec §4.1 A): each row creates a beneficiary and their notebook, or updates the one it
matches, or is a conflict.

A row is matched against the beneficiaries of the uploader's territory with the same names (without accents nor
case) and birth date, or the same identifier in the département's SI, and against every beneficiary with the same
NIR (blind index). One query per kind of key for the whole batch; the candidates of each row are then found in
memory. Identity fields (names, birth date, SI identifier, structure, référent) are never overwritten: an update
changes only the variable fields whose cell is not empty.
"""
from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.base import construct_validated
from contracts.identity import Role
from contracts.imports import ImportRowValues, MatchView, Outcome, ReviewStatus, RowOutcome, RowReview
from contracts.notebook import (
    BeneficiaryContactChangedV1,
    BeneficiaryFields,
    ChangeSource,
    MemberAddedV1,
    MemberType,
    NotebookCreatedV1,
    ReferentChangedV1,
)
from contracts.profiles import BeneficiaryCreatedV1, BeneficiaryUpdatedV1
from notebook.adapters.orm import (
    Beneficiary,
    BeneficiaryStructure,
    Member,
    Notebook,
    Person,
    ProfessionalProject,
    RomeCode,
    StructureRead,
    TimelineEvent,
)
from notebook.domain.nir import clean_nir
from notebook.domain.protection import FieldProtection
from notebook.handlers.beneficiaries import (
    CONTACT_FIELDS,
    FIELD_LABELS,
    SECRET_FIELDS,
    apply,
    changed_fields,
    cleaned,
    profile_event,
    trail,
    view_of,
)
from notebook.handlers.deps import Deps
from notebook.handlers.diagnostic import WORK_LABELS
from notebook.handlers.imports import Effects, Record, Refused, Scope, message_of
from notebook.handlers.members import person_name
from servicekit.contact import normalise_email, search_key
from servicekit.db import one_of
from servicekit.errors import ServiceError

SEVERAL = "Plusieurs bénéficiaires existent déjà avec ce nom/prénom/date de naissance sur le territoire."
SAME_SI_ID = "Un bénéficiaire existe déjà avec cet identifiant SI sur le territoire."
SAME_PERSON = "Un bénéficiaire existe déjà avec ce nom/prénom/date de naissance sur le territoire."
SAME_NIR = ("Un bénéficiaire existe déjà avec ce NIR sur le territoire. Mais ni ses données personnelles ni son "
            "identifiant SI ne correspondent.")
UNKNOWN_STRUCTURE = ("« Structure » : aucune structure ne porte le nom « {name} » sur votre territoire ; le "
                     "bénéficiaire sera créé sans structure ni référent.")
UNKNOWN_REFERENT = ("« Accompagnateurs » : aucun professionnel actif de votre territoire n'a l'adresse {email} ; "
                    "le bénéficiaire sera créé sans référent.")
REFERENT_ELSEWHERE = ("« Accompagnateurs » : {name} ne travaille pas dans la structure « {structure} » ; "
                      "le bénéficiaire sera créé sans référent.")
OTHER_PHONES = "« Téléphone » : seul le premier numéro est enregistré ({first}) ; {others} n'est pas gardé."
OTHER_PHONES_MANY = "« Téléphone » : seul le premier numéro est enregistré ({first}) ; {others} ne sont pas gardés."
UNKNOWN_ROME = "« Emploi recherché (code ROME) » : {labels} ne correspond à aucun métier connu, ignoré."
# The beneficiary's fields a re-import may overwrite (when its cell is not empty), and the notebook's.
VARIABLE_FIELDS = ("place_of_birth", "email", "mobile_number", "address1", "address2", "postal_code", "city", "nir",
                   "caf_number", "pe_number", "right_rsa", "right_are", "right_ass", "right_bonus")
NOTEBOOK_FIELDS = ("work_situation", "right_rqth", "education_level")
# Fields of this service named as the import names them (kinds.py), for ``changed``.
IMPORT_NAMES = {"mobile_number": "mobile_numbers"}


def identity_key(lastname: str, firstname: str, date_of_birth: date | str) -> str:
    """As ``beneficiaries.apply`` writes it: names without accents nor case, and the ISO birth date."""
    return f"{search_key(lastname)}|{search_key(firstname)}|{date_of_birth}"


def match_label(beneficiary, protection: FieldProtection) -> str:
    """"Hélène Çelik, née le 12/03/1985": the NIR's first digit says which (1 a man, 2 a woman); without it, né(e)."""
    nir = protection.decrypt(beneficiary.nir_encrypted) if beneficiary.nir_encrypted else ""
    born = {"1": "né", "2": "née"}.get(nir[:1], "né(e)")
    return f"{beneficiary.firstname} {beneficiary.lastname}, {born} le {beneficiary.date_of_birth:%d/%m/%Y}"


@dataclass
class Parsed:
    """A row's values as this service's fields, and what was dropped on the way (warnings)."""

    identity: str
    external_id: str
    nir_index: str | None
    firstname: str
    lastname: str
    date_of_birth: date
    beneficiary: dict[str, Any]  # variable fields given (non-empty)
    notebook: dict[str, Any]  # work_situation, right_rqth, education_level given
    rome_labels: list[str]
    structure_name: str
    referent_email: str
    warnings: list[str]


def parse(values: dict[str, Any], deps: Deps) -> Parsed:
    def text(name: str) -> str:
        value = values.get(name)
        return str(value).strip() if value is not None else ""

    born = date.fromisoformat(str(values["date_of_birth"]))
    warnings, given = [], {}
    phones = [p for p in values.get("mobile_numbers") or [] if p]
    if phones:
        given["mobile_number"] = phones[0]
        if others := phones[1:]:
            template = OTHER_PHONES_MANY if len(others) > 1 else OTHER_PHONES
            warnings.append(template.format(first=phones[0], others=", ".join(others)))
    for name in VARIABLE_FIELDS:
        if name == "mobile_number":
            continue
        value = values.get(name)
        if isinstance(value, str):
            value = value.strip()
        if value is not None and value != "":
            given[name] = value
    if given.get("address1") and "address2" not in given:
        given["address2"] = ""  # a new address given alone replaces the whole address (spec §4.1 step 4)
    notebook = {name: values[name] for name in NOTEBOOK_FIELDS if values.get(name) not in (None, "")}
    nir = text("nir")
    return Parsed(
        identity=identity_key(text("lastname"), text("firstname"), born), external_id=text("external_id"),
        nir_index=deps.protection.index("nir", nir) if nir else None, firstname=text("firstname"),
        lastname=text("lastname"), date_of_birth=born, beneficiary=given, notebook=notebook,
        rome_labels=[label for label in values.get("rome_labels") or [] if label],
        structure_name=text("structure_name"), referent_email=normalise_email(text("referent_email")) or "",
        warnings=warnings)


@dataclass
class Context:
    scope: Scope
    deps: Deps
    parsed: dict[int, Parsed]
    by_identity: dict[str, list[Beneficiary]]
    by_external_id: dict[str, list[Beneficiary]]
    by_nir: dict[str, list[Beneficiary]]
    notebooks: dict[uuid.UUID, Notebook]  # by beneficiary
    projects: dict[uuid.UUID, set[str]]  # by notebook: the ROME labels already there
    structures: dict[str, uuid.UUID]  # by exact name, in the territory
    professionals: dict[str, Person]  # by email, active in the territory
    rome_labels: set[str]

    def remember(self, beneficiary: Beneficiary, notebook: Notebook) -> None:
        """A beneficiary created by an earlier row of the batch: a later row of the same person updates them."""
        self.by_identity[beneficiary.identity_key].append(beneficiary)
        if beneficiary.external_id:
            self.by_external_id[beneficiary.external_id].append(beneficiary)
        if beneficiary.nir_index:
            self.by_nir[beneficiary.nir_index].append(beneficiary)
        self.notebooks[beneficiary.id] = notebook
        self.projects.setdefault(notebook.id, set())


def grouped(beneficiaries, key) -> dict[str, list[Beneficiary]]:
    groups: dict[str, list[Beneficiary]] = defaultdict(list)
    for beneficiary in beneficiaries:
        groups[key(beneficiary)].append(beneficiary)
    return groups


async def prepare(session: AsyncSession, deps: Deps, scope: Scope, rows: list[ImportRowValues]) -> Context:
    parsed: dict[int, Parsed] = {}
    for row in rows:
        try:
            parsed[row.row] = parse(row.values, deps)
        except (KeyError, ValueError, TypeError):
            pass  # reviewed as invalid
    deployment = scope.deployment_id
    sqlite = session.bind.dialect.name == "sqlite"

    def among(column, values):  # a batch's keys as one array parameter on PostgreSQL (servicekit.db.one_of)
        return one_of(column, values, sqlite=sqlite)

    identities = {p.identity for p in parsed.values()}
    external_ids = {p.external_id for p in parsed.values() if p.external_id}
    nir_indexes = {p.nir_index for p in parsed.values() if p.nir_index}
    found: dict[uuid.UUID, Beneficiary] = {}
    for condition, keys in ((among(Beneficiary.identity_key, identities), identities),
                            (among(Beneficiary.external_id, external_ids), external_ids)):
        if keys:
            found.update((b.id, b) for b in (await session.execute(select(Beneficiary).where(
                Beneficiary.deployment_id == deployment, condition))).scalars())
    if nir_indexes:  # any territory: one NIR is one person
        found.update((b.id, b) for b in (await session.execute(select(Beneficiary).where(
            among(Beneficiary.nir_index, nir_indexes)))).scalars())
    mine = [b for b in found.values() if b.deployment_id == deployment]
    notebooks = {n.beneficiary_id: n for n in (await session.execute(select(Notebook).where(
        among(Notebook.beneficiary_id, [b.id for b in mine])))).scalars()} if mine else {}
    projects: dict[uuid.UUID, set[str]] = defaultdict(set)
    if notebooks:
        for notebook_id, label in (await session.execute(select(
                ProfessionalProject.notebook_id, ProfessionalProject.rome_code).where(
                among(ProfessionalProject.notebook_id, [n.id for n in notebooks.values()])))).all():
            projects[notebook_id].add(label)
    structure_names = {p.structure_name for p in parsed.values() if p.structure_name}
    structures = {}
    if structure_names:
        structures = {name: structure_id for structure_id, name in (await session.execute(select(
            StructureRead.id, StructureRead.name).where(StructureRead.deployment_id == deployment,
                                                        among(StructureRead.name, structure_names)))).all()}
    emails = {p.referent_email for p in parsed.values() if p.referent_email}
    professionals = {}
    if emails:
        professionals = {p.email: p for p in (await session.execute(select(Person).where(
            Person.deployment_id == deployment, Person.role == Role.professional.value,
            Person.deactivated_at.is_(None), among(Person.email, emails)))).scalars()}
    labels = {label for p in parsed.values() for label in p.rome_labels}
    known_labels = set((await session.execute(select(RomeCode.label).where(among(RomeCode.label, labels)))).scalars()
                       ) if labels else set()
    return Context(scope, deps, parsed, grouped(mine, lambda b: b.identity_key),
                   grouped([b for b in mine if b.external_id], lambda b: b.external_id),
                   grouped([b for b in found.values() if b.nir_index], lambda b: b.nir_index), notebooks,
                   projects, structures, professionals, known_labels)


@dataclass
class Verdict:
    """What a row would do now: its status, the beneficiary it matches, its messages; for ``same`` the fields
    that would change."""

    status: ReviewStatus
    beneficiary: Beneficiary | None = None
    messages: list[str] = field(default_factory=list)
    after: BeneficiaryFields | None = None
    changed: set[str] = field(default_factory=set)
    notebook_changes: dict[str, Any] = field(default_factory=dict)
    new_projects: list[str] = field(default_factory=list)
    structure_id: uuid.UUID | None = None
    referent: Person | None = None


def verdict(context: Context, row: ImportRowValues) -> Verdict:
    parsed = context.parsed.get(row.row)
    if parsed is None:
        return Verdict(ReviewStatus.invalid, messages=["Cette ligne est incomplète : prénom, nom, date de naissance "
                                                       "et identifiant dans le SI sont obligatoires."])
    candidates = {b.id: b for b in (*context.by_identity.get(parsed.identity, ()),
                                    *context.by_external_id.get(parsed.external_id, ()),
                                    *(context.by_nir.get(parsed.nir_index, ()) if parsed.nir_index else ()))}
    if len(candidates) > 1:
        return Verdict(ReviewStatus.conflict, messages=[SEVERAL])
    if not candidates:
        return new(context, parsed)
    [beneficiary] = candidates.values()
    deployment = context.scope.deployment_id
    same_person = beneficiary.deployment_id == deployment and beneficiary.identity_key == parsed.identity
    same_id = beneficiary.deployment_id == deployment and beneficiary.external_id == parsed.external_id
    if not (same_person and same_id):
        message = SAME_SI_ID if same_id else SAME_PERSON if same_person else SAME_NIR
        # A beneficiary of another territory is not shown: only that the NIR is taken.
        return Verdict(ReviewStatus.conflict, beneficiary if beneficiary.deployment_id == deployment else None,
                       [message])
    return same(context, parsed, beneficiary)


def fields_of(parsed: Parsed, base: dict[str, Any]) -> BeneficiaryFields:
    return cleaned(BeneficiaryFields(**{**base, **parsed.beneficiary}))


def projects_of(context: Context, parsed: Parsed, present: set[str]) -> tuple[list[str], list[str]]:
    """The ROME labels to add, and the warning about unknown ones."""
    unknown = [label for label in parsed.rome_labels if label not in context.rome_labels]
    added = list(dict.fromkeys(label for label in parsed.rome_labels
                               if label in context.rome_labels and label not in present))
    return added, [UNKNOWN_ROME.format(labels=", ".join(f"« {label} »" for label in unknown))] if unknown else []


def new(context: Context, parsed: Parsed) -> Verdict:
    try:
        after = fields_of(parsed, {"firstname": parsed.firstname, "lastname": parsed.lastname,
                                   "date_of_birth": parsed.date_of_birth, "external_id": parsed.external_id})
    except (ServiceError, ValidationError) as error:
        return Verdict(ReviewStatus.invalid, messages=[message_of(error)])
    messages = list(parsed.warnings)
    structure_id = context.structures.get(parsed.structure_name) if parsed.structure_name else None
    unknown_structure = bool(parsed.structure_name) and structure_id is None
    if unknown_structure:  # as v1 (spec §4.1 A, step 3): created all the same, without structure nor référent
        messages.append(UNKNOWN_STRUCTURE.format(name=parsed.structure_name))
    referent = None
    if parsed.referent_email and not unknown_structure:
        referent = context.professionals.get(parsed.referent_email)
        if referent is None:
            messages.append(UNKNOWN_REFERENT.format(email=parsed.referent_email))
        elif structure_id and not referent.works_in([structure_id]):
            messages.append(REFERENT_ELSEWHERE.format(name=person_name(referent), structure=parsed.structure_name))
            referent = None
        elif structure_id is None:
            structure_id = referent.structure_id  # followed by the référent's structure
    projects, warnings = projects_of(context, parsed, set())
    return Verdict(ReviewStatus.new, messages=messages + warnings, after=after,
                   notebook_changes=dict(parsed.notebook), new_projects=projects, structure_id=structure_id,
                   referent=referent)


def kept_as_given(context: Context, parsed: Parsed, beneficiary: Beneficiary) -> bool:
    """Whether each value the row gives is already the beneficiary's, compared before anything is built: a
    re-imported file is mostly rows like that. Only values equal to the one kept pass (``cleaned`` leaves a kept
    value as it is), and the NIR by its keyed hash (the 13 characters ``clean_nir`` keeps, hashed as they were);
    anything else (a value typed otherwise, a wrong one) is for the full comparison, which words the change or
    the error."""
    protection = context.deps.protection
    for name, value in parsed.beneficiary.items():
        if name == "nir":
            try:
                nir = clean_nir(value) if isinstance(value, str) else None
            except ServiceError:
                return False
            if not nir or protection.index("nir", nir) != beneficiary.nir_index:
                return False
        elif name in SECRET_FIELDS:  # CAF/MSA, France Travail: kept as typed (trimmed), compared in clear
            if not isinstance(value, str) or value.strip() != value or not value or \
                    protection.decrypt(getattr(beneficiary, f"{name}_encrypted")) != value:
                return False
        elif type(value) is not type(getattr(beneficiary, name)) or getattr(beneficiary, name) != value:
            return False
    return True


def same(context: Context, parsed: Parsed, beneficiary: Beneficiary) -> Verdict:
    if kept_as_given(context, parsed, beneficiary):
        notebook = context.notebooks[beneficiary.id]
        notebook_changes = {name: value for name, value in parsed.notebook.items()
                            if getattr(notebook, name) != value}
        projects, warnings = projects_of(context, parsed, context.projects.get(notebook.id, set()))
        return Verdict(ReviewStatus.same, beneficiary, parsed.warnings + warnings, None, set(), notebook_changes,
                       projects)
    before = view_of(beneficiary, context.deps)
    try:
        after = fields_of(parsed, before.model_dump(include=set(BeneficiaryFields.model_fields)))
    except (ServiceError, ValidationError) as error:
        return Verdict(ReviewStatus.invalid, beneficiary, [message_of(error)])
    changed = changed_fields(before, after)
    notebook = context.notebooks[beneficiary.id]
    notebook_changes = {name: value for name, value in parsed.notebook.items() if getattr(notebook, name) != value}
    projects, warnings = projects_of(context, parsed, context.projects.get(notebook.id, set()))
    return Verdict(ReviewStatus.same, beneficiary, parsed.warnings + warnings, after, changed, notebook_changes,
                   projects)


def changed_names(found: Verdict) -> list[str]:
    names = [IMPORT_NAMES.get(name, name) for name in sorted(found.changed)]
    names += sorted(found.notebook_changes)
    return names + (["rome_labels"] if found.new_projects else [])


def match_of(beneficiary: Beneficiary | None, protection: FieldProtection) -> MatchView | None:
    if beneficiary is None:
        return None
    return MatchView(target_id=beneficiary.id, label=match_label(beneficiary, protection))


def review(context: Context, row: ImportRowValues) -> RowReview:
    found = verdict(context, row)
    return RowReview(row=row.row, status=found.status, match=match_of(found.beneficiary, context.deps.protection),
                     messages=found.messages,
                     changed=changed_names(found) if found.status == ReviewStatus.same else [])


async def apply_row(session: AsyncSession, deps: Deps, context: Context, row: ImportRowValues,
                    effects: Effects) -> RowOutcome:
    found = verdict(context, row)  # again: an earlier row of the batch, or a form, may have changed things
    if found.status in (ReviewStatus.conflict, ReviewStatus.invalid):
        raise Refused(*found.messages)
    if found.status == ReviewStatus.new:
        beneficiary, notebook = create(session, deps, context, found, effects)
        effects.publish(validated_already(BeneficiaryCreatedV1, profile_id=beneficiary.id,
                                          deployment_id=beneficiary.deployment_id, email=beneficiary.email or None,
                                          phone=beneficiary.mobile_number or None, firstname=beneficiary.firstname,
                                          lastname=beneficiary.lastname))
        return RowOutcome(row=row.row, outcome=Outcome.created, target_id=notebook.id, messages=found.messages)
    notebook = context.notebooks[found.beneficiary.id]
    if not (found.changed or found.notebook_changes or found.new_projects):
        return RowOutcome(row=row.row, outcome=Outcome.unchanged, target_id=notebook.id, messages=found.messages)
    await update(session, deps, context, found, notebook, effects)
    return RowOutcome(row=row.row, outcome=Outcome.updated, target_id=notebook.id, messages=found.messages)


def validated_already(event_type, **values):
    """An event of a new row made of values already validated: ids made here, and fields cleaned through
    ``BeneficiaryFields``, whose constraints (lengths, one line) are the event's. Built without validating them a
    second time: pydantic was a tenth of what an imported row cost. (The référent's events, of values read from
    the directory's read model, are still validated.)"""
    return construct_validated(event_type, **values)


def history(context: Context, effects: Effects, notebook, kind: str, summary: str, *,
            changes: dict | None = None, subject_id: uuid.UUID | None = None) -> dict[str, Any]:
    """A history entry of the notebook, from the import; the notebook changed now."""
    now = context.deps.clock()
    if isinstance(notebook, Record):
        notebook.updated_at = now
    else:
        effects.touch(notebook.id, now)
    return {"id": uuid.uuid4(), "notebook_id": notebook.id, "occurred_at": now, "kind": kind, "summary": summary,
            "changes": changes or {}, "subject_id": subject_id, "author_id": context.scope.actor.profile_id,
            "author_name": context.scope.author, "source": ChangeSource.import_.value}


def create(session: AsyncSession, deps: Deps, context: Context, found: Verdict,
           effects: Effects) -> tuple[Record, Record]:
    """The beneficiary, their notebook, projects, structure and référent, as rows the batch inserts together."""
    now, deployment, author = deps.clock(), context.scope.deployment_id, context.scope.author
    # Every column the view reads is set now: a later row of the batch may match this one before it is written.
    beneficiary = Record(id=uuid.uuid4(), deployment_id=deployment, created_at=now, version=1, updated_at=None,
                         updated_by_name="", mobile_failed_at=None, email_failed_at=None)
    apply(beneficiary, found.after, deps)
    notebook = Record(id=uuid.uuid4(), beneficiary_id=beneficiary.id, deployment_id=deployment, created_at=now,
                      diagnostic_version=1, work_situation=None, right_rqth=False, education_level=None,
                      orientation_system_id=None, updated_at=now)
    for name, value in found.notebook_changes.items():
        setattr(notebook, name, value)
    rows: dict[Table, list[dict]] = {
        TimelineEvent.__table__: [history(context, effects, notebook, "notebook", "Carnet créé")],
        ProfessionalProject.__table__: [], BeneficiaryStructure.__table__: [], Member.__table__: []}
    rows[ProfessionalProject.__table__] += [
        {"id": uuid.uuid4(), "notebook_id": notebook.id, "rome_code": label, "updated_at": now,
         "updated_by_name": author} for label in found.new_projects]
    if found.structure_id:
        rows[BeneficiaryStructure.__table__].append({
            "id": uuid.uuid4(), "notebook_id": notebook.id, "structure_id": found.structure_id, "status": "current",
            "started_at": now})
    events: list = [validated_already(NotebookCreatedV1, notebook_id=notebook.id, deployment_id=deployment,
                                      beneficiary_id=beneficiary.id)]
    if referent := found.referent:
        system_id = uuid.UUID(str(referent.orientation_system_ids[0])) if referent.orientation_system_ids else None
        notebook.orientation_system_id = system_id
        rows[Member.__table__].append({
            "id": uuid.uuid4(), "notebook_id": notebook.id, "person_id": referent.id,
            "member_type": MemberType.referent.value, "orientation_system_id": system_id, "started_at": now,
            "created_by": context.scope.actor.profile_id})
        rows[TimelineEvent.__table__].append(history(context, effects, notebook, "member",
                                                     f"{person_name(referent)} devient référent",
                                                     subject_id=referent.id))
        common = {"notebook_id": notebook.id, "deployment_id": deployment, "beneficiary_id": beneficiary.id}
        events += [MemberAddedV1(**common, person_id=referent.id, member_type=MemberType.referent,
                                 invited_by_name=author, invited_by_id=context.scope.actor.profile_id,
                                 person_email=referent.email, person_firstname=referent.firstname),
                   ReferentChangedV1(**common, referent_id=referent.id, referent_name=person_name(referent),
                                     orientation_system_id=system_id)]
    effects.insert(0, Beneficiary.__table__, beneficiary)
    effects.insert(1, Notebook.__table__, notebook)
    for table, new_rows in rows.items():
        if new_rows:
            effects.insert(2, table, *new_rows)
    for event in events:
        effects.publish(event)
    context.remember(beneficiary, notebook)
    return beneficiary, notebook


async def update(session: AsyncSession, deps: Deps, context: Context, found: Verdict, notebook,
                 effects: Effects) -> None:
    beneficiary = found.beneficiary
    if isinstance(beneficiary, Record) and beneficiary.written:
        # Created by an earlier row of the batch and already inserted (rows applied one by one): changed as a row.
        beneficiary = await session.get(Beneficiary, beneficiary.id)
    if isinstance(notebook, Record) and notebook.written:
        notebook = await session.get(Notebook, notebook.id)
    before = view_of(beneficiary, deps)
    now, author = deps.clock(), context.scope.author
    if found.changed:
        apply(beneficiary, found.after, deps)
        if "mobile_number" in found.changed:
            beneficiary.mobile_failed_at = None
        if "email" in found.changed:
            beneficiary.email_failed_at = None
        beneficiary.version += 1
        beneficiary.updated_at, beneficiary.updated_by_name = now, author
        effects.insert(2, TimelineEvent.__table__, history(
            context, effects, notebook, "beneficiary",
            "Informations personnelles mises à jour : " + ", ".join(FIELD_LABELS[f] for f in sorted(found.changed)),
            changes=trail(before, found.after, found.changed)))
        effects.publish(profile_event(beneficiary, BeneficiaryUpdatedV1))
        if found.changed & CONTACT_FIELDS:
            effects.publish(BeneficiaryContactChangedV1(
                notebook_id=notebook.id, deployment_id=notebook.deployment_id, beneficiary_id=beneficiary.id,
                phone=beneficiary.mobile_number, email=beneficiary.email,
                channels=beneficiary.notification_channels))
    if found.notebook_changes or found.new_projects:
        changes = {name: [str(getattr(notebook, name) or ""), str(value or "")]
                   for name, value in found.notebook_changes.items()}
        for name, value in found.notebook_changes.items():
            setattr(notebook, name, value)
        effects.insert(2, ProfessionalProject.__table__, *(
            {"id": uuid.uuid4(), "notebook_id": notebook.id, "rome_code": label, "updated_at": now,
             "updated_by_name": author} for label in found.new_projects))
        context.projects.setdefault(notebook.id, set()).update(found.new_projects)
        notebook.diagnostic_version += 1
        notebook.diagnostic_updated_at, notebook.diagnostic_updated_by_name = now, author
        summary = [WORK_LABELS[name] for name in found.notebook_changes]
        summary += [f"projet ajouté : {label}" for label in found.new_projects]
        effects.insert(2, TimelineEvent.__table__, history(
            context, effects, notebook, "diagnostic",
            "Diagnostic socioprofessionnel mis à jour : " + " ; ".join(summary), changes=changes))


class BeneficiariesImport:
    batchable = True

    async def prepare(self, session, deps, scope, rows):
        return await prepare(session, deps, scope, rows)

    def review(self, context, row):
        return review(context, row)

    async def apply(self, session, deps, context, row, effects):
        return await apply_row(session, deps, context, row, effects)


BENEFICIARIES = BeneficiariesImport()
