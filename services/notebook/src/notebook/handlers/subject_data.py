"""Everything the notebook holds about the signed-in beneficiary (RGPD art. 15 and 20), as JSON sections, and the
readable PDF of it with the sections the other services answered for her: only her own notebook, only from her own
login (the role and the token's profile are checked here, whatever the gateway asked)."""
from __future__ import annotations

import asyncio
import base64
import json

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.identity import Role
from contracts.notebook import ContractPdfReply
from contracts.retention import RetentionSubject
from contracts.rights import (
    GetMySubjectValuesV1,
    GetNotebookSubjectDataV1,
    RenderSubjectDataPdfV1,
    SubjectDataReply,
    SubjectDataSection,
)
from notebook.adapters.orm import (
    Beneficiary,
    ExchangeMessage,
    ExternalData,
    Notebook,
    NotebookReferral,
    NotebookTransfer,
    NotebookVisit,
    OrientationSystemRead,
    RightsRequest,
    TerritoryRead,
    TimelineEvent,
)
from notebook.adapters.subject_data_pdf import subject_data_pdf
from notebook.domain.habilitation import Operation
from notebook.handlers.beneficiaries import view_of
from notebook.handlers.bilans import bilan_summaries
from notebook.handlers.caller import Caller, caller_of, open_notebook
from notebook.handlers.contracts import contract_summaries, today_of
from notebook.handlers.deps import Deps
from notebook.handlers.diagnostic import diagnostic_view
from notebook.handlers.orientation import request_view
from notebook.handlers.retention import subject_values
from notebook.handlers.page import appointments_of, members_of, parcours_of, structures_of
from notebook.handlers import rights_requests
from servicekit.errors import Forbidden

SOURCES = {"cafmsa": "CAF/MSA", "france_travail": "France Travail (fichier)",
           "france_travail_api": "France Travail (service en ligne)"}
ONLY_THE_PERSON = "Seule la personne concernée peut télécharger ses données, depuis son propre compte."
SERVICE = "notebook"


def dumped(items) -> list:
    return [item.model_dump(mode="json") for item in items]


def decoded(text: str):
    """A flux's data as it came (JSON, or the text itself)."""
    try:
        return json.loads(text)
    except ValueError:
        return text


async def received_and_moved(session: AsyncSession, deps: Deps, notebook: Notebook) -> dict:
    """What partners' flux said about her, the messages professionals shared with her, her notebook's moves."""
    external = (await session.execute(select(ExternalData).where(
        ExternalData.beneficiary_id == notebook.beneficiary_id).order_by(ExternalData.created_at))).scalars().all()
    shared = (await session.execute(select(ExchangeMessage).where(
        ExchangeMessage.notebook_id == notebook.id, ExchangeMessage.shared_with_beneficiary.is_(True))
        .order_by(ExchangeMessage.created_at))).scalars().all()
    transfers = (await session.execute(select(NotebookTransfer).where(NotebookTransfer.notebook_id == notebook.id)
                                       .order_by(NotebookTransfer.requested_at))).scalars().all()
    referrals = (await session.execute(select(NotebookReferral).where(NotebookReferral.notebook_id == notebook.id)
                                       .order_by(NotebookReferral.granted_at))).scalars().all()
    labels = {t.id: t.label for t in (await session.execute(select(TerritoryRead))).scalars()} if transfers else {}
    p = deps.protection
    return {
        "external": [{"origine": SOURCES.get(e.source, e.source),
                      "date_du_flux": e.received_on.isoformat() if e.received_on else None,
                      "recu_le": e.created_at.isoformat(), "donnees": decoded(p.decrypt(e.data_encrypted))}
                     for e in external],
        "exchanges": [{"date": m.created_at.isoformat(), "auteur": m.author_name, "structure": m.author_structure,
                       "message": p.decrypt(m.text_encrypted)} for m in shared],
        "moves": {"transferts": [{"de": labels.get(t.from_deployment_id, ""), "vers": labels.get(t.to_deployment_id, ""),
                                  "status": t.status, "motif": t.reason, "demande_le": t.requested_at.isoformat(),
                                  "decide_le": t.decided_at.isoformat() if t.decided_at else None}
                                 for t in transfers],
                  "acces_temporaires": [{"personne": r.person_name, "jusqu_au": r.until.isoformat(),
                                         "motif": r.reason, "accorde_le": r.granted_at.isoformat(),
                                         "par": r.granted_by_name} for r in referrals]},
    }


