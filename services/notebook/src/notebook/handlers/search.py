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
from notebook.adapters.search_orm import NotebookSearch
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


def matches(q: str, identified: list[uuid.UUID], sqlite: bool):
    """Every word in the names or phone, or the whole text as a NIR, CAF/MSA or France Travail number (the
    beneficiaries ``identified`` by it, found first by their keyed hashes' indexes).

    A phone number typed with spaces or dots is one word. The words of three characters or more are found through
    the search rows' trigram index (migration 0023): PostgreSQL's ``pg_trgm`` serves the LIKEs, SQLite's FTS5
    table the phrases (SQLite would otherwise read every row); shorter words are filtered by LIKE."""
    row, words = NotebookSearch, words_of(q)
    indexed = [w for w in words if len(w) >= 3]
    if sqlite and indexed:
        phrases = " AND ".join('"' + w.replace('"', '""') + '"' for w in indexed)
        fts = select(literal_column("rowid")).select_from(table("notebook_search_fts")).where(
            text("notebook_search_fts MATCH :phrases").bindparams(phrases=phrases))
        text_match = and_(row.id.in_(fts), *(row.search_text.contains(w, autoescape=True)
                                              for w in words if len(w) < 3))
    else:
        text_match = and_(*(row.search_text.contains(w, autoescape=True) for w in words))
    return or_(text_match, row.beneficiary_id.in_(identified)) if identified else text_match


def words_of(q: str) -> list[str]:
    """The words searched for: the digits of a phone number typed with spaces or dots, else each word."""
    return [re.sub(r"\D", "", q)] if PHONE_LIKE.fullmatch(q.strip()) else search_key(q).split()


def indexed_words(q: str) -> list[str]:
    """The words a trigram index finds (three characters or more)."""
    return [w for w in words_of(q) if len(w) >= 3]


PHONE_LIKE = re.compile(r"\+?[\d .-]{6,}")


def identifier_keys(q: str, deps: Deps) -> dict[str, str]:
    """The whole text as a NIR (key dropped), CAF/MSA or France Travail number: column → keyed hash."""
    identifier = re.sub(r"[\s.-]", "", q).upper()
    nir = identifier[:13] if len(identifier) in (13, 15) else identifier
    return {"nir_index": deps.protection.index("nir", nir),
            "caf_number_index": deps.protection.index("caf", identifier),
            "pe_number_index": deps.protection.index("pe", identifier)}


async def identified_by(session: AsyncSession, q: str, deps: Deps, sqlite: bool) -> list[uuid.UUID]:
    """The beneficiaries whose NIR, CAF/MSA or France Travail number is the whole text (a few at most; the list
    keeps those of the caller's territory), one lookup per identifier's index (ORed, SQLite may read the table).

    SQLite's statistics count a column's NULLs as one value: where no beneficiary has a France Travail number yet,
    the index looks useless to it, so ``unlikely()`` tells it the term is rare (PostgreSQL knows the NULLs)."""
    rare = func.unlikely if sqlite else (lambda term: term)
    keys = identifier_keys(q, deps)
    return list((await session.scalars(union_all(*(
        select(Beneficiary.id).where(rare(Beneficiary.__table__.c[column] == key))
        for column, key in keys.items())))).all())


def territory_of(caller: Caller) -> uuid.UUID:
    if caller.role not in LIST_ROLES:
        raise Forbidden(NOT_ALLOWED)
    if caller.deployment_id is None:
        raise Invalid("Précisez le territoire concerné.", details={"field": "deployment_id"})
    return caller.deployment_id


