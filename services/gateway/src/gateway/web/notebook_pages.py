"""Pages of the notebook: the beneficiaries' list and annuaire, the one-page carnet with its forms, and the
beneficiary's own notebook. Every form posts, then comes back to its section (or shows the refusal there)."""
from __future__ import annotations

import re
import uuid
from collections import OrderedDict
from datetime import UTC, date, datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from markupsafe import Markup
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from contracts.bulk_orientation import MAX_BULK_ORIENTATION
from contracts.directory import PersonRole, SearchPeopleV1
from contracts.identity import Role
from contracts.notebook import (
    AddActionV1,
    AddFocusV1,
    AddTargetV1,
    AssignOrientationManagerV1,
    AssignReferentV1,
    BookAppointmentV1,
    ChangeOrientationV1,
    CreateBeneficiaryV1,
    DeleteParcoursItemV1,
    DenyReorientationV1,
    DiagnosticView,
    GetDashboardV1,
    GetNotebookPageV1,
    GetReferentialsV1,
    InviteMemberV1,
    JoinNotebookV1,
    LeaveNotebookV1,
    NotebookPage,
    RecentNotebooksV1,
    RedactTimelineEntryV1,
    Referentials,
    RefreshFranceTravailV1,
    RemoveMemberV1,
    RequestReorientationV1,
    SearchNotebooksV1,
    SearchRomeCodesV1,
    SupportStatus,
    UpdateActionV1,
    UpdateAppointmentV1,
    UpdateBeneficiaryV1,
    UpdateDiagnosticV1,
    UpdateTargetV1,
)
from gateway.api.notebooks import (
    ActionChange,
    AppointmentChange,
    BeneficiaryChange,
    Decision,
    DiagnosticChange,
    Invitation,
    Join,
    NewAction,
    NewAppointment,
    NewFocus,
    NewTarget,
    Orientation,
    Redaction,
    ReorientationRequest,
    TargetChange,
)
from gateway.bus import call
from gateway.web import labels
from gateway.web.common import (FormVisitorDep, Visitor, VisitorDep, call_or_leave, redirect, refusal, render,
                                templates)
from gateway.web.common import form_text as text
from gateway.web.exchange_pages import exchange_section
from gateway.web.forms import form_values, parse_form
from gateway.web.notebook_summary import sections, summary_band
from gateway.web.bulk_orientation_pages import (ORIENTING_ROLES, bulk_orientation_options, referents_by_structure,
                                                selection_on_the_page)
from gateway.web.orientation_request_pages import orientation_figures
from gateway.web.orientation_form import (OPEN_ORIENTATION, choices_of, orientation_form, refusal_of, step_url,
                                          structure_systems, territory_choices)
from servicekit.errors import Invalid, ServiceError

router = APIRouter(include_in_schema=False)
PARIS = ZoneInfo("Europe/Paris")
INVALID_FORM = "Le formulaire contient une valeur invalide : vérifiez les champs saisis."


def optional_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


@router.get("/beneficiaires")
async def beneficiaries(request: Request, visitor: VisitorDep, q: str = "", support: str = "all", mine: str = "",
                        notice: str = "", droits_et_devoirs: str = "", offset: int = 0):
    if visitor.me.role == Role.beneficiary:
        return redirect("/mon-carnet", visitor)
    # A professional's list opens on her own beneficiaries (« Mes bénéficiaires », a link widens it); a tile or a
    # page link says its scope itself. A name (phone, identifier) typed is searched on the whole territory, to find
    # whom to join, whatever the box: the box, which says what the list shows, applies to the list without one.
    portfolio = not q.strip() and (mine == "1" or (visitor.me.role == Role.professional and not request.query_params))
    return await list_page(request, visitor, q=q, support=support, mine=portfolio, notice=notice, offset=offset,
                           duties=droits_et_devoirs == "1")


