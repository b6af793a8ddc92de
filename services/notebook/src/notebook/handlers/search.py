"""Beneficiaries of a territory: the annuaire, the per-role lists with v1's filters, the recently opened or
changed notebooks of a professional, and the dashboards' tiles."""
from __future__ import annotations

import re
import uuid

from sqlalchemy import and_, exists, func, literal_column, not_, or_, select, table, text, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.identity import Role
from contracts.notebook import (
    DashboardReply,
    DashboardTile,
    GetDashboardV1,
    NotebookRow,
    NotebooksReply,
    RecentNotebooksV1,
    SearchNotebooksV1,
    SupportStatus,
)
from notebook.adapters.orm import (
    Beneficiary,
    BeneficiaryStructure,
    Member,
    Notebook,
    NotebookVisit,
    OrientationRequest,
    Person,
    StructureRead,
    TimelineEvent,
)
from notebook.handlers.caller import Caller, caller_of
from notebook.handlers.deps import Deps
from notebook.handlers.exchanges import unread_counts
from notebook.handlers.read_models import orientation_system_names
from servicekit.contact import search_key
from servicekit.db import is_sqlite
from servicekit.errors import Forbidden, Invalid

NOT_ALLOWED = "Cette liste n'est pas accessible avec votre profil."
NOT_YOUR_STRUCTURE = "Cette structure n'est pas l'une des vôtres."
LIST_ROLES = (Role.manager, Role.orientation_manager, Role.professional, Role.admin_structure, Role.admin_cdb)


def has_referent():
    return exists().where(Member.notebook_id == Notebook.id, Member.member_type == "referent",
                          Member.ended_at.is_(None))


def has_current_structure(structure_ids=None):
    condition = exists().where(BeneficiaryStructure.notebook_id == Notebook.id,
                               BeneficiaryStructure.status == "current")
    if structure_ids is not None:
        condition = exists().where(BeneficiaryStructure.notebook_id == Notebook.id,
                                   BeneficiaryStructure.status == "current",
                                   BeneficiaryStructure.structure_id.in_(structure_ids))
    return condition


def is_member(person_id):
    return exists().where(Member.notebook_id == Notebook.id, Member.person_id == person_id, Member.ended_at.is_(None))


def has_pending_request():
    return exists().where(OrientationRequest.notebook_id == Notebook.id, OrientationRequest.status == "pending")


SUPPORT = {
    SupportStatus.accompanied: has_referent,
    SupportStatus.waiting: lambda: and_(has_current_structure(), not_(has_referent())),
    SupportStatus.not_accompanied: lambda: not_(has_current_structure()),
    SupportStatus.reorientation: has_pending_request,
}


def matches(q: str, deps: Deps, sqlite: bool):
    """Every word in the names or phone, or the whole text as a NIR, CAF/MSA or France Travail number.

    A phone number typed with spaces or dots is one word. PostgreSQL's trigram index (migration 0005) serves the
    LIKEs and its bitmap OR the identifiers; SQLite would read every row, so there the candidates are first
    found through the FTS5 trigram table and the identifiers' indexes (``sqlite_candidates``)."""
    words = [re.sub(r"\D", "", q)] if PHONE_LIKE.fullmatch(q.strip()) else search_key(q).split()
    keys = identifier_keys(q, deps)
    identifiers = [Beneficiary.__table__.c[column] == key for column, key in keys.items()]
    indexed = [w for w in words if len(w) >= 3]
    if not sqlite or not indexed:
        return or_(and_(*(Beneficiary.search_text.contains(w, autoescape=True) for w in words)), *identifiers)
    candidates = literal_column("beneficiary.rowid").in_(sqlite_candidates(indexed, keys))
    short = [Beneficiary.search_text.contains(w, autoescape=True) for w in words if len(w) < 3]
    return and_(candidates, or_(and_(*short), *identifiers)) if short else candidates


PHONE_LIKE = re.compile(r"\+?[\d .-]{6,}")


def identifier_keys(q: str, deps: Deps) -> dict[str, str]:
    """The whole text as a NIR (key dropped), CAF/MSA or France Travail number: column → keyed hash."""
    identifier = re.sub(r"[\s.-]", "", q).upper()
    nir = identifier[:13] if len(identifier) in (13, 15) else identifier
    return {"nir_index": deps.protection.index("nir", nir),
            "caf_number_index": deps.protection.index("caf", identifier),
            "pe_number_index": deps.protection.index("pe", identifier)}


