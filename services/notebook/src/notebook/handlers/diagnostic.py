"""The socio-professional diagnostic: work situation, personal situations (88, by theme) and up to five
professional projects, saved at once with who changed what and when."""
from __future__ import annotations

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.notebook import (
    DiagnosticFields,
    DiagnosticView,
    ProjectView,
    SituationView,
    UpdateDiagnosticV1,
    VersionReply,
)
from notebook.adapters.orm import Notebook, NotebookSituation, ProfessionalProject, RefSituation
from notebook.domain.habilitation import Operation
from notebook.domain.parcours import check_version
from notebook.handlers.caller import caller_of, name_of, open_notebook
from notebook.handlers.deps import Deps
from notebook.handlers.timeline import record
from servicekit.errors import Invalid

UNKNOWN_SITUATION = "Une des situations choisies n'existe pas dans le référentiel."
DUPLICATE_PROJECT = "Deux projets professionnels portent sur le même métier."
BAD_PERIOD = "La date de fin de la situation doit suivre sa date de début."
WORK_FIELDS = ("work_situation", "work_situation_date", "work_situation_end_date", "right_rqth", "education_level",
               "last_job_ended_at")
WORK_LABELS = {"work_situation": "situation actuelle", "work_situation_date": "depuis le",
               "work_situation_end_date": "jusqu'au", "right_rqth": "RQTH", "education_level": "niveau d'étude",
               "last_job_ended_at": "date de fin du dernier emploi"}


# The diagnostic's rows as plain columns, statements built once (bound notebook id): every full notebook page
# shows it, and ORM objects with a select built on each call cost the page more than the reads did. The plain ORM
# reading is notebook.handlers.page_reference.diagnostic_view, which the exact-page test compares with this one.
SITUATION_ROWS = (
    select(RefSituation.id, RefSituation.theme, RefSituation.description, NotebookSituation.created_at,
           NotebookSituation.created_by_name)
    .join(RefSituation, RefSituation.id == NotebookSituation.situation_id)
    .where(NotebookSituation.notebook_id == bindparam("notebook_id"), NotebookSituation.deleted_at.is_(None))
    .order_by(RefSituation.theme, RefSituation.description))
PROJECT_ROWS = (
    select(ProfessionalProject.id, ProfessionalProject.rome_code, ProfessionalProject.mobility_radius_km,
           ProfessionalProject.hourly_rate_cents, ProfessionalProject.contract_type,
           ProfessionalProject.employment_type, ProfessionalProject.updated_at, ProfessionalProject.updated_by_name)
    .where(ProfessionalProject.notebook_id == bindparam("notebook_id")).order_by(ProfessionalProject.updated_at))


async def diagnostic_view(session: AsyncSession, notebook: Notebook) -> DiagnosticView:
    situations = await session.execute(SITUATION_ROWS, {"notebook_id": notebook.id})
    projects = await session.execute(PROJECT_ROWS, {"notebook_id": notebook.id})
    return DiagnosticView(
        **{name: getattr(notebook, name) for name in WORK_FIELDS},
        situations=[SituationView(situation_id=r.id, theme=r.theme, description=r.description,
                                  added_at=r.created_at, added_by_name=r.created_by_name) for r in situations],
        projects=[ProjectView(project_id=p.id, rome_code=p.rome_code, mobility_radius_km=p.mobility_radius_km,
                              hourly_rate_cents=p.hourly_rate_cents, contract_type=p.contract_type,
                              employment_type=p.employment_type, updated_at=p.updated_at,
                              updated_by_name=p.updated_by_name) for p in projects],
        version=notebook.diagnostic_version, updated_at=notebook.diagnostic_updated_at,
        updated_by_name=notebook.diagnostic_updated_by_name)