async def list_page(request: Request, visitor: Visitor, *, q: str = "", support: str = "all", mine: bool = False,
                    duties: bool = False, notice: str = "", offset: int = 0, form: dict | None = None,
                    error: str = "", status_code: int = 200, bulk_form: dict | None = None):
    support_status = SupportStatus(support) if support in SupportStatus.__members__ else SupportStatus.all
    found = await call_or_leave(request, visitor, SearchNotebooksV1(
        q=q[:200], support=support_status, mine=mine, subject_to_right_and_duty=duties, offset=max(offset, 0),
        limit=20))
    tiles = await call_or_leave(request, visitor, GetDashboardV1())
    person_q = request.query_params.get(FIND_PERSON, "")[:200]
    referents, orientation_managers, people_more = await assignable_people(request, visitor, person_q)
    # The bulk decision's choices, the territory's structures and professionals, once asked for (« Orienter
    # plusieurs bénéficiaires », or a refused decision coming back): not on every view of the list.
    bulk = (await bulk_orientation_options(request, visitor)
            if bulk_form is not None or request.query_params.get(OPEN_ORIENTATION) else None)
    listed = {key: value for key, value in request.query_params.items() if key != "notice"}
    bulk_url = (f"/beneficiaires?{urlencode({**listed, OPEN_ORIENTATION: '1'})}"
                if visitor.me.role in ORIENTING_ROLES and bulk is None else "")
    recent = {}
    if visitor.me.role in (Role.professional, Role.orientation_manager):
        for kind in ("visited", "modified"):
            recent[kind] = (await call_or_leave(request, visitor, RecentNotebooksV1(kind=kind))).notebooks
    return render(request, "beneficiaries.html.j2", {
        "found": found, "tiles": tiles.tiles, "recent": recent, "q": q, "support": support_status, "mine": mine,
        "duties": duties,
        "offset": max(offset, 0), "notice": ASSIGNED.get(notice, ""), "form": form or {},
        "error": error, "labels": labels, "referents": referents, "orientation_managers": orientation_managers,
        "person_q": person_q, "people_more": people_more, "assignable_limit": ASSIGNABLE_LIMIT,
        "find_person_kept": [(key, value) for key, value in listed.items()
                             if key not in (FIND_PERSON, OPEN_ORIENTATION)],
        "bulk": bulk, "bulk_people": referents_by_structure(bulk), "bulk_url": bulk_url,
        "max_bulk": MAX_BULK_ORIENTATION, "bulk_form": bulk_form or {},
        "figures": orientation_figures(tiles.tiles) if visitor.me.role == Role.orientation_manager else None,
    }, visitor=visitor, status_code=status_code)


ASSIGNING_ROLES = (Role.admin_structure, Role.manager, Role.orientation_manager)
# « Rattacher » offers the territory's professionals (a structure admin: her structures') and orientation managers,
# the first ASSIGNABLE_LIMIT of each by name; in a larger territory the others are found by name (?personne=).
ASSIGNABLE_LIMIT = 100
FIND_PERSON = "personne"


async def assignable_people(request: Request, visitor: Visitor, words: str) -> tuple[list, list, bool]:
    """The référents and the orientation managers the caller may choose on the list, matching ``words``; and
    whether either list was cut at ASSIGNABLE_LIMIT."""
    role = visitor.me.role
    if role not in ASSIGNING_ROLES:
        return [], [], False
    # A structure admin's own structures asked one by one: the territory's first hundred may hold none of hers.
    scopes = visitor.me.structure_ids if role == Role.admin_structure else [None]
    found = [await call_or_leave(request, visitor, SearchPeopleV1(
        role=PersonRole.professional, q=words, structure_id=structure_id, limit=ASSIGNABLE_LIMIT))
        for structure_id in scopes]
    referents = sorted({p.person_id: p for reply in found for p in reply.people}.values(),
                       key=lambda p: (p.lastname.casefold(), p.firstname.casefold()))
    more = len(referents) > ASSIGNABLE_LIMIT or any(reply.total > len(reply.people) for reply in found)
    referents = referents[:ASSIGNABLE_LIMIT]
    orientation_managers = []
    if role in (Role.manager, Role.orientation_manager):
        reply = await call_or_leave(request, visitor, SearchPeopleV1(
            role=PersonRole.orientation_manager, q=words, limit=ASSIGNABLE_LIMIT))
        orientation_managers, more = reply.people, more or reply.total > len(reply.people)
    return referents, orientation_managers, more


ASSIGNED = {"referent": "Le référent est désigné pour les bénéficiaires sélectionnés.",
            "co": "Le chargé d'orientation est assigné aux bénéficiaires sélectionnés."}