def sqlite_candidates(words: list[str], keys: dict[str, str]):
    """Rowids of the beneficiaries holding every word (FTS5 trigram phrases: parts of words, three characters
    or more) or one of the identifiers."""
    phrases = " AND ".join('"' + w.replace('"', '""') + '"' for w in words)
    fts = select(literal_column("rowid")).select_from(table("beneficiary_fts")).where(
        text("beneficiary_fts MATCH :phrases").bindparams(phrases=phrases))
    alias = Beneficiary.__table__.alias("by_identifier")
    by = [select(literal_column("rowid")).select_from(alias).where(alias.c[column] == key)
          for column, key in keys.items()]
    return union_all(fts, *by)


def territory_of(caller: Caller) -> uuid.UUID:
    if caller.role not in LIST_ROLES:
        raise Forbidden(NOT_ALLOWED)
    if caller.deployment_id is None:
        raise Invalid("Précisez le territoire concerné.", details={"field": "deployment_id"})
    return caller.deployment_id


async def rows_of(session: AsyncSession, notebooks: list[tuple[Notebook, Beneficiary]],
                  reader: uuid.UUID | None = None) -> list[NotebookRow]:
    """List rows with their référent, following structure and orientation system, fetched for the page at once;
    with the messages of the exchanges ``reader`` has not read, in the notebooks of which she is a member."""
    ids = [n.id for n, _ in notebooks]
    unread = await unread_counts(session, ids, reader)
    referents = dict((await session.execute(
        select(Member.notebook_id, Person.firstname + " " + Person.lastname)
        .join(Person, Person.id == Member.person_id)
        .where(Member.notebook_id.in_(ids), Member.member_type == "referent", Member.ended_at.is_(None)))).all())
    structures = dict((await session.execute(
        select(BeneficiaryStructure.notebook_id, StructureRead.name)
        .join(StructureRead, StructureRead.id == BeneficiaryStructure.structure_id)
        .where(BeneficiaryStructure.notebook_id.in_(ids), BeneficiaryStructure.status == "current"))).all())
    systems = await orientation_system_names(session, {n.orientation_system_id for n, _ in notebooks})
    return [NotebookRow(
        notebook_id=n.id, firstname=b.firstname, lastname=b.lastname, date_of_birth=b.date_of_birth,
        mobile_number=b.mobile_number, referent_name=referents.get(n.id, ""), structure_name=structures.get(n.id, ""),
        orientation_system_name=systems.get(n.orientation_system_id, ""),
        subject_to_right_and_duty=b.subject_to_right_and_duty,
        support=(SupportStatus.accompanied if n.id in referents else
                 SupportStatus.waiting if n.id in structures else SupportStatus.not_accompanied),
        unread_exchanges=unread.get(n.id, 0))
        for n, b in notebooks]


COUNT_LIMIT = 1000


async def search(request: SearchNotebooksV1, ctx, deps: Deps) -> NotebooksReply:
    caller = await caller_of(ctx, deps)
    deployment_id = territory_of(caller)
    on_notebook = []  # filters on the notebook's side; the count reads the beneficiaries only when it must
    if caller.role == Role.admin_structure:
        if request.structure_id and request.structure_id not in caller.structure_ids:
            raise Forbidden(NOT_YOUR_STRUCTURE)
        on_notebook.append(has_current_structure(
            [request.structure_id] if request.structure_id else list(caller.structure_ids)))
    elif request.structure_id:
        on_notebook.append(has_current_structure([request.structure_id]))
    if request.mine:
        on_notebook.append(is_member(caller.profile_id))
    if request.support != SupportStatus.all:
        on_notebook.append(SUPPORT[request.support]())
    on_beneficiary = []
    sqlite = is_sqlite(deps.sessions.kw["bind"])
    if request.q.strip():
        on_beneficiary.append(matches(request.q, deps, sqlite))
    if request.subject_to_right_and_duty:
        on_beneficiary.append(Beneficiary.subject_to_right_and_duty.is_(True))
    # Filtered on the beneficiary's territory, so that one index serves the filter and the order by name.
    query = (select(Notebook, Beneficiary).join(Beneficiary, Beneficiary.id == Notebook.beneficiary_id)
             .where(Beneficiary.deployment_id == deployment_id, *on_notebook, *on_beneficiary)
             .order_by(Beneficiary.lastname, Beneficiary.firstname, Notebook.id))
    # Shown up to COUNT_LIMIT (nobody pages through more: the page asks to narrow the search), and counted on the
    # notebook's own index when no beneficiary's field is filtered. SQLite stops counting there; PostgreSQL
    # counts all, because a LIMIT would make it pick a plan that reads every row when few match.
    counted = select(Notebook.id).where(Notebook.deployment_id == deployment_id, *on_notebook)
    if on_beneficiary:
        counted = counted.join(Beneficiary, Beneficiary.id == Notebook.beneficiary_id).where(*on_beneficiary)
    if sqlite:
        counted = counted.limit(COUNT_LIMIT + 1)
    async with deps.sessions() as session:
        total = await session.scalar(select(func.count()).select_from(counted.subquery()))
        rows = (await session.execute(query.offset(request.offset).limit(request.limit))).all()
        return NotebooksReply(notebooks=await rows_of(session, [tuple(r) for r in rows], caller.profile_id),
                              total=min(total, COUNT_LIMIT), more=total > COUNT_LIMIT)


