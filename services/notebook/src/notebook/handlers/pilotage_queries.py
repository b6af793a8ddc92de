"""The beneficiaries' filter builder and its saved queries (issue 18), answered from the pilotage read model: the
filtered list the caller may see (a page, its total and its breakdown by structure), and queries saved by their
owner, shared with her territory if she wishes, re-run by anyone who sees them within her own scope."""
from __future__ import annotations

import uuid

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.pilotage import (
    BeneficiaryFactsReply,
    BeneficiaryFilters,
    Choice,
    DeleteSavedQueryV1,
    GetQueryChoicesV1,
    GetSavedQueryV1,
    ListSavedQueriesV1,
    QueryBeneficiariesV1,
    QueryChoicesReply,
    SavedQueriesReply,
    SavedQuery,
    SavedQueryReply,
    SaveQueryV1,
)
from notebook.adapters import pilotage_query
from notebook.adapters.orm import OrientationSystemRead, Person, SavedQueryRow, StructureRead
from notebook.handlers.caller import Caller, caller_of, name_of
from notebook.handlers.deps import Deps
from servicekit.errors import Conflict, Forbidden, NotFound

QUERY_NOT_FOUND = "Cette requête n'existe pas ou n'est pas partagée avec vous."
NOT_YOURS = "Seule la personne qui a enregistré cette requête peut la modifier ou la supprimer."
NAME_TAKEN = "Vous avez déjà une requête nommée « {name} » : choisissez un autre nom."
MAX_QUERIES = 200  # per owner: a list to choose from, not a store


async def query_beneficiaries(request: QueryBeneficiariesV1, ctx, deps: Deps) -> BeneficiaryFactsReply:
    caller = await caller_of(ctx, deps)
    scope = pilotage_query.scope_of(caller, request.deployment_id)
    async with deps.sessions() as session:
        total = await pilotage_query.count(session, request.filters, scope)
        rows = await pilotage_query.page(session, request.filters, scope, request.offset, request.limit)
        structures = await pilotage_query.by_structure(session, request.filters, scope)
    return BeneficiaryFactsReply(rows=rows, total=total, by_structure=structures)


def owner_of(caller: Caller) -> uuid.UUID:
    """Queries belong to a profile (an admin_cdb has none: her account)."""
    return caller.profile_id or caller.account_id


def visible(caller: Caller):
    """The caller's own queries, and those shared in her territory."""
    mine = SavedQueryRow.owner_id == owner_of(caller)
    if caller.deployment_id is None:
        return mine
    return or_(mine, (SavedQueryRow.shared.is_(True)) & (SavedQueryRow.deployment_id == caller.deployment_id))


def view_of(row: SavedQueryRow, caller: Caller) -> SavedQuery:
    return SavedQuery(query_id=row.id, name=row.name, filters=BeneficiaryFilters.model_validate(row.filters or {}),
                      shared=row.shared, owner_name=row.owner_name, mine=row.owner_id == owner_of(caller),
                      created_at=row.created_at, updated_at=row.updated_at)


async def visible_query(session: AsyncSession, caller: Caller, query_id: uuid.UUID, *,
                        own: bool = False) -> SavedQueryRow:
    """The query if the caller sees it (404 otherwise, as for an unknown id); ``own``: and it is hers (403)."""
    row = (await session.execute(select(SavedQueryRow).where(SavedQueryRow.id == query_id, visible(caller))
                                 )).scalar_one_or_none()
    if row is None:
        raise NotFound(QUERY_NOT_FOUND)
    if own and row.owner_id != owner_of(caller):
        raise Forbidden(NOT_YOURS)
    return row


