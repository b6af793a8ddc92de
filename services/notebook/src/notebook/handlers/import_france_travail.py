"""France Travail's flux (spec §4.3), uploaded by a manager: the "principal" file updates the beneficiaries France
Travail follows, the "actions" file adds what France Travail did with them to their notebook's history.

Principal: only rows with ``brsa = O`` count (the others are said ignored, not errors). A row matches a beneficiary
of the uploader's territory by first name, last name (without accents nor case) and birth date, who must have a
notebook (v1 looked in every territory: a person of another territory is never matched here). A row already
received (the same SHA-256 as the latest France Travail data kept for the beneficiary) changes nothing. Otherwise
the beneficiary keeps France Travail's ``identifiant_unique_de`` (its keyed hash, by which the actions file names
them), gains up to two professional projects (a ROME code and appellation of the referential), the row itself is
kept as external data (encrypted: it holds names and addresses), and the France Travail référent joins the group as
a member (not the référent, as in v1) when not in it yet. The référent and their agency belong to the directory:
the import service has the directory find or create them first and sends their id (``referent_person_id``); this
module never writes them. The review names ``referent_mail`` among the changes of the rows that need it.

Actions: each row is matched by ``identifiant_unique_de`` among the territory's beneficiaries and becomes a
history entry of their notebook (source France Travail) dated by v1's rule, unless the notebook already has one with
the same label on the same day.

Every query is made once per batch (``prepare``); applying a row only adds rows and events to the batch's effects.
"""
from __future__ import annotations

import hashlib
import json
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.imports import ImportRowValues, MatchView, Outcome, ReviewStatus, RowOutcome, RowReview
from contracts.notebook import ChangeSource, MemberAddedV1, MemberType
from notebook.adapters.orm import (Beneficiary, ExternalData, Member, Notebook, Person, ProfessionalProject, RomeCode,
                                   TimelineEvent)
from notebook.handlers.deps import Deps
from notebook.handlers.import_beneficiaries import identity_key, match_label
from notebook.handlers.imports import Effects, Refused, Scope
from servicekit.contact import normalise_email

SOURCE = "france_travail"  # of the external data and of the history entries
PARIS = ZoneInfo("Europe/Paris")
# Set by the import service from the directory's answer: the référent found or created there.
DIRECTORY_PERSON = "referent_person_id"
INDEX_KIND = "pe_unique_import_id"  # what the keyed hash of ``identifiant_unique_de`` is salted with

INCOMPLETE = "Cette ligne est incomplète : identifiant_unique_de, nom, prenom et date_naissance sont obligatoires."
NOT_RSA = "Ligne ignorée : d'après France Travail, cette personne n'est pas au RSA (brsa n'est pas « O »)."
NOT_FOUND = ("Aucun bénéficiaire de votre territoire ayant un carnet ne porte ces nom, prénom et date de "
             "naissance.")
ALREADY_RECEIVED = "Ligne déjà reçue de France Travail : rien n'a changé depuis."
UNKNOWN_ROME = "Le métier « {label} » ne correspond à aucun métier du référentiel ROME : ignoré."
PROJECT_ADDED = "Projet professionnel ajouté : {label}."
REFERENT_JOINS = "{name} ({email}), référent France Travail, rejoindra le groupe de suivi."
REFERENT_JOINED = "{name}, référent France Travail, rejoint le groupe de suivi"

FORMATION = "UNE FORMATION DANS LE DOMAINE SUIVANT"
NO_FORMATION = f"« formation » est vide : une action « {FORMATION} » doit dire dans quel domaine."
NO_NOTEBOOK = "Aucun bénéficiaire de votre territoire n'a cet identifiant_unique_de : importez d'abord le fichier " \
              "principal."
ACTION_KNOWN = "Action déjà présente dans l'historique à cette date."


def cleaned(value: Any) -> str:
    return "" if value is None else str(value).strip()