async def recent(request: RecentNotebooksV1, ctx, deps: Deps) -> NotebooksReply:
    """"Derniers profils consultés / modifiés" of the calling person."""
    caller = await caller_of(ctx, deps)
    territory_of(caller)
    if request.kind == "visited":
        latest = (select(NotebookVisit.notebook_id.label("notebook_id"),
                         func.max(NotebookVisit.last_visited_at).label("at"))
                  .where(NotebookVisit.account_id == caller.account_id).group_by(NotebookVisit.notebook_id))
    else:
        latest = (select(TimelineEvent.notebook_id.label("notebook_id"),
                         func.max(TimelineEvent.occurred_at).label("at"))
                  .where(TimelineEvent.author_id == caller.profile_id).group_by(TimelineEvent.notebook_id))
    latest = latest.subquery()
    query = (select(Notebook, Beneficiary).join(latest, latest.c.notebook_id == Notebook.id)
             .join(Beneficiary, Beneficiary.id == Notebook.beneficiary_id)
             .where(Notebook.deployment_id == caller.deployment_id)
             .order_by(latest.c.at.desc()).limit(request.limit))
    async with deps.sessions() as session:
        rows = (await session.execute(query)).all()
        notebooks = await rows_of(session, [tuple(r) for r in rows], caller.profile_id)
    return NotebooksReply(notebooks=notebooks, total=len(notebooks))


async def count(session: AsyncSession, deployment_id: uuid.UUID, *conditions) -> int:
    return await session.scalar(select(func.count(Notebook.id)).where(Notebook.deployment_id == deployment_id,
                                                                      *conditions)) or 0


async def dashboard(request: GetDashboardV1, ctx, deps: Deps) -> DashboardReply:
    caller = await caller_of(ctx, deps)
    deployment_id = territory_of(caller)
    async with deps.sessions() as session:
        if caller.role in (Role.manager, Role.admin_cdb):
            structures = select(StructureRead.id).where(StructureRead.deployment_id == deployment_id)
            followed = select(BeneficiaryStructure.structure_id).where(BeneficiaryStructure.status == "current")
            tiles = [
                ("beneficiaries", "Bénéficiaires sur le territoire", await count(session, deployment_id)),
                ("not_accompanied", "Bénéficiaires non accompagnés",
                 await count(session, deployment_id, not_(has_current_structure()))),
                ("reorientation", "Demandes de réorientation", await count(session, deployment_id,
                                                                          has_pending_request())),
                ("structures", "Structures sur le territoire",
                 await session.scalar(select(func.count()).select_from(structures.subquery()))),
                ("structures_without_beneficiary", "Structures sans bénéficiaire",
                 await session.scalar(select(func.count()).select_from(
                     structures.where(StructureRead.id.not_in(followed)).subquery()))),
            ]
        elif caller.role == Role.admin_structure:
            if request.structure_id and request.structure_id not in caller.structure_ids:
                raise Forbidden(NOT_YOUR_STRUCTURE)
            ids = [request.structure_id] if request.structure_id else list(caller.structure_ids)
            attached = has_current_structure(ids)
            # A référent's structure is the one following the beneficiary (members.follow_by_structure).
            tiles = [
                ("accompanied", "Bénéficiaires accompagnés",
                 await count(session, deployment_id, attached, has_referent())),
                ("not_accompanied", "Bénéficiaires non accompagnés",
                 await count(session, deployment_id, attached, not_(has_referent()))),
            ]
        else:
            mine = is_member(caller.profile_id)
            tiles = [("mine", "Mes bénéficiaires", await count(session, deployment_id, mine))]
            for status in (SupportStatus.accompanied, SupportStatus.waiting, SupportStatus.not_accompanied,
                           SupportStatus.reorientation):
                label = {SupportStatus.accompanied: "accompagnés", SupportStatus.waiting: "en attente de référent",
                         SupportStatus.not_accompanied: "non accompagnés",
                         SupportStatus.reorientation: "demandes de réorientation"}[status]
                tiles.append((f"mine_{status.value}", f"Mon portefeuille : {label}",
                              await count(session, deployment_id, mine, SUPPORT[status]())))
                if caller.role == Role.orientation_manager:
                    tiles.append((f"others_{status.value}", f"Autres bénéficiaires du territoire : {label}",
                                  await count(session, deployment_id, not_(mine), SUPPORT[status]())))
    return DashboardReply(tiles=[DashboardTile(key=k, label=label, count=n) for k, label, n in tiles])