@router.post("/beneficiaires/rattachement")
async def assign(request: Request, visitor: FormVisitorDep):
    """"Rattacher" the selected beneficiaries to a référent, or assign them a chargé d'orientation."""
    form = await request.form()
    notebook_ids = selection_on_the_page(form)  # the rows ticked, or all those of the page
    co = form.get("assign") == "co"  # the button pressed (« Assigner un chargé d'orientation » or « Rattacher »)
    # The person from the select of the button's role (both are in the list's one form).
    person = text(form, "orientation_manager_id" if co else "referent_id")
    if not notebook_ids or not person:
        return await list_page(request, visitor, error="Sélectionnez au moins un bénéficiaire et une personne.",
                               status_code=422)
    try:  # the body of POST /api/v1/notebooks/orientation-manager-assignments or …/referent-assignments
        message = parse_form(form, AssignOrientationManagerV1 if co else AssignReferentV1, notebook_ids=notebook_ids,
                             person_id=person)
    except ValidationError as failure:  # more than 100 notebooks, a person that is not one: said in French
        return await list_page(request, visitor, error=refusal(failure).message, status_code=422)
    try:
        await call(request, message, access_token=visitor.token)
    except ServiceError as error:
        return await list_page(request, visitor, error=error.message, status_code=error.http_status)
    return redirect(f"/beneficiaires?notice={'co' if co else 'referent'}", visitor)


@router.post("/beneficiaires")
async def beneficiary_create(request: Request, visitor: FormVisitorDep):
    form = await request.form()
    try:
        created = await call(request, parse_form(form, CreateBeneficiaryV1), access_token=visitor.token)
    except ValidationError as failure:  # a field breaks an input rule: say which, in French
        return await list_page(request, visitor, form=dict(form), error=refusal(failure).message, status_code=422)
    except ValueError:
        return await list_page(request, visitor, form=dict(form), error=INVALID_FORM, status_code=422)
    except ServiceError as error:
        return await list_page(request, visitor, form=dict(form), error=error.message,
                               status_code=error.http_status)
    return redirect(f"/carnets/{created.notebook_id}?notice=created", visitor)


NOTICES = {
    "created": "Le carnet est créé.", "joined": "Vous êtes rattaché(e) à ce carnet.",
    "left": "Vous êtes détaché(e) de ce carnet.", "invited": "Le professionnel est ajouté au groupe de suivi.",
    "info": "Informations mises à jour.", "diagnostic": "Diagnostic socioprofessionnel enregistré.",
    "focus": "Nouvel axe de travail créé !", "target": "Objectif ajouté.", "action": "Action ajoutée.",
    "status": "Statut mis à jour.", "appointment": "Rendez-vous enregistré.", "deleted": "Élément supprimé.",
    "redacted": "Le texte est masqué ; l'historique garde la trace du masquage.",
    "removed": "La personne est retirée du groupe de suivi.",
    "requested": "Demande de réorientation envoyée.",
    "maintained": "L'accompagnement est maintenu ; le référent en est informé.",
    "oriented": "L'orientation est enregistrée.",
    "france_travail": "Actualisation demandée à France Travail : la section montre les dernières données reçues.",
}


async def referentials_for(request: Request, visitor: Visitor, page: NotebookPage) -> Referentials:
    """The referentials the page refers to: those held since an earlier page while the page names their version
    (they change only with a release), else asked for and held. Asking on every page read 37 KB a time."""
    held = getattr(request.app.state, "referentials", None)
    if held is not None and page.referentials_version and held.version == page.referentials_version:
        return held
    referentials = await call_or_leave(request, visitor, GetReferentialsV1())
    if referentials.version:
        request.app.state.referentials = referentials
    return referentials


HISTORY_SHOWN, HISTORY_MAX = 20, 200  # history entries shown, then 20 more on each « Voir plus »


def history_shown(asked: str) -> int:
    """How many of the latest history entries the page shows (``?evenements=``): 20, up to 200."""
    try:
        return min(max(int(asked), HISTORY_SHOWN), HISTORY_MAX) if asked else HISTORY_SHOWN
    except ValueError:
        return HISTORY_SHOWN


