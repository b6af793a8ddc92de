"""The notebook: its page, the beneficiaries' lists and search, and every change to it, answered by notebook.

Changes send back the ``version`` read: if someone saved in between, the answer is 409 with the current one.
"""
from __future__ import annotations

import uuid
from datetime import date

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel, Field

from contracts.identity import AcceptedReply
from contracts.notebook import (
    ActionStatus,
    AddActionV1,
    AddFocusV1,
    AddTargetV1,
    AssignedReply,
    AssignOrientationManagerV1,
    AssignReferentV1,
    AppointmentStatus,
    BeneficiaryFields,
    BookAppointmentV1,
    ChangeOrientationV1,
    ContractLink,
    CreateBeneficiaryV1,
    DashboardReply,
    DeleteParcoursItemV1,
    DenyReorientationV1,
    DiagnosticFields,
    GetDashboardV1,
    GetNotebookPageV1,
    GetReferentialsV1,
    InviteMemberV1,
    JoinNotebookV1,
    LeaveNotebookV1,
    NotebookCreatedReply,
    NotebookPage,
    NotebooksReply,
    RecentNotebooksV1,
    RedactTimelineEntryV1,
    RemoveMemberV1,
    RequestReorientationV1,
    Referentials,
    RomeCodesReply,
    SearchNotebooksV1,
    SearchRomeCodesV1,
    SupportStatus,
    TargetStatus,
    UpdateActionV1,
    UpdateAppointmentV1,
    UpdateBeneficiaryV1,
    UpdateDiagnosticV1,
    UpdateTargetV1,
    VersionReply,
)
from contracts.inputs import MAX_OFFSET, AppointmentTime, Line, Text, Version
from gateway.auth.session import COOKIE_ORIGIN_CHECK, call_as_caller, json_as_caller

router = APIRouter(prefix="/api/v1", tags=["carnets"], dependencies=COOKIE_ORIGIN_CHECK)


class BeneficiaryChange(BaseModel):
    version: Version
    beneficiary: BeneficiaryFields


class DiagnosticChange(BaseModel):
    version: Version
    diagnostic: DiagnosticFields


class Join(BaseModel):
    as_referent: bool = False
    orientation_system_id: uuid.UUID | None = None


class Invitation(BaseModel):
    person_id: uuid.UUID


class NewFocus(BaseModel):
    theme: Line = Field(max_length=60)


class NewTarget(BaseModel):
    target: Line = Field(max_length=300)
    linked_to: ContractLink = ContractLink.no
    user_consent: bool = False


class TargetChange(BaseModel):
    version: Version
    status: TargetStatus
    linked_to: ContractLink
    user_consent: bool = False
    reason: Text = Field(default="", max_length=500)


class NewAction(BaseModel):
    action: Line = Field(max_length=300)
    starting_at: date | None = None
    status: ActionStatus = ActionStatus.in_progress


class ActionChange(BaseModel):
    version: Version
    status: ActionStatus
    reason: Text = Field(default="", max_length=500)


class NewAppointment(BaseModel):
    person_id: uuid.UUID | None = None
    at: AppointmentTime
    status: AppointmentStatus = AppointmentStatus.planned


class AppointmentChange(BaseModel):
    version: Version
    at: AppointmentTime
    status: AppointmentStatus


class Redaction(BaseModel):
    reason: Text = Field(min_length=3, max_length=500)


class ReorientationRequest(BaseModel):
    orientation_system_id: uuid.UUID
    reason: Text = Field(max_length=2000)


class Decision(BaseModel):
    reason: Text = Field(max_length=2000)


class Orientation(BaseModel):
    orientation_system_id: uuid.UUID
    structure_id: uuid.UUID
    referent_id: uuid.UUID | None = None
    reason: Text = Field(default="", max_length=2000)


@router.post("/notebooks", status_code=status.HTTP_201_CREATED, response_model=NotebookCreatedReply)
async def create_beneficiary(body: CreateBeneficiaryV1, request: Request, response: Response) -> NotebookCreatedReply:
    """Manager: a beneficiary and their notebook."""
    return await call_as_caller(request, response, body)


@router.get("/notebooks", response_model=NotebooksReply)
async def search_notebooks(
    request: Request, response: Response, q: Line = Query("", max_length=200),
    support: SupportStatus = SupportStatus.all, mine: bool = False, subject_to_right_and_duty: bool = False,
    structure_id: uuid.UUID | None = None, offset: int = Query(0, ge=0, le=MAX_OFFSET), limit: int = Query(20, ge=1, le=100),
) -> NotebooksReply:
    """Beneficiaries of the caller's territory: name, NIR, CAF/MSA or France Travail number, phone."""
    return await call_as_caller(request, response, SearchNotebooksV1(
        q=q, support=support, mine=mine, subject_to_right_and_duty=subject_to_right_and_duty,
        structure_id=structure_id, offset=offset, limit=limit))


