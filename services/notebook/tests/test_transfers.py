"""Another territory through notebook's broker in memory, on SQLite and PostgreSQL: a transfer asked by the origin's
manager, accepted by the destination's (the notebook, its beneficiary and its history move; the origin's group loses
access; search follows), one refused (nothing moves), and a referral that opens the notebook to a professional of
another territory until a date, then no more."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from contracts import notebook as c
from contracts import rights as r
from contracts import transfers as t
from contracts.base import ErrorCode
from contracts.directory import OrientationSystemCreatedV1, OrientationType, StructureCreatedV1
from contracts.identity import Role
from contracts.profiles import BeneficiaryUpdatedV1, DeploymentCreatedV1, ManagerCreatedV1, ProfessionalCreatedV1
from notebook.adapters.orm import NotebookReferral, NotebookVisit
from services.notebook.tests.reads import access_log_of
from testkit.handlers import InMemoryService, refused
from testkit.clock import paris_today

pytestmark = pytest.mark.integration


@pytest.fixture
async def notebook(service_under_test) -> InMemoryService:
    return await service_under_test("notebook")


@dataclass
class Territory:
    deployment_id: uuid.UUID
    manager: str
    pro: str
    pro_email: str
    orientation_system_id: uuid.UUID


async def territory(notebook: InMemoryService, token_mint, label: str, code: str) -> Territory:
    deployment, structure, system = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    manager_id, pro_id = uuid.uuid4(), uuid.uuid4()
    await notebook.deliver(DeploymentCreatedV1(deployment_id=deployment, label=label, department_code=code))
    await notebook.deliver(OrientationSystemCreatedV1(orientation_system_id=system, deployment_id=deployment,
                                                      name="Professionnel", orientation_type=OrientationType.pro))
    await notebook.deliver(StructureCreatedV1(structure_id=structure, deployment_id=deployment,
                                              name=f"Mission Locale {code}", city="Ville"))
    await notebook.deliver(ManagerCreatedV1(profile_id=manager_id, deployment_id=deployment, firstname="Marie",
                                            lastname=f"Gérante{code}", email=f"gestion@cd{code}.fr"))
    email = f"pro-{uuid.uuid4().hex[:6]}@cd{code}.fr"  # the database is shared by the module's tests
    await notebook.deliver(ProfessionalCreatedV1(
        profile_id=pro_id, deployment_id=deployment, firstname="Pierre", lastname=f"Pro{code}", email=email,
        structure_ids=[structure], orientation_system_ids=[system]))
    return Territory(deployment, token_mint.token(Role.manager, deployment_id=deployment, profile_id=manager_id),
                     token_mint.token(Role.professional, deployment_id=deployment, profile_id=pro_id,
                                      structure_ids=[structure]), email, system)


async def followed(notebook: InMemoryService, origin: Territory, lastname: str) -> uuid.UUID:
    created = await notebook.call(c.CreateBeneficiaryV1(beneficiary=c.BeneficiaryFields(
        firstname="Sophie", lastname=lastname, date_of_birth=date(1990, 4, 12), email="sophie@test.carnet.fr")),
        origin.manager)
    await notebook.call(c.JoinNotebookV1(notebook_id=created.notebook_id, as_referent=True,
                                         orientation_system_id=origin.orientation_system_id), origin.pro)
    await notebook.call(c.AddFocusV1(notebook_id=created.notebook_id, theme="emploi"), origin.pro)
    return created.notebook_id


async def found(notebook: InMemoryService, token: str, q: str) -> list[uuid.UUID]:
    return [row.notebook_id for row in (await notebook.call(c.SearchNotebooksV1(q=q), token)).notebooks]


async def test_a_transfer_accepted_moves_the_notebook_and_its_history(notebook, token_mint):
    origin = await territory(notebook, token_mint, "Drôme", "26")
    destination = await territory(notebook, token_mint, "Isère", "38")
    notebook_id = await followed(notebook, origin, "Tifour")
    before = await notebook.call(c.GetNotebookPageV1(notebook_id=notebook_id), origin.manager)

    # Who may ask: the origin's managers only, for another known territory, with a reason, one at a time.
    ask = t.RequestTransferV1(notebook_id=notebook_id, to_deployment_id=destination.deployment_id,
                              reason="Déménagement à Grenoble")
    assert (await refused(notebook.call(ask, origin.pro))).code == ErrorCode.forbidden
    assert (await refused(notebook.call(ask, destination.manager))).code == ErrorCode.not_found
    same = await refused(notebook.call(ask.model_copy(update={"to_deployment_id": origin.deployment_id}),
                                       origin.manager))
    assert same.code == ErrorCode.invalid and same.details["field"] == "to_deployment_id"
    unknown = await refused(notebook.call(ask.model_copy(update={"to_deployment_id": uuid.uuid4()}), origin.manager))
    assert unknown.code == ErrorCode.invalid and "n'existe pas" in unknown.message
    # Nothing to accept before a request.
    options = await notebook.call(t.GetNotebookTransfersV1(notebook_id=notebook_id), origin.manager)
    assert options.allowed == ["refer", "request_transfer"] and [x.label for x in options.territories] == ["Isère"]
    asked = await notebook.call(ask, origin.manager)
    again = await refused(notebook.call(ask, origin.manager))
    assert again.code == ErrorCode.conflict
    [requested] = await notebook.events(t.TransferRequestedV1.subject)
    assert (requested.transfer_id, requested.manager_emails, requested.to_label) == (asked.id, ["gestion@cd38.fr"],
                                                                                     "Isère")

    incoming = await notebook.call(t.ListTransfersV1(), destination.manager)
    assert [(x.transfer_id, x.beneficiary_name, x.from_label) for x in incoming.incoming] == [
        (asked.id, "Sophie Tifour", "Drôme")]
    outgoing = await notebook.call(t.ListTransfersV1(), origin.manager)
    assert [(x.transfer_id, x.status) for x in outgoing.outgoing] == [(asked.id, t.TransferStatus.pending)]
    assert outgoing.incoming == []
    assert (await refused(notebook.call(t.ListTransfersV1(), origin.pro))).code == ErrorCode.forbidden

    # Who may decide: the destination's managers only.
    accept = t.DecideTransferV1(transfer_id=asked.id, accepted=True)
    assert (await refused(notebook.call(accept, origin.manager))).code == ErrorCode.forbidden
    assert (await refused(notebook.call(accept, destination.pro))).code == ErrorCode.forbidden
    stranger = token_mint.token(Role.manager, deployment_id=uuid.uuid4(), profile_id=uuid.uuid4())
    assert (await refused(notebook.call(accept, stranger))).code == ErrorCode.not_found
    # Before it is accepted, the destination sees no more than the request.
    assert (await refused(notebook.call(c.GetNotebookPageV1(notebook_id=notebook_id),
                                        destination.manager))).code == ErrorCode.not_found
    assert await found(notebook, destination.manager, "Tifour") == []

    await notebook.call(accept, destination.manager)
    assert (await refused(notebook.call(accept, destination.manager))).code == ErrorCode.conflict

    # The destination finds it and opens it, its history kept; the origin's manager and référent get a 404.
    assert await found(notebook, destination.manager, "Tifour") == [notebook_id]
    assert await found(notebook, origin.manager, "Tifour") == []
    page = await notebook.call(c.GetNotebookPageV1(notebook_id=notebook_id), destination.manager)
    old = {e.entry_id for e in before.timeline}
    assert old <= {e.entry_id for e in page.timeline}
    assert any("transféré de Drôme vers Isère" in e.summary for e in page.timeline)
    assert all(m.ended_at is not None for m in page.members)
    for token in (origin.manager, origin.pro):
        answer = await refused(notebook.call(c.GetNotebookPageV1(notebook_id=notebook_id), token))
        assert answer.code == ErrorCode.not_found
    # A professional of the destination may join it now.
    await notebook.call(c.JoinNotebookV1(notebook_id=notebook_id, as_referent=True,
                                         orientation_system_id=destination.orientation_system_id), destination.pro)

    [accepted] = await notebook.events(t.TransferAcceptedV1.subject)
    assert (accepted.deployment_id, accepted.beneficiary_email, accepted.from_label) == (
        destination.deployment_id, "sophie@test.carnet.fr", "Drôme")
    profile = (await notebook.events(BeneficiaryUpdatedV1.subject))[-1]
    assert profile.deployment_id == destination.deployment_id  # identity moves her account
    state = await notebook.call(t.ListTransfersV1(), origin.manager)
    assert [(x.status, x.decided_by_name) for x in state.outgoing] == [(t.TransferStatus.accepted,
                                                                        "Marie Gérante38")]


async def test_an_open_rights_request_moves_with_the_notebook(notebook, token_mint):
    """The destination's managers answer it now (and get its reminders); the origin's no longer list it."""
    origin = await territory(notebook, token_mint, "Drôme", "26")
    destination = await territory(notebook, token_mint, "Isère", "38")
    created = await notebook.call(c.CreateBeneficiaryV1(beneficiary=c.BeneficiaryFields(
        firstname="Sophie", lastname="Rectifiée", date_of_birth=date(1990, 4, 12))), origin.manager)
    her = token_mint.token(Role.beneficiary, deployment_id=origin.deployment_id, profile_id=created.beneficiary_id)
    await notebook.call(r.CreateRightsRequestV1(kind=r.RightsRequestKind.rectification, field="Adresse",
                                                text="J'ai déménagé"), her)
    asked = await notebook.call(t.RequestTransferV1(notebook_id=created.notebook_id, reason="Déménagement",
                                                    to_deployment_id=destination.deployment_id), origin.manager)
    await notebook.call(t.DecideTransferV1(transfer_id=asked.id, accepted=True), destination.manager)

    def listed(reply):
        return [x.notebook_id for x in reply.requests]
    assert listed(await notebook.call(r.ListRightsRequestsV1(), destination.manager)) == [created.notebook_id]
    assert created.notebook_id not in listed(await notebook.call(r.ListRightsRequestsV1(), origin.manager))


async def test_a_transfer_refused_moves_nothing(notebook, token_mint):
    origin = await territory(notebook, token_mint, "Drôme", "26")
    destination = await territory(notebook, token_mint, "Isère", "38")
    notebook_id = await followed(notebook, origin, "Martin")
    asked = await notebook.call(t.RequestTransferV1(notebook_id=notebook_id,
                                                    to_deployment_id=destination.deployment_id,
                                                    reason="Déménagement"), origin.manager)
    no_reason = await refused(notebook.call(t.DecideTransferV1(transfer_id=asked.id, accepted=False),
                                            destination.manager))
    assert no_reason.code == ErrorCode.invalid and no_reason.details["field"] == "reason"
    await notebook.call(t.DecideTransferV1(transfer_id=asked.id, accepted=False,
                                           reason="Adresse inconnue chez nous"), destination.manager)
    assert (await refused(notebook.call(t.DecideTransferV1(transfer_id=asked.id, accepted=True),
                                        destination.manager))).code == ErrorCode.conflict
    [refusal] = await notebook.events(t.TransferRefusedV1.subject)
    assert (refusal.reason, refusal.deployment_id) == ("Adresse inconnue chez nous", origin.deployment_id)
    assert await notebook.events(t.TransferAcceptedV1.subject) == []
    assert await found(notebook, origin.manager, "Martin") == [notebook_id]
    assert await found(notebook, destination.manager, "Martin") == []
    page = await notebook.call(c.GetNotebookPageV1(notebook_id=notebook_id), origin.pro)
    assert any("refusé : Adresse inconnue chez nous" in e.summary for e in page.timeline)
    view = await notebook.call(t.GetNotebookTransfersV1(notebook_id=notebook_id), origin.manager)
    assert [(x.status, x.decision_reason) for x in view.transfers] == [(t.TransferStatus.refused,
                                                                        "Adresse inconnue chez nous")]
    # Once refused, another request may be made.
    await notebook.call(t.RequestTransferV1(notebook_id=notebook_id, to_deployment_id=destination.deployment_id,
                                            reason="Nouvelle adresse confirmée"), origin.manager)


async def test_no_transfer_onto_a_notebook_the_destination_already_holds(notebook, token_mint):
    origin = await territory(notebook, token_mint, "Drôme", "26")
    destination = await territory(notebook, token_mint, "Isère", "38")
    notebook_id = await followed(notebook, origin, "Bernard")
    # The same person (names and birth date) already has a notebook there.
    await notebook.call(c.CreateBeneficiaryV1(beneficiary=c.BeneficiaryFields(
        firstname="Sophie", lastname="Bernard", date_of_birth=date(1990, 4, 12))), destination.manager)
    asked = await notebook.call(t.RequestTransferV1(notebook_id=notebook_id,
                                                    to_deployment_id=destination.deployment_id,
                                                    reason="Déménagement"), origin.manager)
    clash = await refused(notebook.call(t.DecideTransferV1(transfer_id=asked.id, accepted=True), destination.manager))
    assert clash.code == ErrorCode.conflict and "existe déjà" in clash.message
    assert await found(notebook, origin.manager, "Bernard") == [notebook_id]
    assert await notebook.events(t.TransferAcceptedV1.subject) == []
    # Still pending: the destination may refuse it.
    await notebook.call(t.DecideTransferV1(transfer_id=asked.id, accepted=False, reason="Déjà suivie ici"),
                        destination.manager)


async def test_a_referral_opens_the_notebook_until_its_date(notebook, token_mint):
    origin = await territory(notebook, token_mint, "Drôme", "26")
    elsewhere = await territory(notebook, token_mint, "Isère", "38")
    notebook_id = await followed(notebook, origin, "Durand")
    page = c.GetNotebookPageV1(notebook_id=notebook_id)
    assert (await refused(notebook.call(page, elsewhere.pro))).code == ErrorCode.not_found

    until = paris_today() + timedelta(days=10)
    grant = t.GrantReferralV1(notebook_id=notebook_id, email=elsewhere.pro_email.upper(), until=until,
                              reason="Suivi santé à Grenoble")
    assert (await refused(notebook.call(grant, origin.pro))).code == ErrorCode.forbidden
    assert (await refused(notebook.call(grant.model_copy(update={"email": origin.pro_email}),
                                        origin.manager))).code == ErrorCode.invalid
    assert (await refused(notebook.call(grant.model_copy(update={"email": "personne@nulle.part"}),
                                        origin.manager))).code == ErrorCode.invalid
    past = await refused(notebook.call(grant.model_copy(update={"until": paris_today() - timedelta(days=1)}),
                                       origin.manager))
    assert past.code == ErrorCode.invalid and past.details["field"] == "until"
    granted = await notebook.call(grant.model_copy(update={"until": until - timedelta(days=5)}), origin.manager)
    # Invited again while it runs: the same access, until the new date.
    again = await notebook.call(grant, origin.manager)
    assert again.id == granted.id
    event = (await notebook.events(t.ReferralGrantedV1.subject))[-1]
    assert (event.referral_id, event.person_email, event.until, event.territory_label) == (
        granted.id, elsewhere.pro_email, until, "Drôme")

    # Invited: the whole notebook, the group's work, and every view in the access log; the owner stays.
    view = await notebook.call(page, elsewhere.pro)
    assert view.access == c.Access.full
    await notebook.call(c.AddFocusV1(notebook_id=notebook_id, theme="sante"), elsewhere.pro)
    await notebook.written()  # the view, handed over to the access log's writer
    async with notebook.sessions() as session:
        visits = (await session.execute(select(NotebookVisit).where(
            NotebookVisit.notebook_id == notebook_id))).scalars().all()
    assert "Pierre Pro38" in {v.person_name for v in visits}
    assert await found(notebook, origin.manager, "Durand") == [notebook_id]
    assert (await refused(notebook.call(c.InviteMemberV1(notebook_id=notebook_id, person_id=uuid.uuid4()),
                                        elsewhere.pro))).code == ErrorCode.forbidden
    listed = await notebook.call(t.GetNotebookTransfersV1(notebook_id=notebook_id), origin.manager)
    assert [(r.person_name, r.active, r.territory_label, r.until) for r in listed.referrals] == [
        ("Pierre Pro38", True, "Isère", until)]

    # The day after its date, the access is over (read when asked: no job).
    async with notebook.sessions() as session:
        await session.execute(update(NotebookReferral).where(NotebookReferral.id == granted.id)
                              .values(until=paris_today() - timedelta(days=1)))
        await session.commit()
    assert (await refused(notebook.call(page, elsewhere.pro))).code == ErrorCode.not_found
    listed = await notebook.call(t.GetNotebookTransfersV1(notebook_id=notebook_id), origin.manager)
    assert [r.active for r in listed.referrals] == [False]


async def test_reading_a_notebook_s_transfers_is_in_its_access_log(notebook, token_mint):
    origin = await territory(notebook, token_mint, "Drôme", "26")
    notebook_id = await followed(notebook, origin, "Journal")
    await notebook.call(t.GetNotebookTransfersV1(notebook_id=notebook_id), origin.manager)
    assert await access_log_of(notebook, notebook_id) == ([("Marie Gérante26", "manager", 1)], 1)
