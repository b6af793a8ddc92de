"""Pages of the exports (issue 18): the « Exporter (CSV / Excel) » forms of the lists post to ``/exports``, which
waits a moment for a small export and then shows ``/exports/{id}``: a progress bar that refreshes itself (a
``Refresh`` header, as a ``<meta http-equiv="refresh">`` would do: the CSP allows no inline script) while the file
is written, then « Télécharger ».
``/exports`` lists the caller's exports, and every export of the territory for its managers (who, which list and
filters, how many rows, until when the file is kept)."""
from __future__ import annotations

import asyncio
import time
import uuid

from fastapi import APIRouter, Request
from pydantic import ValidationError

from contracts.identity import Role
from contracts.pilotage import BeneficiaryFilters, ExportList, ExportState, GetExportV1, ListExportsV1, StartExportV1
from gateway.api.exports import ExportAsked
from gateway.bus import call
from gateway.web.common import FormVisitorDep, VisitorDep, call_or_leave, redirect, refusal, render
from gateway.web.common import form_text as text
from gateway.web.forms import parse_form
from gateway.web.pilotage_filters import filters_from_query
from servicekit.errors import Invalid, ServiceError

router = APIRouter(include_in_schema=False)
WAIT_S = 2.0  # a small export is done by then: the page opens on its download link
POLL_S = 0.2
REFRESH_S = 2
UNKNOWN_LIST = "Choisissez une liste à exporter."
UNKNOWN_FORMAT = "Choisissez le format CSV ou Excel."
STATE_LABELS = {"queued": "En attente", "running": "En cours", "done": "Prêt", "failed": "Échoué",
                "expired": "Expiré"}
LIST_LABELS = {"beneficiaries": "Bénéficiaires", "professionals": "Professionnels", "structures": "Structures",
               "orientation_requests": "Demandes de réorientation", "appointments": "Rendez-vous",
               "actions": "Actions", "imports": "Imports"}
FORMAT_LABELS = {"csv": "CSV", "xlsx": "Excel"}
# Who may ask which list (the notebook service decides; this only spares the form lists that would be refused).
TERRITORY = {Role.manager, Role.orientation_manager, Role.admin_structure, Role.professional, Role.admin_cdb}
ALLOWED = {
    ExportList.beneficiaries: TERRITORY, ExportList.appointments: TERRITORY, ExportList.actions: TERRITORY,
    ExportList.professionals: {Role.manager, Role.admin_structure, Role.admin_cdb},
    ExportList.structures: {Role.manager, Role.admin_cdb},
    ExportList.orientation_requests: {Role.manager, Role.orientation_manager, Role.admin_cdb},
    ExportList.imports: {Role.manager, Role.admin_structure, Role.admin_cdb},
}
CONTEXT = {"state_labels": STATE_LABELS, "list_labels": LIST_LABELS, "format_labels": FORMAT_LABELS}


# The model's refusals of the form's two choices, said as the form asks them.
CHOICE_REFUSALS = {"list": UNKNOWN_LIST, "list_name": UNKNOWN_LIST, "format": UNKNOWN_FORMAT}


def export_request(form) -> StartExportV1:
    """The form as the body of POST /api/v1/exports (``ExportAsked``): the list (``list_name``, the model's name for
    its « list »), the format, a saved query, a territory (admin_cdb); the beneficiaries' filters, or the actions'
    list's (a dashboard's « actions par thème et statut » cell), read from the same form by ``filters_from_query``
    as from a list's address (its French messages name the filter)."""
    list_name = text(form, "list_name")
    filtered = list_name in (ExportList.beneficiaries, ExportList.actions)
    try:
        body = parse_form(form, ExportAsked, filters=filters_from_query(form) if filtered else BeneficiaryFilters())
    except ValidationError as failure:
        for error in failure.errors():
            if (message := CHOICE_REFUSALS.get(str(error["loc"][0]) if error.get("loc") else "")) is not None:
                raise Invalid(message, details={"field": "list_name" if message == UNKNOWN_LIST else "format"}) \
                    from None
        raise
    return StartExportV1(list_name=body.list_name, filters=body.filters, format=body.format, query_id=body.query_id,
                         deployment_id=body.deployment_id)


async def exports_page(request: Request, visitor, *, error: str = "", form: dict | None = None,
                       status_code: int = 200):
    """The exports; on a refusal, ``form`` as chosen."""
    found = await call_or_leave(request, visitor, ListExportsV1(limit=100))
    role = visitor.me.role
    choices = [(name, label) for name, label in LIST_LABELS.items() if role in ALLOWED[ExportList(name)]]
    return render(request, "exports.html.j2", {"found": found, "error": error, "choices": choices, **CONTEXT,
                                               "form": form or {}}, visitor=visitor, status_code=status_code)


@router.get("/exports")
async def exports(request: Request, visitor: VisitorDep):
    return await exports_page(request, visitor)


@router.post("/exports")
async def start(request: Request, visitor: FormVisitorDep):
    form = await request.form()
    try:
        started = await call(request, export_request(form), access_token=visitor.token)
    except ValidationError as failure:
        return await exports_page(request, visitor, error=refusal(failure).message, form=dict(form), status_code=422)
    except ServiceError as error:
        return await exports_page(request, visitor, error=error.message, form=dict(form),
                                  status_code=error.http_status)
    export_id = started.export.export_id
    deadline = time.monotonic() + WAIT_S
    state = started.export.state
    while state in (ExportState.queued, ExportState.running) and time.monotonic() < deadline:
        await asyncio.sleep(POLL_S)
        state = (await call(request, GetExportV1(export_id=export_id), access_token=visitor.token)).export.state
    return redirect(f"/exports/{export_id}", visitor)


@router.get("/exports/{export_id}")
async def export_page(export_id: uuid.UUID, request: Request, visitor: VisitorDep):
    found = await call_or_leave(request, visitor, GetExportV1(export_id=export_id))
    export = found.export
    running = export.state in (ExportState.queued, ExportState.running)
    page = render(request, "export.html.j2", {
        "export": export, "running": running, **CONTEXT,
        "download": f"/api/v1/exports/{export.export_id}/download" if export.state == ExportState.done else "",
    }, visitor=visitor)
    if running:
        page.headers["Refresh"] = str(REFRESH_S)
    return page
