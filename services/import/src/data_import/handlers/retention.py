"""Retention (issue 21): a beneficiary's notebook past its territory's retention — the import rows about her lose
their cells, values, match and messages (the row, its status and outcome stay: the import's report still adds up).
Rows about her are those the notebook recorded as applied to her notebook (asked with the values to look for,
never kept), and any other row whose cells hold her NIR, or both her names (a row refused or left in review).
Then the import service confirms with ``import.retention.purged.v1``.

The uploaded files and reports in the object store are not rewritten: the bucket keeps them for its own limited
time only (``UPLOADS_BUCKET``'s max age)."""
from __future__ import annotations

import json

from sqlalchemy import Text, and_, cast, func, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.retention import GetRetentionSubjectV1, ImportRetentionPurgedV1, RetentionDueV1, RetentionSubject
from data_import.adapters.orm import import_rows, imports
from data_import.handlers.deps import Deps
from servicekit import inbox
from servicekit.retention import SWEPT_STREAMS, forget_in_streams, forget_published

CONSUMER = "data-import-retention"


async def on_retention_due(event: RetentionDueV1, _meta, deps: Deps) -> None:
    subject: RetentionSubject = await deps.bus.call(GetRetentionSubjectV1(notebook_id=event.notebook_id))

    async def erase(session: AsyncSession) -> None:
        await erase_subject(session, event, subject)
        await deps.outbox.add(session, ImportRetentionPurgedV1(notebook_id=event.notebook_id))

    await inbox.apply_once(deps.sessions, CONSUMER, event.event_id, erase)
    # Its events on IMPORT, and the partners' messages (PARTNER) about her; again on a redelivery: no harm.
    await forget_in_streams(deps.bus.stream_context, SWEPT_STREAMS["data_import"], [
        event.notebook_id, event.beneficiary_id, subject.nir, *subject.emails, *subject.phones,
        *((f"{subject.firstname} {subject.lastname}",) if subject.lastname else ())])


def forms(value: str) -> list[str]:
    """A value as it may sit in a JSON column: as written, and escaped (non-ASCII as \\uXXXX)."""
    value = value.strip().lower()
    return sorted({value, json.dumps(value)[1:-1]}) if value else []


def holds_any(column, values: list[str]):
    text = func.lower(cast(column, Text))
    return or_(*(text.contains(v, autoescape=True) for v in values))


async def erase_subject(session: AsyncSession, event: RetentionDueV1, subject: RetentionSubject) -> None:
    matching = []
    if subject.nir:
        matching.append(holds_any(import_rows.c.cells, forms(subject.nir)))
    if subject.firstname and subject.lastname:
        matching.append(and_(holds_any(import_rows.c.cells, forms(subject.firstname)),
                             holds_any(import_rows.c.cells, forms(subject.lastname))))
    about_her = []
    if subject.import_rows:
        about_her.append(tuple_(import_rows.c.import_id, import_rows.c.row).in_(
            [(i, r) for i, r in subject.import_rows]))
    if matching:  # within her territory's imports (and the national ones)
        territory = select(imports.c.id).where(
            or_(imports.c.deployment_id == event.deployment_id, imports.c.deployment_id.is_(None)))
        about_her.append(and_(import_rows.c.import_id.in_(territory), or_(*matching)))
    if about_her:
        await session.execute(update(import_rows).where(or_(*about_her)).values(
            cells=[], values=None, match=None, messages=[]))
    await forget_published(session, [event.notebook_id, event.beneficiary_id, subject.nir, *subject.emails,
                                     *((f"{subject.firstname} {subject.lastname}",) if subject.lastname else ())])
