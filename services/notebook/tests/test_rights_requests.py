"""The beneficiary's rights through notebook's broker in memory, on SQLite and PostgreSQL: her data downloaded (JSON
sections, the PDF), a rectification asked and answered by her référent, an objection answered by a manager, each in
the history; who sees and answers them (another beneficiary, another territory: not found); the nightly reminder of
the requests due soon or late, once a day, with a clock of our own."""
from __future__ import annotations

import base64
import io
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from contracts import notebook as c
from contracts import rights as r
from contracts.base import ErrorCode
from contracts.exchanges import PostExchangeV1
from contracts.directory import OrientationSystemCreatedV1, OrientationType, StructureCreatedV1
from contracts.identity import Role
from contracts.profiles import DeploymentCreatedV1, ManagerCreatedV1, ProfessionalCreatedV1
from notebook.adapters.orm import RightsRequest, TimelineEvent
from notebook.domain import rights as rules
from notebook.handlers import rights_requests
from notebook.handlers.deps import Deps
from testkit.clock import PARIS, paris_today
from testkit.handlers import InMemoryService, refused

pytestmark = pytest.mark.integration


@pytest.fixture
async def notebook(service_under_test) -> InMemoryService:
    return await service_under_test("notebook")


@dataclass
class Setting:
    notebook_id: uuid.UUID
    manager: str
    referent: str
    colleague: str
    beneficiary: str
    other_beneficiary: str
    outsider: str


async def prepared(notebook: InMemoryService, token_mint) -> Setting:
    territory, structure, system = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    manager_id, pro_id, colleague_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    suffix = uuid.uuid4().hex[:6]
    await notebook.deliver(DeploymentCreatedV1(deployment_id=territory, label="Territoire de la Drôme",
                                               department_code="26"))
    await notebook.deliver(OrientationSystemCreatedV1(orientation_system_id=system, deployment_id=territory,
                                                      name="Professionnel", orientation_type=OrientationType.pro))
    await notebook.deliver(StructureCreatedV1(structure_id=structure, deployment_id=territory,
                                              name="Mission Locale", city="Valence"))
    await notebook.deliver(ManagerCreatedV1(profile_id=manager_id, deployment_id=territory, firstname="Marie",
                                            lastname="Gérante", email=f"marie.{suffix}@test.carnet.fr"))
    for profile_id, firstname in ((pro_id, "Pierre"), (colleague_id, "Simon")):
        await notebook.deliver(ProfessionalCreatedV1(
            profile_id=profile_id, deployment_id=territory, firstname=firstname, lastname="Pro",
            email=f"{firstname.lower()}.{suffix}@test.carnet.fr", structure_ids=[structure],
            orientation_system_ids=[system]))

    def pro(profile_id):
        return token_mint.token(Role.professional, deployment_id=territory, profile_id=profile_id,
                                structure_ids=[structure])

    manager = token_mint.token(Role.manager, deployment_id=territory, profile_id=manager_id)
    created = await notebook.call(c.CreateBeneficiaryV1(beneficiary=c.BeneficiaryFields(
        firstname="Sophie", lastname="Tifour", date_of_birth=date(1990, 4, 12), email=f"sophie.{suffix}@test.carnet.fr",
        city="Valence",
        postal_code="26000")), manager)
    other = await notebook.call(c.CreateBeneficiaryV1(beneficiary=c.BeneficiaryFields(
        firstname="Simon", lastname="Autre", date_of_birth=date(1985, 1, 2), city="Valence", postal_code="26000")), manager)
    await notebook.call(c.JoinNotebookV1(notebook_id=created.notebook_id, as_referent=True,
                                         orientation_system_id=system), pro(pro_id))
    await notebook.call(c.JoinNotebookV1(notebook_id=created.notebook_id, as_referent=False), pro(colleague_id))
    await notebook.call(c.AddFocusV1(notebook_id=created.notebook_id, theme="emploi"), pro(pro_id))
    return Setting(
        created.notebook_id, manager, pro(pro_id), pro(colleague_id),
        token_mint.token(Role.beneficiary, deployment_id=territory, profile_id=created.beneficiary_id),
        token_mint.token(Role.beneficiary, deployment_id=territory, profile_id=other.beneficiary_id),
        token_mint.token(Role.manager, deployment_id=uuid.uuid4(), profile_id=uuid.uuid4()))


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