def more_history_url(request: Request, shown: int) -> str:
    """The same page showing 20 more history entries, its filters kept."""
    params = {key: value for key, value in request.query_params.items()
              if key in ("historique", "auteur", ALL_APPOINTMENTS)}
    return f"{request.url.path}?{urlencode({**params, 'evenements': min(shown + HISTORY_SHOWN, HISTORY_MAX)})}"


# The upcoming appointments and the 10 latest past ones, all of them with ``?rendez-vous=tous``.
PAST_APPOINTMENTS_SHOWN, ALL_APPOINTMENTS = 10, "rendez-vous"


def all_appointments(request: Request) -> bool:
    return request.query_params.get(ALL_APPOINTMENTS) == "tous"


def all_appointments_url(request: Request) -> str:
    """The same page showing every appointment, its history filters kept."""
    params = {key: value for key, value in request.query_params.items()
              if key in ("historique", "auteur", "evenements")}
    return f"{request.url.path}?{urlencode({**params, ALL_APPOINTMENTS: 'tous'})}"


SITUATION_BOXES: OrderedDict[tuple[str, frozenset[str]], Markup] = OrderedDict()
SITUATION_BOXES_KEPT = 512  # sets of ticked situations, the least recently shown forgotten first


def situation_boxes(referentials: Referentials, checked: set[str]) -> Markup:
    """The diagnostic form's situations (88 boxes by theme, _diagnostic_situations.html.j2), rendered once per
    version of the referentials and set of ticked situations, then kept: rendering them on every view of a
    notebook cost the HTML page a tenth of its time (issue 19)."""
    key = (referentials.version, frozenset(checked))
    if not referentials.version:  # referentials that name no version cannot be told apart: rendered each time
        return templates.env.get_template("_diagnostic_situations.html.j2").module.boxes(referentials, checked)
    if (boxes := SITUATION_BOXES.get(key)) is None:
        boxes = SITUATION_BOXES[key] = templates.env.get_template(
            "_diagnostic_situations.html.j2").module.boxes(referentials, checked)
        if len(SITUATION_BOXES) > SITUATION_BOXES_KEPT:
            SITUATION_BOXES.popitem(last=False)
    else:
        SITUATION_BOXES.move_to_end(key)
    return boxes


async def notebook_page(request: Request, visitor: Visitor, notebook_id: uuid.UUID | None, *, error: str = "",
                        error_section: str = "", form: dict | None = None, status_code: int = 200,
                        diagnostic_draft: dict | None = None, metier: str | None = None,
                        orientation_choices: dict | None = None):
    params = request.query_params
    shown = history_shown(params.get("evenements", ""))
    page = await call_or_leave(request, visitor, GetNotebookPageV1(
        notebook_id=notebook_id, timeline_kind=params.get("historique", "")[:20],
        timeline_author_id=optional_uuid(params.get("auteur", "")), timeline_limit=shown,
        past_appointments_limit=None if all_appointments(request) else PAST_APPOINTMENTS_SHOWN))
    referentials = await referentials_for(request, visitor, page) if page.access == "full" else None
    rome_codes, invitees = [], []
    metier = params.get("metier", "") if metier is None else metier
    if metier.strip() and "edit_diagnostic" in page.allowed:
        rome_codes = (await call_or_leave(request, visitor, SearchRomeCodesV1(q=metier.strip()[:100]))).codes
    if (who := params.get("inviter", "").strip()) and "invite" in page.allowed:
        member_ids = {m.person.person_id for m in page.members if m.ended_at is None}
        people = await call_or_leave(request, visitor, SearchPeopleV1(q=who[:200], role=PersonRole.professional,
                                                                      limit=5))
        invitees = [p for p in people.people if p.person_id not in member_ids]
    exchanges = await exchange_section(request, visitor, page.allowed, page.notebook_id)
    orienting = None
    chosen = orientation_choices or choices_of(params)
    if "orient" in page.allowed and (params.get(OPEN_ORIENTATION) or any(chosen.values())
                                     or error_section == "orientation"):
        # The form once opened (« Orienter », a step, a refusal): the territory's structures and professionals are
        # asked then, not on every view of the page.
        r = page.orientation_request
        asked = r.requested_orientation_system_name if r and r.status == "pending" else ""
        options = await territory_choices(request, visitor)
        orienting = orientation_form(
            options, await structure_systems(request, visitor), chosen, refused=params.get("or_refus") == "1",
            suggested_system=next((str(s.orientation_system_id) for s in options.orientation_systems
                                   if asked and s.name == asked), ""))
    return render(request, "notebook.html.j2", {
        "orienting": orienting,
        "page": page, "b": page.beneficiary, "referentials": referentials, "labels": labels, "exchanges": exchanges,
        "rome_codes": rome_codes, "metier": metier, "invitees": invitees,
        "diagnostic_form": diagnostic_draft or diagnostic_values(page.diagnostic),
        "inviter": params.get("inviter", ""), "notice": NOTICES.get(params.get("notice", ""), ""),
        "error": error, "error_section": error_section, "form": form or {},
        "my_membership": next((m for m in page.members if m.ended_at is None
                               and m.person.person_id == visitor.me.profile_id), None),
        "timeline_kind": params.get("historique", ""), "timeline_author": params.get("auteur", ""),
        "more_history": more_history_url(request, shown) if page.timeline_more else "",
        "all_appointments": all_appointments_url(request) if page.appointments_more else "",
        "showing_all_appointments": all_appointments(request),
        "today": date.today().isoformat(),
        "base": "/mon-carnet" if visitor.me.role == Role.beneficiary else f"/carnets/{page.notebook_id}",
        "summary": summary_band(page, exchanges, mine=visitor.me.role == Role.beneficiary, now=datetime.now(UTC)),
        "notebook_sections": sections(page, exchanges), "situation_boxes": situation_boxes,
    }, visitor=visitor, status_code=status_code)


