"""« Demandes de réorientation » (issue 20 item 8): the requests of the caller's territory still waiting for a
decision, oldest first, for those who decide them (orientation managers and managers: the habilitation table's
``orient`` on the whole territory). Nothing is decided here: each row leads to its notebook's orientation section.
"""
from __future__ import annotations

from sqlalchemy import func, select

from contracts.notebook import OrientationRequestStatus
from contracts.orientation_requests import (
    ListOpenReorientationRequestsV1,
    OpenReorientationRequest,
    OpenReorientationRequestsReply,
)
from notebook.adapters.orm import Beneficiary, Notebook, OrientationRequest
from notebook.domain.habilitation import Operation
from notebook.handlers.bulk_orientation import may_orient
from notebook.handlers.caller import NOT_ALLOWED, caller_of
from notebook.handlers.deps import Deps
from notebook.handlers.read_models import orientation_system_names
from servicekit.errors import Forbidden


async def list_open_requests(request: ListOpenReorientationRequestsV1, ctx, deps: Deps
                             ) -> OpenReorientationRequestsReply:
    caller = await caller_of(ctx, deps)
    if not may_orient(caller) or caller.deployment_id is None:
        raise Forbidden(NOT_ALLOWED, details={"operation": Operation.orient.value})
    pending = (OrientationRequest.status == OrientationRequestStatus.pending.value,
               Notebook.deployment_id == caller.deployment_id)
    query = (select(OrientationRequest, Notebook, Beneficiary)
             .join(Notebook, Notebook.id == OrientationRequest.notebook_id)
             .join(Beneficiary, Beneficiary.id == Notebook.beneficiary_id)
             .where(*pending).order_by(OrientationRequest.created_at, OrientationRequest.id))
    async with deps.sessions() as session:
        total = await session.scalar(select(func.count(OrientationRequest.id)).join(
            Notebook, Notebook.id == OrientationRequest.notebook_id).where(*pending))
        rows = (await session.execute(query.offset(request.offset).limit(request.limit))).all()
        names = await orientation_system_names(session, {s for asked, notebook, _ in rows for s in (
            asked.requested_orientation_system_id, notebook.orientation_system_id)})
    return OpenReorientationRequestsReply(total=total or 0, requests=[OpenReorientationRequest(
        request_id=asked.id, notebook_id=notebook.id, firstname=beneficiary.firstname,
        lastname=beneficiary.lastname, requested_at=asked.created_at, requested_by_name=asked.requested_by_name,
        requested_orientation_system_name=names.get(asked.requested_orientation_system_id, ""),
        current_orientation_system_name=names.get(notebook.orientation_system_id, ""), reason=asked.reason)
        for asked, notebook, beneficiary in rows])
