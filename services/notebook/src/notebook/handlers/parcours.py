"""The parcours: work axes (themes) → objectives (referential or free text) → actions, with statuses, dates and
authors. Every change is a history entry; changes of status carry the version read (409 otherwise)."""
from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.identity import AcceptedReply
from contracts.notebook import (
    ActionStatus,
    AddActionV1,
    AddFocusV1,
    AddTargetV1,
    DeleteParcoursItemV1,
    TargetStatus,
    UpdateActionV1,
    UpdateTargetV1,
    VersionReply,
)
from notebook.adapters.orm import Action, Focus, Notebook, RefTheme, Target
from notebook.domain.habilitation import Operation
from notebook.domain.parcours import check_consent, check_target_change, check_version
from notebook.handlers.caller import Caller, caller_of, name_of, open_notebook
from notebook.handlers.deps import Deps
from notebook.handlers.referentials import FOCUS_THEMES
from notebook.handlers.timeline import hide_entries_of, record
from servicekit.errors import Conflict, Invalid, NotFound

UNKNOWN_THEME = "Choisissez un thème dans la liste."
THEME_TAKEN = "Ce carnet a déjà un axe de travail sur ce thème."
TARGET_TAKEN = "Cet axe de travail a déjà cet objectif."
TEXT_REQUIRED = "Saisissez un intitulé."
ITEM_NOT_FOUND = "Cet élément du parcours n'existe pas ou a été supprimé."
TARGET_STATUS_LABELS = {TargetStatus.in_progress: "en cours", TargetStatus.done: "réalisé",
                        TargetStatus.abandoned: "abandonné"}
ACTION_STATUS_LABELS = {ActionStatus.planned: "en projet", ActionStatus.in_progress: "en cours",
                        ActionStatus.standby: "en attente", ActionStatus.done: "réalisée",
                        ActionStatus.abandoned: "abandonnée par le bénéficiaire",
                        ActionStatus.canceled: "annulée par la structure"}


async def focus_in_reach(session: AsyncSession, caller: Caller, focus_id: uuid.UUID,
                         operation: Operation) -> tuple[Focus, Notebook]:
    focus = await session.get(Focus, focus_id)
    if focus is None or focus.deleted_at is not None:
        raise NotFound(ITEM_NOT_FOUND)
    notebook, _ = await open_notebook(session, caller, focus.notebook_id, operation)
    return focus, notebook


async def target_in_reach(session, caller, target_id) -> tuple[Target, Focus, Notebook]:
    target = await session.get(Target, target_id, with_for_update=True)
    if target is None or target.deleted_at is not None:
        raise NotFound(ITEM_NOT_FOUND)
    focus, notebook = await focus_in_reach(session, caller, target.focus_id, Operation.edit_parcours)
    return target, focus, notebook


async def action_in_reach(session, caller, action_id) -> tuple[Action, Target, Notebook]:
    action = await session.get(Action, action_id, with_for_update=True)
    if action is None or action.deleted_at is not None:
        raise NotFound(ITEM_NOT_FOUND)
    target, _, notebook = await target_in_reach(session, caller, action.target_id)
    return action, target, notebook


def required_text(text: str) -> str:
    if not text.strip():
        raise Invalid(TEXT_REQUIRED, details={"field": "text"})
    return " ".join(text.split())


async def add_focus(request: AddFocusV1, ctx, deps: Deps) -> VersionReply:
    caller = await caller_of(ctx, deps)
    if request.theme not in FOCUS_THEMES:
        raise Invalid(UNKNOWN_THEME, details={"field": "theme"})
    async with deps.sessions.begin() as session:
        notebook, _ = await open_notebook(session, caller, request.notebook_id, Operation.edit_parcours)
        if await session.scalar(select(Focus.id).where(Focus.notebook_id == notebook.id, Focus.theme == request.theme,
                                                       Focus.deleted_at.is_(None))):
            raise Conflict(THEME_TAKEN, details={"field": "theme"})
        author = await name_of(session, caller)
        focus = Focus(notebook_id=notebook.id, theme=request.theme, created_at=deps.clock(),
                      created_by=caller.profile_id, created_by_name=author)
        session.add(focus)
        await session.flush()
        label = await session.get(RefTheme, request.theme)
        await record(session, deps, notebook, caller, "focus", f"Axe de travail ajouté : {label.label}",
                     subject_id=focus.id, author_name=author)
    return VersionReply(id=focus.id)


async def add_target(request: AddTargetV1, ctx, deps: Deps) -> VersionReply:
    caller = await caller_of(ctx, deps)
    text = required_text(request.target)
    check_consent(request.linked_to, request.user_consent)
    async with deps.sessions.begin() as session:
        focus, notebook = await focus_in_reach(session, caller, request.focus_id, Operation.edit_parcours)
        if await session.scalar(select(Target.id).where(Target.focus_id == focus.id, Target.target == text,
                                                        Target.deleted_at.is_(None))):
            raise Conflict(TARGET_TAKEN, details={"field": "target"})
        author = await name_of(session, caller)
        target = Target(focus_id=focus.id, target=text, status=TargetStatus.in_progress.value,
                        linked_to=request.linked_to.value, user_consent=request.user_consent,
                        created_at=deps.clock(), created_by=caller.profile_id, created_by_name=author)
        session.add(target)
        await session.flush()
        await record(session, deps, notebook, caller, "target", f"Objectif ajouté : {text}", subject_id=target.id,
                     author_name=author)
    return VersionReply(id=target.id)