@router.get("/carnets/{notebook_id}")
async def notebook(notebook_id: uuid.UUID, request: Request, visitor: VisitorDep):
    return await notebook_page(request, visitor, notebook_id)


@router.get("/mon-carnet")
async def my_notebook(request: Request, visitor: VisitorDep):
    return await notebook_page(request, visitor, None)


def diagnostic_values(d: DiagnosticView | None) -> dict:
    """What the diagnostic form shows, as the text of its fields: the saved diagnostic..."""
    if d is None:
        return {"version": "", "situation_ids": set(), "projects": []}
    return {
        "version": str(d.version), "work_situation": d.work_situation or "", "right_rqth": d.right_rqth,
        "work_situation_date": iso(d.work_situation_date), "work_situation_end_date": iso(d.work_situation_end_date),
        "last_job_ended_at": iso(d.last_job_ended_at), "education_level": d.education_level or "",
        "situation_ids": {str(s.situation_id) for s in d.situations},
        "projects": [{"rome_code": p.rome_code or "", "contract_type": p.contract_type or "",
                      "employment_type": p.employment_type or "",
                      "mobility_radius_km": "" if p.mobility_radius_km is None else str(p.mobility_radius_km),
                      "hourly_rate": "%.2f" % (p.hourly_rate_cents / 100) if p.hourly_rate_cents else ""}
                     for p in d.projects]}


def diagnostic_draft(form: FormData) -> dict:
    """...or what was typed, kept as typed: a search for a métier or a refused save loses nothing."""
    projects = []
    for index in range(6):
        prefix = f"project_{index}_"
        if form.get(prefix + "present") and form.get(prefix + "remove") != "oui":
            projects.append({key: text(form, prefix + key, 200) for key in (
                "rome_code", "contract_type", "employment_type", "mobility_radius_km", "hourly_rate")})
    return {"version": text(form, "version", 20), "right_rqth": form.get("right_rqth") == "oui",
            **{key: text(form, key, 40) for key in ("work_situation", "work_situation_date", "work_situation_end_date",
                                                   "last_job_ended_at", "education_level")},
            "situation_ids": {str(v) for v in form.getlist("situation_ids")}, "projects": projects[:5]}


def iso(day: date | None) -> str:
    return day.isoformat() if day else ""


