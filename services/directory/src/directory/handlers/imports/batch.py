"""The directory's side of file imports (spec §4.1 B–D): batches of parsed rows sent by the import service.

Review changes nothing: each row says what applying it would do. Apply runs the whole batch in one transaction,
each row in a savepoint of its own (a refused row is rolled back alone and never stops the others), and records
every row's outcome in ``import_applied`` in that same transaction: a batch sent again answers what was recorded
and applies only the rows that were not. The situation is read again when applying: it may have changed since
the review.
"""
from __future__ import annotations

import uuid
from typing import Protocol

import structlog
from pydantic import ValidationError
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from contracts.identity import Role
from contracts.imports import (AppliedReply, ApplyDirectoryImportV1, ImportBatch, ImportKind, ImportRowValues,
                               Outcome, ReviewDirectoryImportV1, ReviewedReply, ReviewStatus, RowOutcome)
from directory.adapters.orm import ImportApplied, Structure
from directory.domain.habilitation import Caller, Operation, Scope, may
from directory.handlers.deps import Deps
from directory.handlers.imports.common import Plan, column_message
from directory.handlers.imports.france_travail import FranceTravailReferentImport
from directory.handlers.imports.people import OrientationManagerImport, ProfessionalImport
from directory.handlers.imports.structures import StructureImport
from servicekit.db import plan_for_now
from servicekit.errors import Forbidden, Invalid, ServiceError
from servicekit.rpc import RpcContext

log = structlog.get_logger("directory.imports")

NOT_ALLOWED = "Vous n'avez pas le droit d'importer ce fichier sur ce territoire."
NOT_YOUR_STRUCTURE = "Vous n'avez pas le droit d'importer des professionnels dans cette structure."
STRUCTURE_REQUIRED = "Choisissez la structure des professionnels importés."
NOT_A_DIRECTORY_KIND = "L'annuaire n'importe que des structures, des professionnels et des chargés d'orientation."
CHANGED_MEANWHILE = ("Cette ligne n'a pas été enregistrée : une autre modification est arrivée en même temps. "
                     "Importez-la de nouveau.")
UNEXPECTED = "Cette ligne n'a pas été enregistrée à cause d'une erreur inattendue. Importez-la de nouveau."

# Who may import what (spec §4.1, default deny): the role, then the directory's own rule for the same operation.
RULES = {
    ImportKind.structures: ({Role.manager}, Operation.create_structure),
    ImportKind.orientation_managers: ({Role.manager}, Operation.create_staff),
    ImportKind.professionals: ({Role.manager, Role.admin_structure}, Operation.create_professional),
    # The référents of France Travail's principal flux and their agencies, before the notebook applies the rows.
    ImportKind.france_travail_principal: ({Role.manager}, Operation.create_professional),
}


class KindImport(Protocol):
    async def load(self, session: AsyncSession, rows: list[ImportRowValues]) -> None: ...

    def plan(self, row: ImportRowValues) -> Plan: ...

    async def apply(self, session: AsyncSession, row: ImportRowValues, plan: Plan) -> tuple[Outcome, uuid.UUID]: ...


async def importer_for(session: AsyncSession, deps: Deps, batch: ImportBatch) -> KindImport:
    """The kind's importer, once the actor may import it there: else the whole batch is refused."""
    if batch.kind not in RULES:
        raise Invalid(NOT_A_DIRECTORY_KIND, details={"field": "kind"})
    actor = batch.actor
    roles, operation = RULES[batch.kind]
    caller = Caller(actor.role, actor.deployment_id, frozenset(actor.structure_ids), actor.profile_id)
    if actor.role not in roles or actor.deployment_id is None:
        raise Forbidden(NOT_ALLOWED)
    if batch.kind != ImportKind.professionals:
        if not may(caller, operation, Scope(actor.deployment_id)):
            raise Forbidden(NOT_ALLOWED)
        if batch.kind == ImportKind.structures:
            return StructureImport(deps, actor, actor.deployment_id)
        if batch.kind == ImportKind.france_travail_principal:
            return FranceTravailReferentImport(deps, actor, actor.deployment_id)
        return OrientationManagerImport(deps, actor, actor.deployment_id)
    if batch.structure_id is None:
        raise Invalid(STRUCTURE_REQUIRED, details={"field": "structure_id"})
    structure = await session.get(Structure, batch.structure_id)
    if structure is None or structure.deactivated_at is not None or not may(
            caller, operation, Scope(structure.deployment_id, frozenset({structure.id}))):
        raise Forbidden(NOT_YOUR_STRUCTURE)
    return ProfessionalImport(deps, actor, structure.deployment_id, structure)