async def sections_of(session: AsyncSession, deps: Deps, notebook: Notebook) -> list[SubjectDataSection]:
    beneficiary = view_of(await session.get(Beneficiary, notebook.beneficiary_id), deps)
    system = await session.get(OrientationSystemRead, notebook.orientation_system_id) \
        if notebook.orientation_system_id else None
    territory = await session.get(TerritoryRead, notebook.deployment_id)
    pending = await request_view(session, notebook.id)
    history = (await session.execute(select(TimelineEvent).where(
        TimelineEvent.notebook_id == notebook.id, TimelineEvent.hidden.is_(False))
        .order_by(TimelineEvent.occurred_at))).scalars().all()
    visits = (await session.execute(select(NotebookVisit).where(NotebookVisit.notebook_id == notebook.id)
                                    .order_by(NotebookVisit.visited_at))).scalars().all()
    requests = (await session.execute(select(RightsRequest).where(RightsRequest.notebook_id == notebook.id)
                                      .order_by(RightsRequest.created_at))).scalars().all()
    today = today_of(deps)
    more = await received_and_moved(session, deps, notebook)

    def section(key: str, title: str, data) -> SubjectDataSection:
        return SubjectDataSection(service=SERVICE, key=key, title=title, data=data)

    return [
        section("identity", "Identité, coordonnées et droits",
                {"territoire": territory.label if territory else "", "carnet_cree_le": notebook.created_at.isoformat(),
                 **beneficiary.model_dump(mode="json", exclude={"withheld"})}),
        section("diagnostic", "Diagnostic socioprofessionnel",
                (await diagnostic_view(session, notebook)).model_dump(mode="json")),
        section("members", "Groupe de suivi et structures",
                {"membres": dumped(await members_of(session, notebook)),
                 "structures": dumped(await structures_of(session, notebook))}),
        section("orientation", "Orientation",
                {"dispositif": system.name if system else "", "motif": notebook.orientation_reason,
                 "oriente_le": notebook.oriented_at.isoformat() if notebook.oriented_at else None,
                 "oriente_par": notebook.oriented_by_name,
                 "demande_de_reorientation": pending.model_dump(mode="json") if pending else None}),
        section("parcours", "Plan d'action : axes, objectifs et actions", dumped(await parcours_of(session, notebook))),
        section("appointments", "Rendez-vous", dumped(await appointments_of(session, notebook))),
        section("contracts", "Contrats d'engagement", dumped(await contract_summaries(session, notebook, today))),
        section("bilans", "Bilans d'accompagnement", dumped(await bilan_summaries(session, notebook))),
        section("external_data", "Informations reçues des organismes (CAF/MSA, France Travail)", more["external"]),
        section("exchanges", "Messages des professionnels partagés avec vous", more["exchanges"]),
        section("moves", "Changements de territoire et accès temporaires", more["moves"]),
        section("history", "Historique du carnet",
                [{"date": e.occurred_at.isoformat(), "evenement": e.summary, "auteur": e.author_name,
                  "origine": e.source} for e in history]),
        section("access_log", "Consultations de votre carnet par les professionnels",
                [{"jour": v.day.isoformat(), "personne": v.person_name, "role": v.role,
                  "structure": v.structure_name, "consultations": v.views} for v in visits]),
        section("rights_requests", "Vos demandes de rectification et d'opposition",
                dumped(rights_requests.view_of(r, today) for r in requests)),
    ]


async def own_notebook(session: AsyncSession, caller: Caller) -> Notebook:
    if caller.role != Role.beneficiary:
        raise Forbidden(ONLY_THE_PERSON)
    notebook, _ = await open_notebook(session, caller, None, Operation.view_full)
    return notebook


async def get_subject_data(_request: GetNotebookSubjectDataV1, ctx, deps: Deps) -> SubjectDataReply:
    caller = await caller_of(ctx, deps)
    await deps.visit_log.flush()  # her access log whole, with the views handed over and not yet written
    async with deps.sessions() as session:
        notebook = await own_notebook(session, caller)
        return SubjectDataReply(sections=await sections_of(session, deps, notebook))


async def get_my_subject_values(_request: GetMySubjectValuesV1, ctx, deps: Deps) -> RetentionSubject:
    """For a service she asked for her data (her token forwarded): what to look for in what it holds about her."""
    caller = await caller_of(ctx, deps)
    async with deps.sessions() as session:
        notebook = await own_notebook(session, caller)
        beneficiary = await session.get(Beneficiary, notebook.beneficiary_id)
        return await subject_values(session, deps, notebook.id, beneficiary)


async def render_pdf(request: RenderSubjectDataPdfV1, ctx, deps: Deps) -> ContractPdfReply:
    """Her sections here first, then those the other services answered her (asked with her own token)."""
    caller = await caller_of(ctx, deps)
    await deps.visit_log.flush()  # her access log whole, with the views handed over and not yet written
    async with deps.sessions() as session:
        notebook = await own_notebook(session, caller)
        ours = await sections_of(session, deps, notebook)
        beneficiary = await session.get(Beneficiary, notebook.beneficiary_id)
        territory = await session.get(TerritoryRead, notebook.deployment_id)
    others = [s for s in request.sections if s.service != SERVICE]
    name = f"{beneficiary.firstname} {beneficiary.lastname}"
    pdf = await asyncio.to_thread(subject_data_pdf, name, territory.label if territory else "", today_of(deps),
                                  [*ours, *others])
    return ContractPdfReply(filename=f"mes-donnees-{today_of(deps).isoformat()}.pdf",
                            pdf_base64=base64.b64encode(pdf).decode("ascii"))