def diagnostic_change(form: FormData) -> DiagnosticChange:
    """The diagnostic form as the API's body: its projects are numbered blocks (project_0_…, « Retirer ce projet »
    unticked), the hourly rate typed in euros (« 12,50 ») and sent in cents."""
    projects = []
    for index in range(6):
        prefix = f"project_{index}_"
        if not form.get(prefix + "present") or form.get(prefix + "remove") == "oui":
            continue
        project = {key: text(form, prefix + key, 200) for key in (
            "rome_code", "mobility_radius_km", "contract_type", "employment_type")}
        project["hourly_rate_cents"] = cents(text(form, prefix + "hourly_rate", 12))
        projects.append({key: value for key, value in project.items() if value not in ("", None)})
    values = form_values(form, DiagnosticChange)
    return DiagnosticChange.model_validate({**values, "diagnostic": {**values["diagnostic"], "projects": projects}})


def cents(euros: str) -> int | str | None:
    """« 12,50 » as 1250; what is not a number is left for the model to refuse in French."""
    try:
        return round(float(euros.replace(",", ".")) * 100) if euros else None
    except ValueError:
        return euros


APPOINTMENT_TIME = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])(:[0-5][0-9](\.[0-9]+)?)?")
INVALID_APPOINTMENT_TIME = "Indiquez l'heure du rendez-vous en heures et minutes, par exemple 14:30."


def appointment_at(form: FormData) -> datetime | str | None:
    """The day and the time chosen (one field, « 14:30 »; a browser may add seconds), in Paris; a day that is not
    one is left for the model to refuse, a time that is not one is refused here in French."""
    day = text(form, "day", 10)
    try:
        on = date.fromisoformat(day)
    except ValueError:
        return day or None
    if not (time := APPOINTMENT_TIME.fullmatch(text(form, "time", 12))):
        raise Invalid(INVALID_APPOINTMENT_TIME, details={"field": "time"})
    return datetime(on.year, on.month, on.day, int(time.group(1)), int(time.group(2)), tzinfo=PARIS)


def body(form: FormData, model: type[BaseModel], **given) -> dict:
    """The form as the API route's body ``model``, as the keyword arguments of the message it completes."""
    return dict(parse_form(form, model, **given))


# Each form of the page: the message it sends, built from the form as the API's route builds it from its JSON body
# (the same body model; what the API takes from its address, the form sends as hidden fields), and the section and
# notice to come back to.
ACTIONS = {
    "rattachement": ("groupe", "joined", lambda nid, f: JoinNotebookV1(notebook_id=nid, **body(f, Join))),
    "detachement": ("groupe", "left", lambda nid, f: LeaveNotebookV1(notebook_id=nid)),
    "invitation": ("groupe", "invited", lambda nid, f: InviteMemberV1(notebook_id=nid, **body(f, Invitation))),
    "informations": ("informations", "info", lambda nid, f: UpdateBeneficiaryV1(
        notebook_id=nid, **body(f, BeneficiaryChange))),
    "diagnostic": ("diagnostic", "diagnostic", lambda nid, f: UpdateDiagnosticV1(
        notebook_id=nid, **dict(diagnostic_change(f)))),
    "axes": ("plan", "focus", lambda nid, f: AddFocusV1(notebook_id=nid, **body(f, NewFocus))),
    "objectifs": ("plan", "target", lambda nid, f: AddTargetV1(
        focus_id=text(f, "focus_id"), **body(f, NewTarget, target=text(f, "free_target") or None))),
    "statut-objectif": ("plan", "status", lambda nid, f: UpdateTargetV1(
        target_id=text(f, "target_id"), **body(f, TargetChange, linked_to=text(f, "linked_to") or "no"))),
    "actions": ("plan", "action", lambda nid, f: AddActionV1(
        target_id=text(f, "target_id"), **body(f, NewAction, action=text(f, "free_action") or None))),
    "statut-action": ("plan", "status", lambda nid, f: UpdateActionV1(
        action_id=text(f, "action_id"), **body(f, ActionChange))),
    "suppression": ("plan", "deleted", lambda nid, f: parse_form(f, DeleteParcoursItemV1)),
    "rendez-vous": ("rendez-vous", "appointment", lambda nid, f: BookAppointmentV1(
        notebook_id=nid, **body(f, NewAppointment, at=appointment_at(f)))),
    "statut-rendez-vous": ("rendez-vous", "appointment", lambda nid, f: UpdateAppointmentV1(
        appointment_id=text(f, "appointment_id"), **body(f, AppointmentChange))),
    "masquer": ("historique", "redacted", lambda nid, f: RedactTimelineEntryV1(
        entry_id=text(f, "entry_id"), **body(f, Redaction))),
    "retrait": ("groupe", "removed", lambda nid, f: parse_form(f, RemoveMemberV1, notebook_id=nid)),
    "demande-reorientation": ("orientation", "requested", lambda nid, f: RequestReorientationV1(
        notebook_id=nid, **body(f, ReorientationRequest))),
    "maintien": ("orientation", "maintained", lambda nid, f: DenyReorientationV1(
        request_id=text(f, "request_id"), **body(f, Decision))),
    "orientation": ("orientation", "oriented", lambda nid, f: ChangeOrientationV1(
        notebook_id=nid, **body(f, Orientation))),
    "france-travail": ("france-travail", "france_travail", lambda nid, f: RefreshFranceTravailV1(notebook_id=nid)),
}


