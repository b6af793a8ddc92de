"""The uploader (or anyone of the import's scope who may import its kind) applies the reviewed rows, but the
excluded ones: rows that cannot be applied are ``rejected`` at once, the others go to the owner in the background."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from contracts.imports import ApplyImportV1, ImportKind, ImportState, ImportView, Outcome, ReviewStatus
from data_import.adapters.orm import import_rows, imports
from data_import.domain.habilitation import KIND_LABELS, may_import
from data_import.handlers.applying import TO_APPLY
from data_import.handlers.caller import caller_of, visible_import
from data_import.handlers.deps import Deps
from data_import.handlers.jobs import Jobs
from data_import.handlers.views import import_view
from servicekit.errors import Conflict, Forbidden, Invalid
from servicekit.rpc import RpcContext

NOT_IN_REVIEW = "Cet import n'attend pas de validation : il est déjà appliqué ou en cours."
# A row number is an int column: past this, no row has it (and PostgreSQL would refuse the parameter).
MAX_ROW = 2**31 - 1
UNKNOWN_SHOWN = 5
# Rows named per statement: well under the bound parameters SQLite and PostgreSQL accept.
EXCLUDED_PER_STATEMENT = 1000


def unknown_rows_message(unknown: list[int]) -> str:
    listed = ", ".join(str(row) for row in unknown[:UNKNOWN_SHOWN]) + (" …" if len(unknown) > UNKNOWN_SHOWN else "")
    return (f"Ces lignes ne font pas partie de l'import : {listed}. Seules des lignes du fichier peuvent être "
            "exclues ; rien n'a été appliqué.")


async def refuse_unknown_rows(session, import_id, excluded: list[int]) -> None:
    """A row to exclude that the import does not have (a tampered form, a mistyped API call) is refused: applying
    all the others would not be what was asked."""
    unknown = [row for row in excluded if not 1 <= row <= MAX_ROW]
    numbers = [row for row in excluded if 1 <= row <= MAX_ROW]
    for start in range(0, len(numbers), EXCLUDED_PER_STATEMENT):
        chunk = numbers[start:start + EXCLUDED_PER_STATEMENT]
        found = set((await session.execute(select(import_rows.c.row).where(
            import_rows.c.import_id == import_id, import_rows.c.row.in_(chunk)))).scalars())
        unknown += [row for row in chunk if row not in found]
    if unknown:
        raise Invalid(unknown_rows_message(sorted(unknown)), details={"unknown_rows": sorted(unknown)[:100]})


async def apply_import_rpc(request: ApplyImportV1, ctx: RpcContext, deps: Deps, jobs: Jobs) -> ImportView:
    caller = await caller_of(ctx, deps)
    async with deps.sessions() as session, session.begin():
        job = await visible_import(session, caller, request.import_id)
        if not may_import(caller.role, ImportKind(job.kind)):
            raise Forbidden(f"Vous n'avez pas le droit d'importer des {KIND_LABELS[ImportKind(job.kind)]}.")
        # The state changes first, on a condition: of two clicks on "Appliquer", one applies, the other is told.
        started = await session.execute(update(imports).where(
            imports.c.id == job.id, imports.c.state == ImportState.review.value).values(
                state=ImportState.applying.value, apply_started_at=deps.clock(), rows_per_s=None,
                worker=deps.worker_id, lease_until=deps.clock() + timedelta(seconds=deps.settings.lease_s)))
        if started.rowcount != 1:
            raise Conflict(NOT_IN_REVIEW)
        excluded = sorted(set(request.exclude_rows))
        await refuse_unknown_rows(session, job.id, excluded)  # raised within the transaction: the state stays
        for start in range(0, len(excluded), EXCLUDED_PER_STATEMENT):
            await session.execute(update(import_rows).where(
                import_rows.c.import_id == job.id, import_rows.c.status.in_(TO_APPLY),
                import_rows.c.row.in_(excluded[start:start + EXCLUDED_PER_STATEMENT])).values(
                    outcome=Outcome.excluded.value, excluded=True))
        await session.execute(update(import_rows).where(
            import_rows.c.import_id == job.id,
            import_rows.c.status.in_((ReviewStatus.invalid.value, ReviewStatus.conflict.value))).values(
                outcome=Outcome.rejected.value))
    jobs.start(job.id, ImportState.applying.value)
    async with deps.sessions() as session:
        return import_view((await session.execute(select(imports).where(imports.c.id == job.id))).one())