async def test_she_downloads_what_the_notebook_holds_about_her(notebook, token_mint):
    s = await prepared(notebook, token_mint)
    for text, shared in (("Rendez-vous confirmé avec Sophie", True), ("Note entre nous", False)):
        await notebook.call(PostExchangeV1(notebook_id=s.notebook_id, text=text, shared_with_beneficiary=shared),
                            s.referent)
    data = await notebook.call(r.GetNotebookSubjectDataV1(), s.beneficiary)
    sections = {section.key: section for section in data.sections}
    assert {"identity", "diagnostic", "members", "parcours", "appointments", "contracts", "bilans", "history",
            "access_log", "rights_requests", "orientation"} <= set(sections)
    assert sections["identity"].data["firstname"] == "Sophie" and sections["identity"].data["lastname"] == "Tifour"
    assert [m["person"]["firstname"] for m in sections["members"].data["membres"]] == ["Pierre", "Simon"]
    assert sections["parcours"].data[0]["theme_label"] == "Emploi"
    assert any(entry["auteur"] == "Pierre Pro" for entry in sections["history"].data)
    assert [m["message"] for m in sections["exchanges"].data] == ["Rendez-vous confirmé avec Sophie"]
    assert sections["external_data"].data == [] and sections["moves"].data["transferts"] == []

    # The PDF: her sections and those another service answered her, readable, in French.
    pdf = await notebook.call(r.RenderSubjectDataPdfV1(sections=[r.SubjectDataSection(
        service="identity", key="account", title="Votre compte", data={"email": "sophie@exemple.fr"})]),
        s.beneficiary)
    text = pdf_text(base64.b64decode(pdf.pdf_base64))
    for expected in ("Mes données personnelles", "Sophie Tifour", "Territoire de la Drôme",
                     "Identité, coordonnées et droits", "Prénom : Sophie", "Groupe de suivi et structures",
                     "Pierre", "Votre compte", "Courriel : sophie@exemple.fr",
                     "Messages des professionnels partagés avec vous", "Rendez-vous confirmé avec Sophie"):
        assert expected in text, expected

    # Only from her own login: a professional, a manager cannot ask it for her.
    for token in (s.referent, s.manager):
        assert (await refused(notebook.call(r.GetNotebookSubjectDataV1(), token))).code == ErrorCode.forbidden
        assert (await refused(notebook.call(r.RenderSubjectDataPdfV1(), token))).code == ErrorCode.forbidden