def target_state(target: Target) -> dict:
    return {"status": target.status, "linked_to": target.linked_to, "user_consent": target.user_consent,
            "version": target.version}


async def update_target(request: UpdateTargetV1, ctx, deps: Deps) -> VersionReply:
    caller = await caller_of(ctx, deps)
    check_consent(request.linked_to, request.user_consent)
    async with deps.sessions.begin() as session:
        target, _, notebook = await target_in_reach(session, caller, request.target_id)
        check_version(target.version, request.version, target_state(target))
        if request.status.value != target.status:
            check_target_change(request.status, request.reason)
        before = target_state(target)
        target.status, target.linked_to = request.status.value, request.linked_to.value
        target.user_consent = request.user_consent
        after = target_state(target)
        if before == after:
            return VersionReply(id=target.id, version=target.version)
        target.version += 1
        summary = f"Objectif « {target.target} » : {TARGET_STATUS_LABELS[request.status]}"
        if request.reason.strip():
            summary += f" ({request.reason.strip()})"
        await record(session, deps, notebook, caller, "target", summary, subject_id=target.id,
                     changes={k: [str(before[k]), str(after[k])] for k in before if before[k] != after[k]
                              and k != "version"})
    return VersionReply(id=target.id, version=target.version)


async def add_action(request: AddActionV1, ctx, deps: Deps) -> VersionReply:
    caller = await caller_of(ctx, deps)
    text = required_text(request.action)
    async with deps.sessions.begin() as session:
        target, _, notebook = await target_in_reach(session, caller, request.target_id)
        author = await name_of(session, caller)
        now = deps.clock()
        action = Action(target_id=target.id, action=text, status=request.status.value,
                        starting_at=request.starting_at or now.date(), created_at=now, created_by=caller.profile_id,
                        created_by_name=author)
        session.add(action)
        await session.flush()
        await record(session, deps, notebook, caller, "action", f"Action ajoutée : {text} (objectif « {target.target} »)",
                     subject_id=action.id, author_name=author)
    return VersionReply(id=action.id)


async def update_action(request: UpdateActionV1, ctx, deps: Deps) -> VersionReply:
    caller = await caller_of(ctx, deps)
    async with deps.sessions.begin() as session:
        action, _, notebook = await action_in_reach(session, caller, request.action_id)
        check_version(action.version, request.version, {"status": action.status, "version": action.version})
        if request.status.value == action.status:
            return VersionReply(id=action.id, version=action.version)
        before, action.status = action.status, request.status.value
        action.version += 1
        summary = f"Action « {action.action} » : {ACTION_STATUS_LABELS[request.status]}"
        if request.reason.strip():
            summary += f" ({request.reason.strip()})"
        await record(session, deps, notebook, caller, "action", summary, subject_id=action.id,
                     changes={"status": [before, action.status]})
    return VersionReply(id=action.id, version=action.version)


async def delete_item(request: DeleteParcoursItemV1, ctx, deps: Deps) -> AcceptedReply:
    """Deleting an axis deletes its objectives and actions; all leave the history everyone sees."""
    caller = await caller_of(ctx, deps)
    async with deps.sessions.begin() as session:
        if request.kind == "focus":
            focus, notebook = await focus_in_reach(session, caller, request.item_id, Operation.edit_parcours)
            target_ids = list((await session.execute(select(Target.id).where(Target.focus_id == focus.id))).scalars())
            focus_ids = [focus.id]
            label = f"Axe de travail supprimé : {(await session.get(RefTheme, focus.theme)).label}"
        elif request.kind == "target":
            target, _, notebook = await target_in_reach(session, caller, request.item_id)
            focus_ids, target_ids = [], [target.id]
            label = f"Objectif supprimé : {target.target}"
        else:
            action, _, notebook = await action_in_reach(session, caller, request.item_id)
            focus_ids, target_ids = [], []
            label = f"Action supprimée : {action.action}"
        action_ids = [action.id] if request.kind == "action" else list((await session.execute(
            select(Action.id).where(Action.target_id.in_(target_ids)))).scalars())
        now = deps.clock()
        for table, ids in ((Focus, focus_ids), (Target, target_ids), (Action, action_ids)):
            if ids:
                await session.execute(update(table).where(table.id.in_(ids), table.deleted_at.is_(None))
                                      .values(deleted_at=now))
        await hide_entries_of(session, focus_ids + target_ids + action_ids)
        # The deletion itself is in the audit trail only: the history everyone sees just no longer has the item.
        await record(session, deps, notebook, caller, request.kind, label, subject_id=request.item_id)
        await hide_entries_of(session, [request.item_id])
    return AcceptedReply()