@router.post("/carnets/{notebook_id}/{action}")
async def notebook_action(notebook_id: uuid.UUID, action: str, request: Request, visitor: FormVisitorDep):
    form = await request.form()
    if action not in ACTIONS:
        return redirect(f"/carnets/{notebook_id}", visitor)
    if action == "orientation":
        return await orientation_action(request, visitor, notebook_id, form)
    section, notice, build = ACTIONS[action]
    own = visitor.me.role == Role.beneficiary
    # The diagnostic form comes back as typed, whether it searched a métier (its « Rechercher » button) or was refused.
    draft = diagnostic_draft(form) if action == "diagnostic" else None
    if draft is not None and form.get("chercher"):  # its « Rechercher » button, not « Enregistrer »
        return await notebook_page(request, visitor, notebook_id, error_section=section, diagnostic_draft=draft,
                                   metier=text(form, "metier", 100))
    try:
        await call(request, build(notebook_id, form), access_token=visitor.token)
    except ValidationError as failure:  # a field breaks an input rule: say which, in French
        return await notebook_page(request, visitor, None if own else notebook_id, error=refusal(failure).message,
                                   error_section=section, form=dict(form), status_code=422, diagnostic_draft=draft)
    except (ValueError, KeyError):
        return await notebook_page(request, visitor, None if own else notebook_id, error=INVALID_FORM,
                                   error_section=section, form=dict(form), status_code=422, diagnostic_draft=draft)
    except ServiceError as error:
        return await notebook_page(request, visitor, None if own else notebook_id, error=error.message,
                                   error_section=section, form=dict(form), status_code=error.http_status,
                                   diagnostic_draft=draft)
    base = "/mon-carnet" if own else f"/carnets/{notebook_id}"
    # A status changed in the list of every appointment comes back to that list (its row is in it).
    shown = f"&{ALL_APPOINTMENTS}=tous" if all_appointments(request) else ""
    return redirect(f"{base}?notice={notice}{shown}#{section}", visitor)


async def orientation_action(request: Request, visitor: Visitor, notebook_id: uuid.UUID, form: FormData):
    """« Orienter »: a step (« Afficher les structures… ») or a refused choice comes back to the notebook with the
    choices in the address (post, redirect, get: the page can be reloaded); a choice that fits is sent."""
    # The choices as typed, for the address of the next step or of a refusal (the body model parses them below).
    chosen = choices_of({"or_dispositif": form.get("orientation_system_id"), "or_structure": form.get("structure_id"),
                         "or_referent": form.get("referent_id"), "or_motif": form.get("reason")})
    base = f"/carnets/{notebook_id}"
    if form.get("etape"):  # a step's button (« Afficher les structures… »), not « Orienter »
        return redirect(step_url(base, chosen), visitor)
    options = await territory_choices(request, visitor)
    if refusal_of(options, await structure_systems(request, visitor), chosen):
        return redirect(step_url(base, chosen, refused=True), visitor)
    try:
        await call(request, ACTIONS["orientation"][2](notebook_id, form), access_token=visitor.token)
    except ValidationError as failure:
        error = refusal(failure).message
        status = 422
    except (ValueError, KeyError):
        error, status = INVALID_FORM, 422
    except ServiceError as failure:
        error, status = failure.message, failure.http_status
    else:
        return redirect(f"{base}?notice=oriented#orientation", visitor)
    return await notebook_page(request, visitor, notebook_id, error=error, error_section="orientation",
                               form=dict(form), status_code=status, orientation_choices=chosen)
