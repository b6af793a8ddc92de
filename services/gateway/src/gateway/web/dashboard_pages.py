"""The dashboards (issue 18): the page « Tableau de bord » (``/pilotage``) with its period and scope selectors and
each figure as an inline SVG chart, the same numbers as a table and downloads; a figure as CSV
(``/pilotage/figures/{key}.csv``); and the reply as JSON (``GET /api/v1/pilotage/dashboard``).

Every bar and every table count links to the beneficiaries' list behind it (``/beneficiaires/requetes`` with the
point's filters), whose count is the same number; the « actions par thème et statut » cells to the actions'
list (``/pilotage/actions``, which exports too)."""
from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse, StreamingResponse

from contracts.identity import Role
from contracts.pilotage import (
    ExportList,
    Figure,
    GetPilotageDashboardV1,
    PilotageDashboardReply,
    PilotageScope,
    QueryActionsV1,
)
from gateway.auth.session import COOKIE_ORIGIN_CHECK, call_as_caller
from gateway.bus import call
from gateway.web.charts import Chart, chart_of, csv_rows, table_rows
from gateway.web.common import Visitor, VisitorDep, error_page, render
from gateway.web.pilotage_filters import filter_fields, filters_from_query, filters_to_query
from servicekit.errors import Invalid, NotFound, ServiceError

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["pilotage"], dependencies=COOKIE_ORIGIN_CHECK)
PARAMETERS = ("scope", "structure_id", "deployment_id", "period_from", "period_to")
BAD_DATE = "La date « {label} » n'est pas valide : utilisez le format JJ/MM/AAAA."
BAD_ID = "Le {label} choisi n'est pas valide."
BAD_SCOPE = "Le périmètre choisi n'est pas valide."
NO_FIGURE = "Cette figure n'existe pas sur ce tableau de bord."
ACTIONS_PAGE_SIZE = 50
ACTION_STATUSES = {"planned": "En projet", "in_progress": "En cours", "standby": "En attente", "done": "Réalisée",
                   "abandoned": "Abandonnée", "canceled": "Annulée"}
PRESETS = ((3, "3 derniers mois"), (6, "6 derniers mois"), (12, "12 derniers mois"))
FIRST_COLUMN = {"accompagnement": "Mois", "arrivees": "Mois", "delai-orientation": "Délai",
                "delai-cer": "Délai", "reorientations": "Ancienneté", "actions": "Thème",
                "charge-referents": "Référent"}


def dashboard_request(params) -> GetPilotageDashboardV1:
    """The dashboard asked by a query string; a French refusal for a value that cannot be read."""
    def day(name: str, label: str) -> date | None:
        value = (params.get(name) or "").strip()
        try:
            return date.fromisoformat(value) if value else None
        except ValueError:
            raise Invalid(BAD_DATE.format(label=label), details={"field": name}) from None

    def identifier(name: str, label: str) -> uuid.UUID | None:
        value = (params.get(name) or "").strip()
        try:
            return uuid.UUID(value) if value else None
        except ValueError:
            raise Invalid(BAD_ID.format(label=label), details={"field": name}) from None

    scope = (params.get("scope") or "").strip()
    if scope and scope not in PilotageScope.__members__:
        raise Invalid(BAD_SCOPE, details={"field": "scope"})
    return GetPilotageDashboardV1(
        scope=PilotageScope(scope) if scope else PilotageScope.territory,
        structure_id=identifier("structure_id", "structure"), deployment_id=identifier("deployment_id", "territoire"),
        period_from=day("period_from", "du"), period_to=day("period_to", "au"))


def query_of(params, **changes) -> str:
    """The page's own parameters (those given), with ``changes``; for the presets and the CSV links."""
    values = {name: (params.get(name) or "").strip() for name in PARAMETERS}
    values.update(changes)
    return urlencode({k: v for k, v in values.items() if v})


@dataclass
class FigureView:
    figure: Figure
    chart: Chart
    narrow: Chart  # the same chart for a phone, the stylesheet showing one of them (see gateway.web.charts)
    columns: list[str]
    rows: list
    csv_href: str
    first_column: str


def figure_views(reply: PilotageDashboardReply, params) -> list[FigureView]:
    query = query_of(params)
    views = []
    for figure in reply.figures:
        columns, rows = table_rows(figure, filters_to_query)
        first = FIRST_COLUMN.get(figure.key, "Territoire" if reply.scope == PilotageScope.national else "Structure")
        views.append(FigureView(figure, chart_of(figure, filters_to_query),
                                chart_of(figure, filters_to_query, narrow=True), columns, rows,
                                f"/pilotage/figures/{figure.key}.csv" + (f"?{query}" if query else ""), first))
    return views


def scopes_for(visitor: Visitor) -> list[tuple[str, str]]:
    if visitor.me.role == Role.admin_cdb:
        return [("national", "National (tous les territoires)"), ("territory", "Un territoire"),
                ("structure", "Une structure")]
    if visitor.me.role in (Role.manager, Role.orientation_manager):
        return [("territory", "Le territoire"), ("structure", "Une structure")]
    return []