async def save_query(request: SaveQueryV1, ctx, deps: Deps) -> SavedQueryReply:
    caller = await caller_of(ctx, deps)
    pilotage_query.scope_of(caller)  # who may filter may save
    name = " ".join(request.name.split())
    now = deps.clock()
    async with deps.sessions.begin() as session:
        same_name = (await session.execute(select(SavedQueryRow.id).where(
            SavedQueryRow.owner_id == owner_of(caller), SavedQueryRow.name == name))).scalar_one_or_none()
        if same_name is not None and same_name != request.query_id:
            raise Conflict(NAME_TAKEN.format(name=name), details={"field": "name"})
        if request.query_id is None:
            owned = await session.scalar(select(SavedQueryRow.id).where(
                SavedQueryRow.owner_id == owner_of(caller)).offset(MAX_QUERIES - 1).limit(1))
            if owned is not None:
                raise Conflict(f"Vous avez déjà {MAX_QUERIES} requêtes enregistrées : supprimez-en une d'abord.")
            row = SavedQueryRow(id=uuid.uuid4(), deployment_id=caller.deployment_id, owner_id=owner_of(caller),
                                owner_name=await name_of(session, caller), created_at=now)
            session.add(row)
        else:
            row = await visible_query(session, caller, request.query_id, own=True)
            row.updated_at = now
        row.name, row.filters, row.shared = name, request.filters.model_dump(mode="json"), request.shared
        try:
            await session.flush()
        except IntegrityError:  # the same name saved at the same instant: the unique index decides
            raise Conflict(NAME_TAKEN.format(name=name), details={"field": "name"}) from None
        return SavedQueryReply(query=view_of(row, caller))


async def list_saved_queries(request: ListSavedQueriesV1, ctx, deps: Deps) -> SavedQueriesReply:
    caller = await caller_of(ctx, deps)
    pilotage_query.scope_of(caller)
    async with deps.sessions() as session:
        rows = (await session.execute(select(SavedQueryRow).where(visible(caller))
                                      .order_by(SavedQueryRow.name, SavedQueryRow.id))).scalars().all()
    mine = [view_of(r, caller) for r in rows]
    # Hers first, then the territory's shared ones; each by name.
    return SavedQueriesReply(queries=[q for q in mine if q.mine] + [q for q in mine if not q.mine])


async def get_saved_query(request: GetSavedQueryV1, ctx, deps: Deps) -> SavedQueryReply:
    caller = await caller_of(ctx, deps)
    pilotage_query.scope_of(caller)
    async with deps.sessions() as session:
        return SavedQueryReply(query=view_of(await visible_query(session, caller, request.query_id), caller))


async def delete_saved_query(request: DeleteSavedQueryV1, ctx, deps: Deps) -> SavedQueryReply:
    caller = await caller_of(ctx, deps)
    pilotage_query.scope_of(caller)
    async with deps.sessions.begin() as session:
        row = await visible_query(session, caller, request.query_id, own=True)
        reply = SavedQueryReply(query=view_of(row, caller))
        await session.delete(row)
    return reply



REFERENT_ROLES = ("professional", "orientation_manager")


async def query_choices(request: GetQueryChoicesV1, ctx, deps: Deps) -> QueryChoicesReply:
    """The structures, référents and orientation systems to filter on, from the directory's read models."""
    caller = await caller_of(ctx, deps)
    scope = pilotage_query.scope_of(caller, request.deployment_id)
    if scope.deployment_id is None:
        return QueryChoicesReply()  # every territory at once: too many to choose from, pick a territory first
    async with deps.sessions() as session:
        structures = (await session.execute(select(StructureRead.id, StructureRead.name).where(
            StructureRead.deployment_id == scope.deployment_id).order_by(StructureRead.name))).all()
        people = (await session.execute(select(Person).where(
            Person.deployment_id == scope.deployment_id, Person.role.in_(REFERENT_ROLES),
            Person.deactivated_at.is_(None)).order_by(Person.lastname, Person.firstname))).scalars().all()
        systems = (await session.execute(select(OrientationSystemRead.id, OrientationSystemRead.name).where(
            OrientationSystemRead.deployment_id == scope.deployment_id).order_by(OrientationSystemRead.name))).all()
    if scope.structure_ids is not None:
        structures = [s for s in structures if s.id in scope.structure_ids]
        people = [p for p in people if p.works_in(scope.structure_ids)]
    return QueryChoicesReply(
        structures=[Choice(id=s.id, label=s.name) for s in structures],
        referents=[Choice(id=p.id, label=f"{p.firstname} {p.lastname}".strip()) for p in people],
        orientation_systems=[Choice(id=s.id, label=s.name) for s in systems])