async def test_a_rectification_is_answered_by_her_referent(notebook, token_mint):
    s = await prepared(notebook, token_mint)
    asked = await notebook.call(r.CreateRightsRequestV1(
        kind=r.RightsRequestKind.rectification, field="Adresse", text="Mon adresse a changé",
        wanted="12 rue des Lilas, 26000 Valence"), s.beneficiary)
    [created] = await notebook.events(r.RightsRequestCreatedV1.subject)
    assert created.request_id == asked.id and created.beneficiary_name == "Sophie Tifour"
    assert created.due_on == rules.add_one_month(paris_today())
    assert created.recipients[0].startswith("pierre.") and created.recipients[1].startswith("marie.")

    # Hers, the référent's and the manager's lists; not the colleague's (a member, not the référent), not another
    # beneficiary's nor another territory's.
    mine = await notebook.call(r.ListRightsRequestsV1(), s.beneficiary)
    [view] = mine.requests
    assert (view.field, view.text, view.wanted, view.state, view.overdue) == (
        "Adresse", "Mon adresse a changé", "12 rue des Lilas, 26000 Valence", r.RightsRequestState.open, False)
    assert not mine.may_answer
    assert [v.request_id for v in (await notebook.call(
        r.ListRightsRequestsV1(notebook_id=s.notebook_id), s.referent)).requests] == [asked.id]
    assert [v.beneficiary_name for v in (await notebook.call(
        r.ListRightsRequestsV1(open_only=True), s.manager)).requests] == ["Sophie Tifour"]
    assert [v.request_id for v in (await notebook.call(r.ListRightsRequestsV1(), s.referent)).requests] == [asked.id]
    assert (await notebook.call(r.ListRightsRequestsV1(), s.other_beneficiary)).requests == []
    assert (await refused(notebook.call(r.ListRightsRequestsV1(notebook_id=s.notebook_id),
                                        s.other_beneficiary))).code == ErrorCode.not_found
    assert (await refused(notebook.call(r.ListRightsRequestsV1(notebook_id=s.notebook_id),
                                        s.outsider))).code == ErrorCode.not_found
    assert (await notebook.call(r.ListRightsRequestsV1(), s.outsider)).requests == []
    assert (await refused(notebook.call(r.ListRightsRequestsV1(notebook_id=s.notebook_id),
                                        s.colleague))).code == ErrorCode.forbidden

    # Answering: not her, not another territory, not the colleague; an empty answer refused; the référent's kept.
    answer = r.AnswerRightsRequestV1(request_id=asked.id, accepted=True, answer="Adresse corrigée dans le carnet.")
    for token, code in ((s.beneficiary, ErrorCode.not_found), (s.other_beneficiary, ErrorCode.not_found),
                        (s.outsider, ErrorCode.not_found), (s.colleague, ErrorCode.not_found)):
        assert (await refused(notebook.call(answer, token))).code == code
    blank = await refused(notebook.call(answer.model_copy(update={"answer": "  "}), s.referent))
    assert blank.code == ErrorCode.invalid and blank.message == rules.ANSWER_NEEDED
    await notebook.call(answer, s.referent)
    again = await refused(notebook.call(answer, s.manager))
    assert again.code == ErrorCode.invalid and again.message == rules.ALREADY_ANSWERED
    [answered] = await notebook.events(r.RightsRequestAnsweredV1.subject)
    assert answered.accepted and answered.beneficiary_email.startswith("sophie.")
    [view] = (await notebook.call(r.ListRightsRequestsV1(), s.beneficiary)).requests
    assert (view.state, view.answer, view.answered_by_name) == (
        r.RightsRequestState.accepted, "Adresse corrigée dans le carnet.", "Pierre Pro")

    # The trail: the request and its answer in the notebook's history.
    async with notebook.sessions() as session:
        trail = (await session.execute(select(TimelineEvent.summary, TimelineEvent.author_name).where(
            TimelineEvent.notebook_id == s.notebook_id, TimelineEvent.kind == "rights_request")
            .order_by(TimelineEvent.occurred_at))).all()
    assert [tuple(t) for t in trail] == [
        (f"Demande de rectification : Adresse (réponse attendue avant le {created.due_on:%d/%m/%Y})",
         "Sophie Tifour"),
        ("Demande de rectification acceptée", "Pierre Pro")]


async def test_an_objection_is_answered_by_a_manager(notebook, token_mint):
    s = await prepared(notebook, token_mint)
    empty = await refused(notebook.call(r.CreateRightsRequestV1(kind=r.RightsRequestKind.objection, text=" "),
                                        s.beneficiary))
    assert empty.code == ErrorCode.invalid and empty.message == rules.TEXT_NEEDED[r.RightsRequestKind.objection]
    assert (await refused(notebook.call(r.CreateRightsRequestV1(
        kind=r.RightsRequestKind.objection, text="Je ne veux pas"), s.referent))).code == ErrorCode.forbidden
    asked = await notebook.call(r.CreateRightsRequestV1(
        kind=r.RightsRequestKind.objection, text="Je refuse le suivi de mes rendez-vous"), s.beneficiary)
    [created] = await notebook.events(r.RightsRequestCreatedV1.subject)
    assert [e.split(".")[0] for e in created.recipients] == ["marie"]  # an objection: the managers only
    refusal = r.AnswerRightsRequestV1(request_id=asked.id, accepted=False, answer="Le suivi est une obligation RSA.")
    assert (await refused(notebook.call(refusal, s.referent))).code == ErrorCode.forbidden
    await notebook.call(refusal, s.manager)
    [view] = (await notebook.call(r.ListRightsRequestsV1(), s.beneficiary)).requests
    assert (view.kind, view.state, view.answered_by_name) == (
        r.RightsRequestKind.objection, r.RightsRequestState.refused, "Marie Gérante")


