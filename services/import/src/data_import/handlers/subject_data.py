"""The lines of imported files about the signed-in beneficiary (RGPD art. 15), for her copy of her data: a line holds
her identity and contact details as the uploader's file wrote them, kept until her notebook is purged.

Which lines are hers: the notebook says (asked with her own token) which lines were applied to her notebook and her
NIR; lines of her territory's imports whose cells hold that NIR are hers too (refused, excluded or left in review).
Never a match on names alone: a homonym's line would be another person's data."""
from __future__ import annotations

from sqlalchemy import and_, or_, select, tuple_

from contracts.identity import Role
from contracts.imports import ImportKind, Outcome, ReviewStatus
from contracts.retention import RetentionSubject
from contracts.rights import GetImportSubjectDataV1, GetMySubjectValuesV1, SubjectDataReply, SubjectDataSection
from data_import.adapters.orm import import_rows, imports
from data_import.domain.habilitation import KIND_LABELS
from data_import.domain.report import OUTCOME_LABELS, STATUS_LABELS
from data_import.handlers.deps import Deps
from data_import.handlers.retention import forms, holds_any
from servicekit.errors import Forbidden
from servicekit.rpc import RpcContext

ONLY_THE_PERSON = "Seule la personne concernée peut télécharger ses données, depuis son propre compte."


async def get_subject_data(_request: GetImportSubjectDataV1, ctx: RpcContext, deps: Deps) -> SubjectDataReply:
    principal = await deps.verifier.verify(ctx.bearer_token)
    if principal.role != Role.beneficiary:
        raise Forbidden(ONLY_THE_PERSON)
    her: RetentionSubject = await deps.bus.call(
        GetMySubjectValuesV1(), headers={"Authorization": f"Bearer {ctx.bearer_token}"})
    about_her = []
    if her.import_rows:
        about_her.append(tuple_(import_rows.c.import_id, import_rows.c.row).in_(her.import_rows))
    if her.nir and principal.deployment_id:
        territory = select(imports.c.id).where(imports.c.deployment_id == principal.deployment_id)
        about_her.append(and_(import_rows.c.import_id.in_(territory), holds_any(import_rows.c.cells, forms(her.nir))))
    lines = []
    if about_her:
        async with deps.sessions() as session:
            rows = (await session.execute(
                select(imports.c.kind, imports.c.filename, imports.c.created_at, imports.c.header, import_rows.c.row,
                       import_rows.c.cells, import_rows.c.status, import_rows.c.outcome, import_rows.c.messages)
                .join(imports, imports.c.id == import_rows.c.import_id).where(or_(*about_her))
                .order_by(imports.c.created_at, import_rows.c.row))).all()
        lines = [{
            "fichier": row.filename, "type": KIND_LABELS.get(ImportKind(row.kind), row.kind),
            "importe_le": row.created_at.isoformat(), "ligne": row.row,
            "cellules": dict(zip(row.header, row.cells, strict=False)),
            "statut": STATUS_LABELS[ReviewStatus(row.status)],
            "resultat": OUTCOME_LABELS[Outcome(row.outcome)] if row.outcome else "", "messages": row.messages,
        } for row in rows]
    return SubjectDataReply(sections=[SubjectDataSection(
        service="data_import", key="import_rows", title="Lignes de fichiers importés vous concernant", data=lines)])