async def rows_of(session: AsyncSession, notebooks: list[tuple[Notebook, Beneficiary]], caller: Caller
                  ) -> list[NotebookRow]:
    """List rows with their référent, chargé d'orientation, following structure and orientation system, fetched for
    the page at once; with the messages of the exchanges the caller has not read, in the notebooks of which she is
    a member. A professional sees the public card of the others, which withholds « soumis aux droits et devoirs »."""
    ids = [n.id for n, _ in notebooks]
    reader = caller.profile_id
    unread = await unread_counts(session, ids, reader)
    full = set(ids)
    if caller.role == Role.professional:
        full = set((await session.scalars(select(Member.notebook_id).where(
            Member.notebook_id.in_(ids), Member.person_id == reader, Member.ended_at.is_(None)))).all())
    referents = dict((await session.execute(
        select(Member.notebook_id, Person.firstname + " " + Person.lastname)
        .join(Person, Person.id == Member.person_id)
        .where(Member.notebook_id.in_(ids), Member.member_type == "referent", Member.ended_at.is_(None)))).all())
    orientation_managers = dict((await session.execute(
        select(Member.notebook_id, Person.firstname + " " + Person.lastname)
        .join(Person, Person.id == Member.person_id)
        .where(Member.notebook_id.in_(ids), Member.member_type == "orientation_manager", Member.ended_at.is_(None))
        .order_by(Member.started_at))).all())
    structures = dict((await session.execute(
        select(BeneficiaryStructure.notebook_id, StructureRead.name)
        .join(StructureRead, StructureRead.id == BeneficiaryStructure.structure_id)
        .where(BeneficiaryStructure.notebook_id.in_(ids), BeneficiaryStructure.status == "current"))).all())
    systems = await orientation_system_names(session, {n.orientation_system_id for n, _ in notebooks})
    return [NotebookRow(
        notebook_id=n.id, firstname=b.firstname, lastname=b.lastname, date_of_birth=b.date_of_birth,
        mobile_number=b.mobile_number, referent_name=referents.get(n.id, ""), structure_name=structures.get(n.id, ""),
        orientation_system_name=systems.get(n.orientation_system_id, ""),
        subject_to_right_and_duty=b.subject_to_right_and_duty and n.id in full,
        withheld=[] if n.id in full else ["subject_to_right_and_duty"],
        support=(SupportStatus.accompanied if n.id in referents else
                 SupportStatus.waiting if n.id in structures else SupportStatus.not_accompanied),
        unread_exchanges=unread.get(n.id, 0), orientation_manager_name=orientation_managers.get(n.id, ""))
        for n, b in notebooks]


COUNT_LIMIT = 1000


async def search(request: SearchNotebooksV1, ctx, deps: Deps) -> NotebooksReply:
    caller = await caller_of(ctx, deps)
    deployment_id = territory_of(caller)
    on_notebook = []  # filters on the notebook's side (its members, structures, requests)
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
    row = NotebookSearch
    sqlite, indexed = is_sqlite(deps.sessions.kw["bind"]), bool(indexed_words(request.q))
    territory = row.deployment_id
    if sqlite and indexed:
        # The territory checked on each row the FTS table finds, not read through the name index (SQLite without
        # statistics prefers it, and would read the whole territory): the unary plus keeps an index off a term.
        territory = literal_column(f"+{row.__tablename__}.deployment_id", row.deployment_id.type)
    conditions = [territory == deployment_id]
    if request.subject_to_right_and_duty:
        conditions.append(row.subject_to_right_and_duty.is_(True))
        if caller.role == Role.professional:  # what she is shown of the others' notebooks withholds it
            on_notebook.append(is_member(caller.profile_id))
    async with deps.sessions() as session:
        if request.q.strip():
            identified = await identified_by(session, request.q, deps, sqlite)
            conditions.append(matches(request.q, identified, sqlite))
        listed = select(row.notebook_id, row.lastname, row.firstname).where(*conditions)
        if on_notebook:
            listed = listed.join(Notebook, Notebook.id == row.notebook_id).where(*on_notebook)
        matching = listed.cte("matching")
        if indexed and not sqlite:
            # The index finds the matching rows, then they are sorted: left to itself, PostgreSQL would walk the
            # name order hoping to meet 20 of them early (a common word: 10 % of the rows), and reads the whole
            # territory when they all sort last. SQLite's plan starts from the FTS table (the unary plus above).
            matching = matching.prefix_with("MATERIALIZED")
        # Shown up to COUNT_LIMIT (nobody pages through more: the page asks to narrow the search).
        total = await session.scalar(select(func.count()).select_from(
            select(matching.c.notebook_id).limit(COUNT_LIMIT + 1).subquery()))
        ids = list((await session.scalars(
            select(matching.c.notebook_id).order_by(matching.c.lastname, matching.c.firstname, matching.c.notebook_id)
            .offset(request.offset).limit(request.limit))).all())
        found = {n.id: (n, b) for n, b in (await session.execute(
            select(Notebook, Beneficiary).join(Beneficiary, Beneficiary.id == Notebook.beneficiary_id)
            .where(Notebook.id.in_(ids)))).all()}
        return NotebooksReply(notebooks=await rows_of(session, [found[i] for i in ids], caller),
                              total=min(total, COUNT_LIMIT), more=total > COUNT_LIMIT)


async def recent(request: RecentNotebooksV1, ctx, deps: Deps) -> NotebooksReply:
    """"Derniers profils consultés / modifiés" of the calling person."""
    caller = await caller_of(ctx, deps)
    territory_of(caller)
    if request.kind == "visited":
        # The caller's views handed over to the access log and not yet written count too.
        await deps.visit_log.written(lambda who: who["account_id"] == caller.account_id)
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
        notebooks = await rows_of(session, [tuple(r) for r in rows], caller)
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
                # Followed by the structure without a référent: the « waiting » status, which its link opens.
                ("waiting", "Bénéficiaires non accompagnés",
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
