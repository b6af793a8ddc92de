"""The referentials (themes, situations, objectives, actions, ROME job titles), loaded by migration 0002."""
from __future__ import annotations

import hashlib

from sqlalchemy import select

from contracts.notebook import GetReferentialsV1, ReferentialItem, Referentials, RomeCode, RomeCodesReply, SearchRomeCodesV1
from notebook.adapters.orm import RefAction, RefSituation, RefTarget, RefTheme
from notebook.adapters.orm import RomeCode as RomeRow
from notebook.handlers.caller import caller_of
from notebook.handlers.deps import Deps
from servicekit.contact import search_key

# The themes offered for a work axis (v1's focusThemeKeys); the others are France Travail's job-search themes.
FOCUS_THEMES = ("logement", "emploi", "formation", "difficulte_administrative", "difficulte_financiere", "mobilite",
                "sante", "contraintes_familiales", "maitrise_langue", "numerique")
# Objectives of an "emploi" axis come from the job-search themes, those of "formation" from "se_former".
TARGET_THEMES = {"emploi": ("choisir_un_metier", "preparer_sa_candidature", "trouver_un_emploi",
                            "creer_une_entreprise", "s_ouvrir_a_l_international"),
                 "formation": ("se_former",)}


def target_themes_of(theme: str) -> tuple[str, ...]:
    return TARGET_THEMES.get(theme, (theme,))


async def get_referentials(_request: GetReferentialsV1, ctx, deps: Deps) -> Referentials:
    await caller_of(ctx, deps)
    return await referentials_of(deps)


async def referentials_of(deps: Deps) -> Referentials:
    """The referentials, read once per process: only a migration changes them, and the service restarts after one.
    Their version is a digest of their content, so that every replica of a release names the same one."""
    if deps.referentials is None:
        async with deps.sessions() as session:
            themes = dict((await session.execute(select(RefTheme.name, RefTheme.label).order_by(RefTheme.label))
                           ).all())

            async def items(table):
                rows = (await session.execute(select(table).order_by(table.theme, table.description))).scalars()
                return [ReferentialItem(id=r.id, theme=r.theme, description=r.description) for r in rows]

            loaded = Referentials(themes=themes, focus_themes=list(FOCUS_THEMES),
                                  target_themes={t: list(target_themes_of(t)) for t in FOCUS_THEMES},
                                  situations=await items(RefSituation),
                                  targets=await items(RefTarget), actions=await items(RefAction))
        digest = hashlib.sha256(loaded.model_dump_json().encode()).hexdigest()[:16]
        deps.referentials = loaded.model_copy(update={"version": digest})
    return deps.referentials


async def search_rome_codes(request: SearchRomeCodesV1, ctx, deps: Deps) -> RomeCodesReply:
    """"dev info" finds "Développeur / Développeuse informatique (M1805)": every word, as a prefix or inside."""
    await caller_of(ctx, deps)
    words = search_key(request.q).split()
    if not words:
        return RomeCodesReply(codes=[])
    query = select(RomeRow.code, RomeRow.label)
    for word in words:
        query = query.where(RomeRow.search_text.contains(word, autoescape=True))
    async with deps.sessions() as session:
        rows = (await session.execute(query.order_by(RomeRow.label).limit(request.limit))).all()
    return RomeCodesReply(codes=[RomeCode(code=code, label=label) for code, label in rows])