async def save_situations(session: AsyncSession, deps: Deps, notebook: Notebook, wanted: set, author: str) -> list[str]:
    """Adds the new situations, soft-deletes the unticked ones; returns what changed, in French."""
    if wanted and await session.scalar(select(func.count()).where(RefSituation.id.in_(wanted))) != len(wanted):
        raise Invalid(UNKNOWN_SITUATION, details={"field": "situation_ids"})
    current = {row.situation_id: row for row in (await session.execute(select(NotebookSituation).where(
        NotebookSituation.notebook_id == notebook.id, NotebookSituation.deleted_at.is_(None)))).scalars()}
    now = deps.clock()
    labels = dict((await session.execute(select(RefSituation.id, RefSituation.description).where(
        RefSituation.id.in_(wanted | set(current))))).all())
    changes = []
    for situation_id in wanted - set(current):
        session.add(NotebookSituation(notebook_id=notebook.id, situation_id=situation_id, created_at=now,
                                      created_by_name=author))
        changes.append(f"situation ajoutée : {labels[situation_id]}")
    for situation_id in set(current) - wanted:
        current[situation_id].deleted_at, current[situation_id].deleted_by_name = now, author
        changes.append(f"situation retirée : {labels[situation_id]}")
    return sorted(changes)


async def save_projects(session: AsyncSession, deps: Deps, notebook: Notebook, fields: DiagnosticFields,
                        author: str) -> list[str]:
    """Projects are matched by their job (one per job; "en construction" once): kept, changed, added or removed."""
    codes = [p.rome_code for p in fields.projects]
    if len(set(codes)) != len(codes):
        raise Invalid(DUPLICATE_PROJECT, details={"field": "projects"})
    current = {p.rome_code: p for p in (await session.execute(select(ProfessionalProject).where(
        ProfessionalProject.notebook_id == notebook.id))).scalars()}
    now, changes = deps.clock(), []
    for project in fields.projects:
        values = project.model_dump()
        row = current.pop(project.rome_code, None)
        label = project.rome_code or "projet en construction"
        if row is None:
            session.add(ProfessionalProject(notebook_id=notebook.id, updated_at=now, updated_by_name=author, **values))
            changes.append(f"projet ajouté : {label}")
        elif any(getattr(row, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            row.updated_at, row.updated_by_name = now, author
            changes.append(f"projet modifié : {label}")
    for row in current.values():
        await session.delete(row)
        changes.append(f"projet retiré : {row.rome_code or 'projet en construction'}")
    return changes


async def update_diagnostic(request: UpdateDiagnosticV1, ctx, deps: Deps) -> VersionReply:
    caller = await caller_of(ctx, deps)
    fields = request.diagnostic
    if fields.work_situation_date and fields.work_situation_end_date and \
            fields.work_situation_end_date < fields.work_situation_date:
        raise Invalid(BAD_PERIOD, details={"field": "work_situation_end_date"})
    async with deps.sessions.begin() as session:
        notebook, _ = await open_notebook(session, caller, request.notebook_id, Operation.edit_diagnostic)
        await session.refresh(notebook, with_for_update=True)
        check_version(notebook.diagnostic_version, request.version,
                      (await diagnostic_view(session, notebook)).model_dump(mode="json"))
        author = await name_of(session, caller)
        trail = {}
        for name in WORK_FIELDS:
            before, after = getattr(notebook, name), getattr(fields, name)
            after = after.value if hasattr(after, "value") else after
            if before != after:
                trail[name] = [str(before or ""), str(after or "")]
                setattr(notebook, name, after)
        changes = [WORK_LABELS[name] for name in trail]
        changes += await save_situations(session, deps, notebook, set(fields.situation_ids), author)
        changes += await save_projects(session, deps, notebook, fields, author)
        if changes:
            notebook.diagnostic_version += 1
            notebook.diagnostic_updated_at, notebook.diagnostic_updated_by_name = deps.clock(), author
            await record(session, deps, notebook, caller, "diagnostic",
                         "Diagnostic socioprofessionnel mis à jour : " + " ; ".join(changes), changes=trail,
                         author_name=author)
    return VersionReply(id=notebook.id, version=notebook.diagnostic_version)