async def test_requests_due_soon_or_late_are_reminded_once_a_day(notebook, token_mint):
    s = await prepared(notebook, token_mint)
    asked = await notebook.call(r.CreateRightsRequestV1(
        kind=r.RightsRequestKind.rectification, field="Nom", text="Mon nom est mal écrit", wanted="Tifour-Ali"),
        s.beneficiary)
    # Noon in Paris today: "an hour later" stays the same day (from 23:00 in Paris it was the next, reminded again).
    now = datetime.combine(paris_today(), time(12), tzinfo=PARIS)

    def deps_at(moment: datetime) -> Deps:
        return Deps(sessions=notebook.sessions, outbox=notebook.service.outbox, settings=None, verifier=None,
                    protection=None, clock=lambda: moment)

    async def reminders() -> list[r.RightsRequestsDueV1]:
        return [e for e in await notebook.events(r.RightsRequestsDueV1.subject) if e.request_id == asked.id]

    assert await rights_requests.remind_due(deps_at(now + timedelta(days=10))) == 0  # due in about 20 days
    assert await reminders() == []
    assert await rights_requests.remind_due(deps_at(now + timedelta(days=25))) >= 1  # due within a week
    assert await rights_requests.remind_due(deps_at(now + timedelta(days=25, hours=1))) == 0  # that day: done
    [soon] = await reminders()
    assert not soon.overdue and soon.recipients[0].startswith("pierre.")
    await rights_requests.remind_due(deps_at(now + timedelta(days=40)))  # late, another day: reminded again
    [_, late] = await reminders()
    assert late.overdue
    [view] = (await notebook.call(r.ListRightsRequestsV1(), s.beneficiary)).requests
    assert not view.overdue  # today it is not late

    # Answered: never reminded again.
    await notebook.call(r.AnswerRightsRequestV1(request_id=asked.id, accepted=True, answer="Nom corrigé."),
                        s.referent)
    await rights_requests.remind_due(deps_at(now + timedelta(days=41)))
    assert len(await reminders()) == 2


def test_the_due_date_is_one_month_later():

    assert rules.add_one_month(date(2026, 1, 31)) == date(2026, 2, 28)
    assert rules.add_one_month(date(2026, 12, 15)) == date(2027, 1, 15)
    assert rules.to_remind("open", date(2026, 1, 8), date(2026, 1, 1), None)
    assert not rules.to_remind("open", date(2026, 1, 9), date(2026, 1, 1), None)
    assert not rules.to_remind("open", date(2026, 1, 1), date(2026, 1, 1), date(2026, 1, 1))
    assert not rules.to_remind("accepted", date(2026, 1, 1), date(2026, 1, 3), None)


async def test_the_managers_list_puts_the_late_requests_first(notebook, token_mint):
    s = await prepared(notebook, token_mint)
    first = await notebook.call(r.CreateRightsRequestV1(
        kind=r.RightsRequestKind.rectification, field="Téléphone", text="Ancien numéro"), s.beneficiary)
    late = await notebook.call(r.CreateRightsRequestV1(
        kind=r.RightsRequestKind.objection, text="Je m'oppose"), s.beneficiary)
    async with notebook.sessions.begin() as session:  # received two months ago: past its due date
        row = await session.get(RightsRequest, late.id)
        row.due_on = paris_today() - timedelta(days=20)
    listed = (await notebook.call(r.ListRightsRequestsV1(open_only=True), s.manager)).requests
    assert [(v.request_id, v.overdue) for v in listed] == [(late.id, True), (first.id, False)]
    await notebook.call(r.AnswerRightsRequestV1(request_id=late.id, accepted=False, answer="Refusée."), s.manager)
    assert [v.request_id for v in (await notebook.call(r.ListRightsRequestsV1(open_only=True), s.manager)).requests
            ] == [first.id]
    assert [v.request_id for v in (await notebook.call(r.ListRightsRequestsV1(), s.manager)).requests
            ] == [first.id, late.id]  # the open ones first