@router.get("/pilotage")
async def dashboard_page(request: Request, visitor: VisitorDep):
    params = request.query_params
    form = {name: (params.get(name) or "").strip() for name in PARAMETERS}
    if visitor.me.role == Role.admin_cdb and not form["scope"] and not form["deployment_id"]:
        form["scope"] = "national"
    context = {"form": form, "scopes": scopes_for(visitor), "presets": presets(params), "dash": None,
               "figures": [], "error": ""}
    try:
        message = dashboard_request(form)
        reply = await call(request, message, access_token=visitor.token)
    except Invalid as error:
        return render(request, "dashboard.html.j2", {**context, "error": error.message}, visitor=visitor,
                      status_code=422)
    except ServiceError as error:
        return error_page(request, error, visitor=visitor)
    form["period_from"], form["period_to"] = reply.period_from.isoformat(), reply.period_to.isoformat()
    return render(request, "dashboard.html.j2", {**context, "dash": reply, "figures": figure_views(reply, form)},
                  visitor=visitor)


def presets(params) -> list[dict]:
    """« 3, 6, 12 derniers mois »: the same scope, the period ending today (the service's default end)."""
    from_now = [(months, label, query_of(params, period_from="", period_to="", months=str(months)))
                for months, label in PRESETS]
    chosen = (params.get("months") or "").strip()
    return [{"label": label, "href": f"/pilotage/periode?{query}", "current": chosen == str(months)}
            for months, label, query in from_now]


@router.get("/pilotage/periode")
async def preset_period(request: Request):
    """A preset: the last N months to today, as the page's own dates (the server's Paris day decides)."""
    params = request.query_params
    try:
        months = int(params.get("months") or "12")
    except ValueError:
        months = 12
    months = months if months in (3, 6, 12) else 12
    today = datetime.now(ZoneInfo("Europe/Paris")).date()
    start = add_months(today, -months) + timedelta(days=1)
    query = query_of(params, period_from=start.isoformat(), period_to=today.isoformat(), months=str(months))
    return RedirectResponse(f"/pilotage?{query}", status_code=303)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    for last in (31, 30, 29, 28):
        try:
            return date(year, month + 1, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)


def neutral(value: str) -> str:
    """A spreadsheet cell that starts like a formula (= + - @) is read as text, never computed."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@router.get("/pilotage/figures/{key}.csv")
async def figure_csv(key: str, request: Request, visitor: VisitorDep):
    """One figure's numbers: UTF-8 with BOM and « ; », as Excel and LibreOffice open them."""
    try:
        reply = await call(request, dashboard_request(request.query_params), access_token=visitor.token)
        figure = next((f for f in reply.figures if f.key == key), None)
        if figure is None:
            raise NotFound(NO_FIGURE)
    except ServiceError as error:
        return error_page(request, error, visitor=visitor)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([neutral(figure.title)])
    for row in csv_rows(figure):
        writer.writerow([neutral(cell) for cell in row])
    body = "\ufeff" + buffer.getvalue()
    filename = f"{key}-{reply.period_from.isoformat()}-{reply.period_to.isoformat()}.csv"
    response = StreamingResponse(iter([body.encode("utf-8")]), media_type="text/csv; charset=utf-8",
                                 headers={"Content-Disposition": f'attachment; filename="{filename}"'})
    for name, value in visitor.cookies.raw_headers:
        if name == b"set-cookie":
            response.raw_headers.append((name, value))
    return response


@api.get("/pilotage/dashboard", response_model=PilotageDashboardReply)
async def dashboard_api(request: Request, response: Response, scope: PilotageScope = PilotageScope.territory,
                        structure_id: uuid.UUID | None = None, deployment_id: uuid.UUID | None = None,
                        period_from: date | None = None, period_to: date | None = None) -> PilotageDashboardReply:
    """A dashboard's figures, each point with the filters of the list behind it: the caller's territory, one
    structure, or national (admin_cdb); the period defaults to the last twelve months (five years at most)."""
    return await call_as_caller(request, response, GetPilotageDashboardV1(
        scope=scope, structure_id=structure_id, deployment_id=deployment_id, period_from=period_from,
        period_to=period_to))


@router.get("/pilotage/actions")
async def actions_page(request: Request, visitor: VisitorDep):
    """The actions behind a cell of « actions par thème et statut »: the same theme, status, creation days and
    structure (the filters in the URL, as the beneficiaries' list takes them), as many as the cell says; and their
    export with the same filters."""
    params = request.query_params
    try:
        offset = max(int(params.get("offset") or 0), 0)
    except ValueError:
        offset = 0
    territory = (params.get("deployment_id") or "").strip()
    try:
        filters = filters_from_query(params)
        deployment_id = uuid.UUID(territory) if territory else None
        found = await call(request, QueryActionsV1(filters=filters, deployment_id=deployment_id, offset=offset,
                                                   limit=ACTIONS_PAGE_SIZE), access_token=visitor.token)
    except ValueError:
        return error_page(request, NotFound("Ce territoire n'existe pas."), visitor=visitor)
    except ServiceError as error:
        return error_page(request, error, visitor=visitor)
    query = filters_to_query(filters) + (f"&{urlencode({'deployment_id': territory})}" if territory else "")
    return render(request, "pilotage_actions.html.j2", {
        "found": found, "filters": filters, "fields": filter_fields(filters), "deployment_id": territory,
        "query": query, "offset": offset, "page_size": ACTIONS_PAGE_SIZE, "status_labels": ACTION_STATUSES,
        "list_name": ExportList.actions.value}, visitor=visitor)