def fingerprint(values: dict[str, Any]) -> str:
    """The row as France Travail sent it (what the import service read), whatever this import added to it."""
    raw = {name: value for name, value in values.items() if name != DIRECTORY_PERSON}
    return hashlib.sha256(json.dumps(raw, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def local_midnight(day: date) -> datetime:
    """France Travail's dates are days: the history shows them at midnight, Paris time."""
    return datetime.combine(day, time(), PARIS)


def person_label(firstname: str, lastname: str) -> str:
    return f"{firstname} {lastname}".strip() or "Un professionnel"


# --- principal -----------------------------------------------------------------------------------------------

@dataclass
class Principal:
    """A row of the principal file, as this service reads it."""

    rsa: bool
    identity: str
    unique_id_index: str | None
    sha256: str
    projects: list[str]  # ROME labels "appellation (CODE)", as the referential writes them
    agency: str
    referent_email: str
    referent_firstname: str
    referent_lastname: str
    referent_id: uuid.UUID | None  # from the directory, when applying


def read_principal(values: dict[str, Any], deps: Deps) -> Principal:
    born = date.fromisoformat(str(values["date_naissance"]))
    unique_id = cleaned(values["identifiant_unique_de"])
    if not unique_id:
        raise ValueError("identifiant_unique_de")
    projects = []
    for code, appellation in (("rome_1", "appelation_rome_1"), ("rome_2", "appelation_rome_2")):
        if cleaned(values.get(code)) and cleaned(values.get(appellation)):
            projects.append(f"{cleaned(values[appellation])} ({cleaned(values[code])})")
    person = cleaned(values.get(DIRECTORY_PERSON))
    return Principal(
        rsa=values.get("brsa") is True, identity=identity_key(cleaned(values["nom"]), cleaned(values["prenom"]), born),
        unique_id_index=deps.protection.index(INDEX_KIND, unique_id), sha256=fingerprint(values),
        projects=list(dict.fromkeys(projects)), agency=cleaned(values.get("struct_principale")),
        referent_email=normalise_email(cleaned(values.get("referent_mail"))) or "",
        referent_firstname=cleaned(values.get("referent_prenom")),
        referent_lastname=cleaned(values.get("referent_nom")), referent_id=uuid.UUID(person) if person else None)


@dataclass
class PrincipalContext:
    scope: Scope
    deps: Deps
    rows: dict[int, Principal]
    followed: dict[str, tuple[Beneficiary, Notebook]]  # by identity key, the territory's beneficiaries with notebook
    latest: dict[uuid.UUID, str]  # beneficiary → SHA-256 of the latest France Travail row kept
    projects: dict[uuid.UUID, set[str]]  # notebook → ROME labels of its projects
    known_rome: set[str]
    people: dict[str, Person]  # the territory's people, by email
    members: dict[uuid.UUID, set[uuid.UUID]]  # notebook → its active members


async def prepare_principal(session: AsyncSession, deps: Deps, scope: Scope,
                            rows: list[ImportRowValues]) -> PrincipalContext:
    read: dict[int, Principal] = {}
    for row in rows:
        try:
            read[row.row] = read_principal(row.values, deps)
        except (KeyError, ValueError, TypeError):
            pass  # reviewed as incomplete
    wanted = [p for p in read.values() if p.rsa]
    keys = {p.identity for p in wanted}
    followed = {b.identity_key: (b, n) for n, b in (await session.execute(
        select(Notebook, Beneficiary).join(Beneficiary, Beneficiary.id == Notebook.beneficiary_id).where(
            Beneficiary.deployment_id == scope.deployment_id, Beneficiary.identity_key.in_(keys)))).all()} \
        if keys else {}
    beneficiary_ids = [b.id for b, _ in followed.values()]
    notebook_ids = [n.id for _, n in followed.values()]
    latest: dict[uuid.UUID, str] = {}
    projects: dict[uuid.UUID, set[str]] = defaultdict(set)
    members: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    if followed:
        for beneficiary_id, sha in (await session.execute(
                select(ExternalData.beneficiary_id, ExternalData.sha256).where(
                    ExternalData.beneficiary_id.in_(beneficiary_ids), ExternalData.source == SOURCE)
                .order_by(ExternalData.created_at))).all():
            latest[beneficiary_id] = sha  # the last one read is the latest
        for notebook_id, label in (await session.execute(select(ProfessionalProject.notebook_id,
                                                                ProfessionalProject.rome_code).where(
                ProfessionalProject.notebook_id.in_(notebook_ids)))).all():
            projects[notebook_id].add(label)
        for notebook_id, person_id in (await session.execute(select(Member.notebook_id, Member.person_id).where(
                Member.notebook_id.in_(notebook_ids), Member.ended_at.is_(None)))).all():
            members[notebook_id].add(person_id)
    labels = {label for p in wanted for label in p.projects}
    # The appellation and its code both: a label of the referential ends with its own code.
    known_rome = {label for label, code in (await session.execute(select(RomeCode.label, RomeCode.code).where(
        RomeCode.label.in_(labels)))).all() if label.endswith(f"({code})")} if labels else set()
    emails = {p.referent_email for p in wanted if p.referent_email}
    people = {p.email: p for p in (await session.execute(select(Person).where(
        Person.deployment_id == scope.deployment_id, Person.email.in_(emails)))).scalars()} if emails else {}
    return PrincipalContext(scope, deps, read, followed, latest, projects, known_rome, people, members)


@dataclass
class PrincipalVerdict:
    status: ReviewStatus
    beneficiary: Beneficiary | None = None
    notebook: Notebook | None = None
    messages: list[str] = field(default_factory=list)  # said at review and once applied
    changed: list[str] = field(default_factory=list)
    apply: bool = False  # False: nothing to write (not at the RSA, already received)
    new_projects: list[str] = field(default_factory=list)
    referent_note: str = ""  # the row's référent is not (known to be) in the group yet: said at review


def principal_verdict(context: PrincipalContext, row: ImportRowValues) -> PrincipalVerdict:
    read = context.rows.get(row.row)
    if read is None:
        return PrincipalVerdict(ReviewStatus.invalid, messages=[INCOMPLETE])
    if not read.rsa:
        return PrincipalVerdict(ReviewStatus.same, messages=[NOT_RSA])
    if read.identity not in context.followed:
        return PrincipalVerdict(ReviewStatus.conflict, messages=[NOT_FOUND])
    beneficiary, notebook = context.followed[read.identity]
    if context.latest.get(beneficiary.id) == read.sha256:
        return PrincipalVerdict(ReviewStatus.same, beneficiary, notebook, [ALREADY_RECEIVED])
    messages, changed = [], []
    if beneficiary.pe_unique_import_id != read.unique_id_index:
        changed.append("identifiant_unique_de")
    present = context.projects.get(notebook.id, set())
    new_projects = [label for label in read.projects if label in context.known_rome and label not in present]
    messages += [UNKNOWN_ROME.format(label=label) for label in read.projects if label not in context.known_rome]
    messages += [PROJECT_ADDED.format(label=label) for label in new_projects]
    changed += ["rome_1"] if new_projects else []
    known = context.people.get(read.referent_email)
    note = ""
    if read.agency and read.referent_email and (known is None
                                                or known.id not in context.members.get(notebook.id, set())):
        changed.append("referent_mail")  # the import service asks the directory for this référent first
        note = REFERENT_JOINS.format(name=person_label(read.referent_firstname, read.referent_lastname),
                                     email=read.referent_email)
    return PrincipalVerdict(ReviewStatus.same, beneficiary, notebook, messages, changed + ["external_data"], True,
                            new_projects, note)


def match_of(deps: Deps, beneficiary: Beneficiary | None) -> MatchView | None:
    if beneficiary is None:
        return None
    return MatchView(target_id=beneficiary.id, label=match_label(beneficiary, deps.protection))


def history(context: PrincipalContext | ActionsContext, effects: Effects, notebook: Notebook, kind: str, summary: str,
            *, occurred_at: datetime | None = None, subject_id: uuid.UUID | None = None) -> dict[str, Any]:
    """A history entry from France Travail, brought by the uploader; the notebook changed now."""
    now = context.deps.clock()
    effects.touch(notebook.id, now)
    return {"id": uuid.uuid4(), "notebook_id": notebook.id, "occurred_at": occurred_at or now, "kind": kind,
            "summary": summary, "changes": {}, "subject_id": subject_id, "author_id": context.scope.actor.profile_id,
            "author_name": context.scope.author, "source": ChangeSource.france_travail.value}


def apply_principal(context: PrincipalContext, row: ImportRowValues, effects: Effects) -> RowOutcome:
    found = principal_verdict(context, row)  # again: an earlier row of the batch may have changed things
    if found.status in (ReviewStatus.conflict, ReviewStatus.invalid):
        raise Refused(*found.messages)
    target = found.notebook.id if found.notebook else None
    if not found.apply:
        return RowOutcome(row=row.row, outcome=Outcome.unchanged, target_id=target, messages=found.messages)
    read, beneficiary, notebook = context.rows[row.row], found.beneficiary, found.notebook
    now, deps, messages = context.deps.clock(), context.deps, list(found.messages)
    if beneficiary.pe_unique_import_id != read.unique_id_index:
        # A technical key no form shows: no new version of the beneficiary (nobody's edit is made stale by it).
        beneficiary.pe_unique_import_id = read.unique_id_index
    if found.new_projects:
        effects.insert(2, ProfessionalProject.__table__, *(
            {"id": uuid.uuid4(), "notebook_id": notebook.id, "rome_code": label, "updated_at": now,
             "updated_by_name": context.scope.author} for label in found.new_projects))
        context.projects.setdefault(notebook.id, set()).update(found.new_projects)
        notebook.diagnostic_version += 1
        notebook.diagnostic_updated_at, notebook.diagnostic_updated_by_name = now, context.scope.author
        effects.insert(2, TimelineEvent.__table__, history(
            context, effects, notebook, "diagnostic", "Diagnostic socioprofessionnel mis à jour : " + " ; ".join(
                f"projet ajouté : {label}" for label in found.new_projects)))
    members = context.members.setdefault(notebook.id, set())
    if read.referent_id is not None and read.referent_id not in members:
        add_referent(context, effects, notebook, read, now)
        members.add(read.referent_id)
        messages.append(REFERENT_JOINED.format(name=person_label(read.referent_firstname, read.referent_lastname))
                        + ".")
    effects.insert(2, ExternalData.__table__, {
        "id": uuid.uuid4(), "beneficiary_id": beneficiary.id, "source": SOURCE, "sha256": read.sha256,
        "data_encrypted": deps.protection.encrypt(json.dumps(
            {"source": {k: v for k, v in row.values.items() if k != DIRECTORY_PERSON}}, ensure_ascii=False,
            default=str)),
        "received_on": None, "created_at": now})  # the principal file carries no date of its own
    context.latest[beneficiary.id] = read.sha256
    effects.touch(notebook.id, now)
    return RowOutcome(row=row.row, outcome=Outcome.updated, target_id=notebook.id, messages=messages)


def add_referent(context: PrincipalContext, effects: Effects, notebook: Notebook, read: Principal,
                 now: datetime) -> None:
    """France Travail's référent joins the group as a member (v1's no_referent): the notebook's référent stays who
    the territory chose. Nobody is emailed: France Travail follows the person already, the flux only says so."""
    person_id = read.referent_id
    name = person_label(read.referent_firstname, read.referent_lastname)
    effects.insert(2, Member.__table__, {
        "id": uuid.uuid4(), "notebook_id": notebook.id, "person_id": person_id,
        "member_type": MemberType.no_referent.value, "orientation_system_id": None, "started_at": now,
        "created_by": context.scope.actor.profile_id})
    effects.insert(2, TimelineEvent.__table__, history(context, effects, notebook, "member",
                                                       REFERENT_JOINED.format(name=name), subject_id=person_id))
    effects.publish(MemberAddedV1(
        notebook_id=notebook.id, deployment_id=notebook.deployment_id, beneficiary_id=notebook.beneficiary_id,
        person_id=person_id, member_type=MemberType.no_referent, invited_by_name="France Travail",
        person_email=read.referent_email, person_firstname=read.referent_firstname))


class PrincipalImport:
    batchable = True

    async def prepare(self, session, deps, scope, rows):
        return await prepare_principal(session, deps, scope, rows)

    def review(self, context: PrincipalContext, row: ImportRowValues) -> RowReview:
        found = principal_verdict(context, row)
        return RowReview(row=row.row, status=found.status, match=match_of(context.deps, found.beneficiary),
                         messages=[*found.messages, *([found.referent_note] if found.referent_note else [])],
                         changed=found.changed if found.apply else [])

    async def apply(self, session, deps, context, row, effects):
        return apply_principal(context, row, effects)


# --- actions -------------------------------------------------------------------------------------------------

@dataclass
class ActionRow:
    unique_id_index: str
    label: str  # as the history shows it
    day: date
    missing_formation: bool


def action_day(values: dict[str, Any]) -> date:
    """v1's rule: the realisation date when the action has ended (but a training's), else its end, else its
    prescription."""
    def day(name: str) -> date | None:
        value = values.get(name)
        return date.fromisoformat(str(value)) if value else None
    ended, realised = day("date_fin"), day("date_realisation_action")
    if cleaned(values.get("lblaction")) != FORMATION and ended and realised:
        return realised
    return ended or day("date_prescription")


def read_action(values: dict[str, Any], deps: Deps) -> ActionRow:
    label, formation = cleaned(values["lblaction"]), cleaned(values.get("formation"))
    index = deps.protection.index(INDEX_KIND, cleaned(values["identifiant_unique_de"]))
    when = action_day(values)
    if not (label and index and when):
        raise ValueError("incomplete")
    # v1 filed each action under a work axis theme from categorisation_des_actions_du_fichier_PE.csv and skipped the
    # actions it did not list. That file is not available: the label is kept as France Travail wrote it (a history
    # entry needs no theme), and no action is skipped for want of one.
    if label == FORMATION and formation:
        label = f"UNE FORMATION DANS LE DOMAINE {formation}"
    return ActionRow(index, label, when, label == FORMATION and not formation)


@dataclass
class ActionsContext:
    scope: Scope
    deps: Deps
    rows: dict[int, ActionRow]
    followed: dict[str, tuple[Beneficiary, Notebook]]  # by keyed hash of identifiant_unique_de
    known: set[tuple[uuid.UUID, str, date]]  # (notebook, label, day) already in a history


async def lock_territory_actions(session: AsyncSession, deployment_id: uuid.UUID) -> None:
    """Two batches of actions of one territory applied at once would both miss what the other adds (the same action
    twice in a history): on PostgreSQL they take turns (until the transaction ends). SQLite needs nothing: a writing
    transaction holds the database's write lock."""
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(f"france-travail-actions:{deployment_id}".encode()).digest()[:8], "big",
                             signed=True)
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


async def prepare_actions(session: AsyncSession, deps: Deps, scope: Scope,
                          rows: list[ImportRowValues]) -> ActionsContext:
    await lock_territory_actions(session, scope.deployment_id)
    read: dict[int, ActionRow] = {}
    for row in rows:
        try:
            read[row.row] = read_action(row.values, deps)
        except (KeyError, ValueError, TypeError):
            pass  # reviewed as incomplete
    indexes = {a.unique_id_index for a in read.values()}
    followed = {b.pe_unique_import_id: (b, n) for n, b in (await session.execute(
        select(Notebook, Beneficiary).join(Beneficiary, Beneficiary.id == Notebook.beneficiary_id).where(
            Beneficiary.deployment_id == scope.deployment_id, Beneficiary.pe_unique_import_id.in_(indexes)))).all()} \
        if indexes else {}
    known: set[tuple[uuid.UUID, str, date]] = set()
    labels = {a.label for a in read.values()}
    if followed and labels:
        for notebook_id, summary, occurred_at in (await session.execute(select(
                TimelineEvent.notebook_id, TimelineEvent.summary, TimelineEvent.occurred_at).where(
                TimelineEvent.notebook_id.in_([n.id for _, n in followed.values()]),
                TimelineEvent.source == SOURCE, TimelineEvent.kind == "action",
                TimelineEvent.summary.in_(labels)))).all():
            known.add((notebook_id, summary, occurred_at.astimezone(PARIS).date()))
    return ActionsContext(scope, deps, read, followed, known)


@dataclass
class ActionVerdict:
    status: ReviewStatus
    beneficiary: Beneficiary | None = None
    notebook: Notebook | None = None
    messages: list[str] = field(default_factory=list)


def action_verdict(context: ActionsContext, row: ImportRowValues) -> ActionVerdict:
    read = context.rows.get(row.row)
    if read is None:
        return ActionVerdict(ReviewStatus.invalid, messages=[
            "Cette ligne est incomplète : identifiant_unique_de, lblaction et date_prescription sont obligatoires."])
    if read.missing_formation:
        return ActionVerdict(ReviewStatus.invalid, messages=[NO_FORMATION])
    if read.unique_id_index not in context.followed:
        return ActionVerdict(ReviewStatus.conflict, messages=[NO_NOTEBOOK])
    beneficiary, notebook = context.followed[read.unique_id_index]
    if (notebook.id, read.label, read.day) in context.known:
        return ActionVerdict(ReviewStatus.same, beneficiary, notebook, [ACTION_KNOWN])
    return ActionVerdict(ReviewStatus.new, beneficiary, notebook)


class ActionsImport:
    batchable = True

    async def prepare(self, session, deps, scope, rows):
        return await prepare_actions(session, deps, scope, rows)

    def review(self, context: ActionsContext, row: ImportRowValues) -> RowReview:
        found = action_verdict(context, row)
        return RowReview(row=row.row, status=found.status, match=match_of(context.deps, found.beneficiary),
                         messages=found.messages)

    async def apply(self, session, deps, context: ActionsContext, row: ImportRowValues,
                    effects: Effects) -> RowOutcome:
        found = action_verdict(context, row)  # again: an earlier row of the batch may be the same action
        if found.status in (ReviewStatus.conflict, ReviewStatus.invalid):
            raise Refused(*found.messages)
        if found.status == ReviewStatus.same:
            return RowOutcome(row=row.row, outcome=Outcome.unchanged, target_id=found.notebook.id,
                              messages=found.messages)
        read = context.rows[row.row]
        effects.insert(2, TimelineEvent.__table__, history(context, effects, found.notebook, "action", read.label,
                                                           occurred_at=local_midnight(read.day)))
        context.known.add((found.notebook.id, read.label, read.day))
        return RowOutcome(row=row.row, outcome=Outcome.created, target_id=found.notebook.id)


PRINCIPAL = PrincipalImport()
ACTIONS = ActionsImport()