@router.post("/notebooks/referent-assignments", response_model=AssignedReply)
async def assign_referent(body: AssignReferentV1, request: Request, response: Response) -> AssignedReply:
    """"Rattacher": a référent for one or several notebooks (structure admin among their professionals, manager,
    orientation manager); ``remove_previous`` takes the former référent out of the group."""
    return await call_as_caller(request, response, body)


@router.post("/notebooks/orientation-manager-assignments", response_model=AssignedReply)
async def assign_orientation_manager(body: AssignOrientationManagerV1, request: Request,
                                     response: Response) -> AssignedReply:
    """"Assigner un chargé d'orientation" to one or several notebooks."""
    return await call_as_caller(request, response, body)


@router.get("/notebooks/recent", response_model=NotebooksReply)
async def recent_notebooks(request: Request, response: Response,
                           kind: Line = Query("visited", pattern="^(visited|modified)$")) -> NotebooksReply:
    return await call_as_caller(request, response, RecentNotebooksV1(kind=kind))


@router.get("/dashboard", response_model=DashboardReply)
async def dashboard(request: Request, response: Response, structure_id: uuid.UUID | None = None) -> DashboardReply:
    return await call_as_caller(request, response, GetDashboardV1(structure_id=structure_id))


@router.get("/me/notebook", response_model=NotebookPage)
async def my_notebook(request: Request, response: Response) -> Response:
    """A beneficiary's own notebook, with who consulted it."""
    return await json_as_caller(request, response, GetNotebookPageV1())


@router.get("/notebooks/{notebook_id}", response_model=NotebookPage)
async def notebook_page(notebook_id: uuid.UUID, request: Request, response: Response,
                        timeline_kind: Line = Query("", max_length=20),
                        timeline_author_id: uuid.UUID | None = None,
                        timeline_limit: int | None = Query(None, ge=1, le=200),
                        past_appointments_limit: int | None = Query(None, ge=0, le=1000)) -> Response:
    """The whole page in one call; a professional's view is recorded in the access log. ``timeline_limit``: the
    latest history entries only (200 at most), ``timeline_more`` saying whether there are more;
    ``past_appointments_limit``: every upcoming appointment and this many of the latest past ones only (all by
    default), ``appointments_more`` saying whether there are more."""
    return await json_as_caller(request, response, GetNotebookPageV1(
        notebook_id=notebook_id, timeline_kind=timeline_kind, timeline_author_id=timeline_author_id,
        timeline_limit=timeline_limit, past_appointments_limit=past_appointments_limit))


@router.put("/notebooks/{notebook_id}/beneficiary", response_model=VersionReply)
async def update_beneficiary(notebook_id: uuid.UUID, body: BeneficiaryChange, request: Request,
                             response: Response) -> VersionReply:
    return await call_as_caller(request, response, UpdateBeneficiaryV1(notebook_id=notebook_id, **dict(body)))


@router.post("/notebooks/{notebook_id}/members", response_model=VersionReply)
async def join(notebook_id: uuid.UUID, body: Join, request: Request, response: Response) -> VersionReply:
    """"Se rattacher", as a member or as référent with one of the caller's orientation systems."""
    return await call_as_caller(request, response, JoinNotebookV1(notebook_id=notebook_id, **dict(body)))


@router.post("/notebooks/{notebook_id}/invitations", response_model=VersionReply)
async def invite(notebook_id: uuid.UUID, body: Invitation, request: Request, response: Response) -> VersionReply:
    return await call_as_caller(request, response, InviteMemberV1(notebook_id=notebook_id, **dict(body)))


@router.delete("/notebooks/{notebook_id}/members/me", response_model=AcceptedReply)
async def leave(notebook_id: uuid.UUID, request: Request, response: Response) -> AcceptedReply:
    """"Se détacher" (not for the référent)."""
    return await call_as_caller(request, response, LeaveNotebookV1(notebook_id=notebook_id))


@router.delete("/notebooks/{notebook_id}/members/{person_id}", response_model=AcceptedReply)
async def remove_member(notebook_id: uuid.UUID, person_id: uuid.UUID, request: Request,
                        response: Response) -> AcceptedReply:
    """A manager, or the admin of a structure following the beneficiary, takes someone out of the group."""
    return await call_as_caller(request, response, RemoveMemberV1(notebook_id=notebook_id, person_id=person_id))


@router.post("/notebooks/{notebook_id}/orientation-requests", status_code=status.HTTP_201_CREATED,
             response_model=VersionReply)
async def request_reorientation(notebook_id: uuid.UUID, body: ReorientationRequest, request: Request,
                                response: Response) -> VersionReply:
    """"Demander une réorientation" (the référent): the recommended orientation system and why."""
    return await call_as_caller(request, response, RequestReorientationV1(notebook_id=notebook_id, **dict(body)))


