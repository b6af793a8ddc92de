"""Opening an import (the caller may import this kind, into this structure) and hearing that its file is in the
object store: parsing starts in the background and the reply comes at once."""
from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import insert, select, update

from contracts.audit import ImportAuditRecordedV1
from contracts.identity import GetMeV1, Role
from contracts.imports import (MAX_UPLOAD_BYTES, FinishUploadV1, ImportActor, ImportOpenedReply, ImportState,
                               ImportView, OpenImportV1)
from data_import.adapters.orm import imports
from data_import.domain.habilitation import Refused, Uploader, import_structure
from data_import.handlers.caller import visible_import
from data_import.handlers.deps import Deps
from data_import.handlers.ending import fail
from data_import.handlers.jobs import Jobs
from data_import.handlers.parsing import upload_name
from data_import.handlers.scanning import refuse_unscannable
from data_import.handlers.views import import_view
from servicekit.errors import Conflict, Forbidden, Invalid, ServiceError
from servicekit.rpc import RpcContext

ALREADY_SENT = "Le fichier de cet import a déjà été envoyé."
NOT_YOURS = "Seule la personne qui a commencé cet import peut y envoyer son fichier."
CONTACT_TIMEOUT_S = 2.0


async def open_import(request: OpenImportV1, ctx: RpcContext, deps: Deps) -> ImportOpenedReply:
    principal = await deps.verifier.verify(ctx.bearer_token)
    refuse_unscannable(deps.settings)  # before the file is sent: it would never be read
    uploader = Uploader(principal.account_id, Role(principal.role), principal.deployment_id,
                        frozenset(principal.structure_ids))
    try:
        structure_id = import_structure(uploader, request.kind, request.structure_id)
    except Refused as refused:
        raise (Forbidden if refused.forbidden else Invalid)(refused.message) from None
    name, email = await uploader_contact(ctx, deps)
    actor = ImportActor(account_id=principal.account_id, role=uploader.role, deployment_id=principal.deployment_id,
                        profile_id=principal.profile_id, structure_ids=list(principal.structure_ids), name=name)
    import_id = uuid.uuid4()
    async with deps.sessions() as session, session.begin():
        await session.execute(insert(imports).values(
            id=import_id, kind=request.kind.value, filename=request.filename, deployment_id=principal.deployment_id,
            structure_id=structure_id, account_id=principal.account_id,
            # The uploader's address rides with the actor: the summary of the import is sent there when it ends.
            actor={**actor.model_dump(mode="json"), "email": email},
            created_by_name=actor.name, state=ImportState.receiving.value, reason="", fingerprint=None, header=[],
            rows_total=0, rows_done=0, rows_per_s=None, created=0, updated=0, unchanged=0, rejected=0, excluded=0,
            review_new=0, review_same=0, review_conflict=0, review_invalid=0, warnings=[],
            created_at=deps.clock()))
        # The audit trail's line (issue 21): who imports what kind of file (its rows' notebooks are not logged one
        # by one: the import's report is their trail).
        await deps.outbox.add(session, ImportAuditRecordedV1(
            deployment_id=principal.deployment_id, actor_account_id=principal.account_id,
            actor_role=uploader.role.value, action="import.opened", target_type="import", target_id=str(import_id),
            details={"kind": request.kind.value, **({"structure": str(structure_id)} if structure_id else {})}))
    return ImportOpenedReply(import_id=import_id, object_name=upload_name(import_id), max_bytes=MAX_UPLOAD_BYTES)


async def uploader_contact(ctx: RpcContext, deps: Deps) -> tuple[str, str]:
    """The uploader's name (shown beside the import and in the history of what it changes) and email (where its
    summary goes), as identity knows them from their own token; empty if identity does not answer at once: the
    import does not wait for it."""
    try:
        me = await deps.bus.call(GetMeV1(), headers={"Authorization": f"Bearer {ctx.bearer_token}"},
                                 timeout_s=CONTACT_TIMEOUT_S)
    except ServiceError:
        return "", ""
    return " ".join(part for part in (me.firstname, me.lastname) if part)[:250], me.email or ""


async def finish_upload(request: FinishUploadV1, ctx: RpcContext, deps: Deps, jobs: Jobs) -> ImportView:
    principal = await deps.verifier.verify(ctx.bearer_token)
    uploader = Uploader(principal.account_id, Role(principal.role), principal.deployment_id,
                        frozenset(principal.structure_ids))
    async with deps.sessions() as session:
        job = await visible_import(session, uploader, request.import_id)
    if job.account_id != uploader.account_id:
        raise Forbidden(NOT_YOURS)
    receiving = (ImportState.receiving.value,)
    if request.error:
        if not await fail(deps, request.import_id, request.error, from_states=receiving):
            raise Conflict(ALREADY_SENT)
    else:
        async with deps.sessions() as session, session.begin():
            started = await session.execute(update(imports).where(
                imports.c.id == request.import_id, imports.c.state.in_(receiving)).values(
                    state=ImportState.parsing.value, worker=deps.worker_id,
                    lease_until=deps.clock() + timedelta(seconds=deps.settings.lease_s)))
            if started.rowcount != 1:
                raise Conflict(ALREADY_SENT)
        jobs.start(request.import_id, ImportState.parsing.value)
    async with deps.sessions() as session:
        return import_view((await session.execute(select(imports).where(imports.c.id == request.import_id))).one())