async def review_import(request: ReviewDirectoryImportV1, _ctx: RpcContext, deps: Deps) -> ReviewedReply:
    async with deps.sessions() as session:  # read only: never committed
        importer = await importer_for(session, deps, request)
        await importer.load(session, request.rows)
        return ReviewedReply(results=[importer.plan(row).review(row.row) for row in request.rows])


async def apply_import(request: ApplyDirectoryImportV1, _ctx: RpcContext, deps: Deps) -> AppliedReply:
    async with deps.sessions() as session, session.begin():
        await plan_for_now(session)
        importer = await importer_for(session, deps, request)
        await lock_import(session, request.import_id)
        recorded = await recorded_outcomes(session, request.import_id, [r.row for r in request.rows])
        todo = [row for row in request.rows if row.row not in recorded]
        await importer.load(session, todo)
        for row in todo:
            recorded[row.row] = await apply_row(session, deps, importer, request.import_id, row, todo)
    return AppliedReply(results=[recorded[row.row] for row in request.rows])


async def lock_import(session: AsyncSession, import_id: uuid.UUID) -> None:
    """Two deliveries of one batch at once apply it once: the second waits for the first's commit, then reads
    its recorded outcomes. SQLite needs nothing: a writing transaction holds the database's write lock."""
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(import_id.bytes[:8], "big", signed=True)
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


async def recorded_outcomes(session: AsyncSession, import_id: uuid.UUID, rows: list[int]) -> dict[int, RowOutcome]:
    applied = (await session.execute(select(ImportApplied).where(
        ImportApplied.import_id == import_id, ImportApplied.row.in_(rows)))).scalars().all()
    return {a.row: RowOutcome(row=a.row, outcome=Outcome(a.outcome), target_id=a.target_id, messages=a.messages)
            for a in applied}


async def apply_row(session: AsyncSession, deps: Deps, importer: KindImport, import_id: uuid.UUID,
                    row: ImportRowValues, batch: list[ImportRowValues]) -> RowOutcome:
    plan = importer.plan(row)
    outcome = None
    if plan.status in (ReviewStatus.conflict, ReviewStatus.invalid):
        target = plan.match.target_id if plan.match else None
        outcome = RowOutcome(row=row.row, outcome=Outcome.rejected, target_id=target, messages=plan.messages)
    else:
        try:
            async with session.begin_nested():
                result, target_id = await importer.apply(session, row, plan)
                outcome = RowOutcome(row=row.row, outcome=result, target_id=target_id, messages=plan.messages)
                await record(session, deps, import_id, outcome)
            return outcome
        except (ServiceError, ValidationError) as error:
            message = column_message(error, {})
        except (IntegrityError, StaleDataError):
            message = CHANGED_MEANWHILE
        except Exception:  # noqa: BLE001 - one row's bug must not stop the others: logged, the row refused
            log.exception("import_row_failed", import_id=str(import_id), row=row.row)
            message = UNEXPECTED
        # The savepoint is rolled back: what the importer knew of this row's writes is read again.
        await importer.load(session, batch)
        outcome = RowOutcome(row=row.row, outcome=Outcome.rejected, messages=[message])
    await record(session, deps, import_id, outcome)
    return outcome


async def record(session: AsyncSession, deps: Deps, import_id: uuid.UUID, outcome: RowOutcome) -> None:
    session.add(ImportApplied(import_id=import_id, row=outcome.row, outcome=outcome.outcome.value,
                              target_id=outcome.target_id, messages=outcome.messages, applied_at=deps.clock()))
    await session.flush()
