"""Imports applied by the notebook whose rows first need people or structures that the directory owns.

France Travail's principal flux names each beneficiary's référent and their agency (spec §4.3): the directory
finds or creates them (``ApplyDirectoryImportV1`` of the same kind), then the notebook adds the référent to the
group, knowing them by the id the directory answered (its read model of the directory may not have heard of a
person created a moment ago). The notebook's review named the rows that need it (``NEEDS_DIRECTORY`` among the
fields applying changes): the others never reach the directory, so an agency is created only for a beneficiary
of the territory.

Both owners apply once per ``(import_id, row)``: sent again after a crash, the directory answers the ids it
recorded, and the notebook applies only what it has not.
"""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Row

from contracts.imports import ApplyDirectoryImportV1, ImportActor, ImportKind, ImportRowValues, Outcome, RowOutcome
from data_import.handlers.deps import Deps
from data_import.handlers.owners import ask_owner

DIRECTORY_FIRST = frozenset({ImportKind.france_travail_principal})
NEEDS_DIRECTORY = "referent_mail"
# The value the notebook reads: the id of the person the directory found or created.
DIRECTORY_PERSON = "referent_person_id"


def needs_directory(row: Row) -> bool:
    return NEEDS_DIRECTORY in ((row.match or {}).get("changed") or [])


async def through_directory(deps: Deps, job: Row, batch: Sequence[Row], rows: list[ImportRowValues],
                            keep_lease) -> tuple[list[ImportRowValues], dict[int, list[str]]]:
    """The rows for the notebook (with the directory's person where it gave one), and the directory's messages by
    row. A refusal of the whole batch by the directory is raised (``ServiceError``)."""
    kind = ImportKind(job.kind)
    wanted = {row.row for row in batch if needs_directory(row)}
    if kind not in DIRECTORY_FIRST or not wanted:
        return rows, {}
    reply = await ask_owner(deps, ApplyDirectoryImportV1(
        import_id=job.id, kind=kind, actor=ImportActor.model_validate(job.actor), structure_id=job.structure_id,
        rows=[row for row in rows if row.row in wanted]), keep_lease)
    found: dict[int, RowOutcome] = {result.row: result for result in reply.results}
    enriched = []
    for row in rows:
        result = found.get(row.row)
        if result is not None and result.outcome != Outcome.rejected and result.target_id is not None:
            row = ImportRowValues.model_construct(row=row.row, values={**row.values,
                                                                       DIRECTORY_PERSON: str(result.target_id)})
        enriched.append(row)
    return enriched, {number: list(result.messages) for number, result in found.items()}