@router.post("/orientation-requests/{request_id}/denial", response_model=AcceptedReply)
async def deny_reorientation(request_id: uuid.UUID, body: Decision, request: Request,
                             response: Response) -> AcceptedReply:
    """"Maintenir l'accompagnement" (orientation manager, manager), with the reason."""
    return await call_as_caller(request, response, DenyReorientationV1(request_id=request_id, **dict(body)))


@router.put("/notebooks/{notebook_id}/orientation", response_model=VersionReply)
async def change_orientation(notebook_id: uuid.UUID, body: Orientation, request: Request,
                             response: Response) -> VersionReply:
    """"Orienter" / "Réorienter" (orientation manager, manager); accepts a pending reorientation request."""
    return await call_as_caller(request, response, ChangeOrientationV1(notebook_id=notebook_id, **dict(body)))


@router.put("/notebooks/{notebook_id}/diagnostic", response_model=VersionReply)
async def update_diagnostic(notebook_id: uuid.UUID, body: DiagnosticChange, request: Request,
                            response: Response) -> VersionReply:
    return await call_as_caller(request, response, UpdateDiagnosticV1(notebook_id=notebook_id, **dict(body)))


@router.get("/rome-codes", response_model=RomeCodesReply)
async def search_rome_codes(request: Request, response: Response,
                            q: Line = Query(max_length=100)) -> RomeCodesReply:
    """"Rechercher un métier ou un code ROME"."""
    return await call_as_caller(request, response, SearchRomeCodesV1(q=q))


@router.get("/referentials", response_model=Referentials)
async def referentials(request: Request, response: Response) -> Referentials:
    return await call_as_caller(request, response, GetReferentialsV1())


@router.post("/notebooks/{notebook_id}/focuses", status_code=status.HTTP_201_CREATED, response_model=VersionReply)
async def add_focus(notebook_id: uuid.UUID, body: NewFocus, request: Request, response: Response) -> VersionReply:
    return await call_as_caller(request, response, AddFocusV1(notebook_id=notebook_id, **dict(body)))


@router.post("/focuses/{focus_id}/targets", status_code=status.HTTP_201_CREATED, response_model=VersionReply)
async def add_target(focus_id: uuid.UUID, body: NewTarget, request: Request, response: Response) -> VersionReply:
    return await call_as_caller(request, response, AddTargetV1(focus_id=focus_id, **dict(body)))


@router.put("/targets/{target_id}", response_model=VersionReply)
async def update_target(target_id: uuid.UUID, body: TargetChange, request: Request, response: Response) -> VersionReply:
    return await call_as_caller(request, response, UpdateTargetV1(target_id=target_id, **dict(body)))


@router.post("/targets/{target_id}/actions", status_code=status.HTTP_201_CREATED, response_model=VersionReply)
async def add_action(target_id: uuid.UUID, body: NewAction, request: Request, response: Response) -> VersionReply:
    return await call_as_caller(request, response, AddActionV1(target_id=target_id, **dict(body)))


@router.put("/actions/{action_id}", response_model=VersionReply)
async def update_action(action_id: uuid.UUID, body: ActionChange, request: Request, response: Response) -> VersionReply:
    return await call_as_caller(request, response, UpdateActionV1(action_id=action_id, **dict(body)))


def _delete_route(path: str, kind: str) -> None:
    async def delete_parcours_item(item_id: uuid.UUID, request: Request, response: Response) -> AcceptedReply:
        """Deletes a work axis (with its objectives and actions), an objective or an action typed by mistake;
        it leaves the history everyone sees."""
        return await call_as_caller(request, response, DeleteParcoursItemV1(kind=kind, item_id=item_id))

    router.delete(f"/{path}/{{item_id}}", response_model=AcceptedReply, name=f"delete_{kind}")(delete_parcours_item)


for _path, _kind in (("focuses", "focus"), ("targets", "target"), ("actions", "action")):
    _delete_route(_path, _kind)


@router.post("/notebooks/{notebook_id}/appointments", status_code=status.HTTP_201_CREATED,
             response_model=VersionReply)
async def book_appointment(notebook_id: uuid.UUID, body: NewAppointment, request: Request,
                           response: Response) -> VersionReply:
    return await call_as_caller(request, response, BookAppointmentV1(notebook_id=notebook_id, **dict(body)))


@router.put("/appointments/{appointment_id}", response_model=VersionReply)
async def update_appointment(appointment_id: uuid.UUID, body: AppointmentChange, request: Request,
                             response: Response) -> VersionReply:
    return await call_as_caller(request, response, UpdateAppointmentV1(appointment_id=appointment_id, **dict(body)))


@router.post("/timeline/{entry_id}/redaction", response_model=AcceptedReply)
async def redact(entry_id: uuid.UUID, body: Redaction, request: Request, response: Response) -> AcceptedReply:
    """Manager: hides a history text that holds sensitive details, leaving a trace that it was hidden."""
    return await call_as_caller(request, response, RedactTimelineEntryV1(entry_id=entry_id, **dict(body)))
