"""Bilans d'accompagnement through notebook's broker in memory, on SQLite and PostgreSQL: pre-filled from the notebook
(each objective and action with its progress since the previous bilan), saved by a member with his assessment and
next steps, listed, read and downloaded as a PDF by the beneficiary; who may write one; its event."""
from __future__ import annotations

import base64
import io
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from contracts import bilans as b
from contracts import notebook as c
from contracts.base import ErrorCode
from contracts.directory import OrientationSystemCreatedV1, OrientationType, StructureCreatedV1
from contracts.identity import Role
from contracts.profiles import DeploymentCreatedV1, ManagerCreatedV1, ProfessionalCreatedV1
from notebook.adapters.orm import Action, Bilan, Target, TimelineEvent
from services.notebook.tests.reads import access_log_of
from testkit.handlers import InMemoryService, refused
from testkit.clock import paris_today

pytestmark = pytest.mark.integration


def today() -> date:
    """The service's today: Paris's (an hour or two ahead of UTC around midnight)."""
    return datetime.now(ZoneInfo("Europe/Paris")).date()


@pytest.fixture
async def notebook(service_under_test) -> InMemoryService:
    return await service_under_test("notebook")


@dataclass
class Setting:
    notebook_id: uuid.UUID
    target_id: uuid.UUID
    other_target_id: uuid.UUID
    action_id: uuid.UUID
    manager: str
    referent: str
    colleague: str
    beneficiary: str
    outsider: str


async def prepared(notebook: InMemoryService, token_mint) -> Setting:
    """A territory, a notebook with its référent, an axis with two objectives, one with an action: all made two
    months ago (their dates and history moved back)."""
    territory, structure, system = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    manager_id, pro_id, colleague_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await notebook.deliver(DeploymentCreatedV1(deployment_id=territory, label="Territoire de la Drôme",
                                               department_code="26"))
    await notebook.deliver(OrientationSystemCreatedV1(orientation_system_id=system, deployment_id=territory,
                                                      name="Professionnel", orientation_type=OrientationType.pro))
    await notebook.deliver(StructureCreatedV1(structure_id=structure, deployment_id=territory,
                                              name="Mission Locale", city="Valence"))
    await notebook.deliver(ManagerCreatedV1(profile_id=manager_id, deployment_id=territory, firstname="Marie",
                                            lastname="Gérante", email="marie@test.carnet.fr"))
    for profile_id, firstname in ((pro_id, "Pierre"), (colleague_id, "Simon")):
        await notebook.deliver(ProfessionalCreatedV1(
            profile_id=profile_id, deployment_id=territory, firstname=firstname, lastname="Pro",
            email=f"{firstname.lower()}@test.carnet.fr", structure_ids=[structure], orientation_system_ids=[system]))

    def pro(profile_id):
        return token_mint.token(Role.professional, deployment_id=territory, profile_id=profile_id,
                                structure_ids=[structure])

    manager = token_mint.token(Role.manager, deployment_id=territory, profile_id=manager_id)
    created = await notebook.call(c.CreateBeneficiaryV1(beneficiary=c.BeneficiaryFields(
        firstname="Sophie", lastname="Tifour", date_of_birth=date(1990, 4, 12), email="sophie@test.carnet.fr",
        city="Valence", postal_code="26000")), manager)
    await notebook.call(c.JoinNotebookV1(notebook_id=created.notebook_id, as_referent=True,
                                         orientation_system_id=system), pro(pro_id))
    focus = await notebook.call(c.AddFocusV1(notebook_id=created.notebook_id, theme="emploi"), pro(pro_id))
    target = await notebook.call(c.AddTargetV1(focus_id=focus.id, target="Trouver un emploi de cœur de métier",
                                               linked_to=c.ContractLink.cer, user_consent=True), pro(pro_id))
    action = await notebook.call(c.AddActionV1(target_id=target.id, action="Atelier CV",
                                               status=c.ActionStatus.planned), pro(pro_id))
    other = await notebook.call(c.AddTargetV1(focus_id=focus.id, target="Passer le permis"), pro(pro_id))
    await moved_back(notebook, timedelta(days=60))
    beneficiary = token_mint.token(Role.beneficiary, deployment_id=territory, profile_id=created.beneficiary_id)
    outsider = token_mint.token(Role.manager, deployment_id=uuid.uuid4(), profile_id=uuid.uuid4())
    return Setting(created.notebook_id, target.id, other.id, action.id, manager, pro(pro_id), pro(colleague_id),
                   beneficiary, outsider)


async def moved_back(notebook: InMemoryService, by: timedelta) -> None:
    """What the notebook holds, as if made ``by`` earlier."""
    async with notebook.sessions.begin() as session:
        for row in (await session.execute(select(Target))).scalars():
            row.created_at -= by
        for row in (await session.execute(select(Action))).scalars():
            row.created_at -= by
        for row in (await session.execute(select(TimelineEvent))).scalars():
            row.occurred_at -= by


def by_target(draft) -> dict[str, b.BilanObjective]:
    return {o.target: o for o in draft.objectives}


async def test_a_bilan_gathers_the_progress_since_the_previous_one(notebook, token_mint):
    s = await prepared(notebook, token_mint)
    first_day = today() - timedelta(days=30)

    # The first bilan: every objective and action of the notebook, new since the beginning, none typed.
    draft = await notebook.call(b.PrepareBilanV1(notebook_id=s.notebook_id, bilan_date=first_day), s.referent)
    assert draft.previous_date is None and draft.bilan_date == first_day
    objectives = by_target(draft)
    assert set(objectives) == {"Trouver un emploi de cœur de métier", "Passer le permis"}
    job = objectives["Trouver un emploi de cœur de métier"]
    assert (job.theme_label, job.status_label, job.new) == ("Emploi", "en cours", True)
    assert [(a.action, a.status_label) for a in job.actions] == [("Atelier CV", "en projet")]
    first = await notebook.call(b.CreateBilanV1(notebook_id=s.notebook_id, bilan_date=first_day,
                                                assessment="Démarrage de l'accompagnement",
                                                next_steps="Atelier CV"), s.referent)
    [event] = await notebook.events(b.BilanCreatedV1.subject)
    assert (event.bilan_id, event.bilan_date, event.beneficiary_email, event.referent_email, event.author_name) == (
        first.id, first_day, "sophie@test.carnet.fr", "pierre@test.carnet.fr", "Pierre Pro")

    # Since then: the action started, the other objective reached, a new action.
    await notebook.call(c.UpdateActionV1(action_id=s.action_id, version=1, status=c.ActionStatus.in_progress),
                        s.referent)
    await notebook.call(c.UpdateTargetV1(target_id=s.other_target_id, version=1, status=c.TargetStatus.done,
                                         linked_to=c.ContractLink.no), s.referent)
    await notebook.call(c.AddActionV1(target_id=s.target_id, action="Simulation d'entretien"), s.referent)

    draft = await notebook.call(b.PrepareBilanV1(notebook_id=s.notebook_id), s.referent)
    assert (draft.bilan_date, draft.previous_date) == (today(), first_day)
    objectives = by_target(draft)
    job, licence = objectives["Trouver un emploi de cœur de métier"], objectives["Passer le permis"]
    assert (job.new, job.progress) == (False, "Sans changement")
    assert [(a.action, a.previous_status_label, a.status_label, a.new, a.progress) for a in job.actions] == [
        ("Atelier CV", "en projet", "en cours", False, "en projet → en cours"),
        ("Simulation d'entretien", "", "en cours", True, "Nouveau depuis le dernier bilan")]
    assert [(ch.day, ch.before, ch.after) for ch in job.actions[0].changes] == [
        (today(), "en projet", "en cours")]
    assert (licence.previous_status_label, licence.status_label, licence.progress) == (
        "en cours", "réalisé", "en cours → réalisé")

    # The previous bilan's content stays as it was.
    old = await notebook.call(b.GetBilanV1(bilan_id=first.id), s.beneficiary)
    assert [a.status_label for a in by_target(old)["Trouver un emploi de cœur de métier"].actions] == ["en projet"]

    second = await notebook.call(b.CreateBilanV1(notebook_id=s.notebook_id, assessment="Bonne dynamique",
                                                 next_steps="Trois candidatures par semaine"), s.referent)

    # The beneficiary reads them from her login (no id: her own notebook), newest first, and the PDF.
    mine = await notebook.call(b.ListBilansV1(), s.beneficiary)
    assert [x.bilan_id for x in mine.bilans] == [second.id, first.id] and mine.allowed == []
    assert (await notebook.call(b.ListBilansV1(notebook_id=s.notebook_id), s.referent)).allowed == ["write_bilan"]
    view = await notebook.call(b.GetBilanV1(bilan_id=second.id), s.beneficiary)
    assert (view.assessment, view.next_steps, view.created_by_name, view.previous_date) == (
        "Bonne dynamique", "Trois candidatures par semaine", "Pierre Pro", first_day)
    assert view.territory_name == "Territoire de la Drôme" and view.beneficiary_name == "Sophie Tifour"
    pdf = await notebook.call(b.GetBilanPdfV1(bilan_id=second.id), s.beneficiary)
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(base64.b64decode(pdf.pdf_base64))).pages)
    for expected in ("Territoire de la Drôme", "Bilan d'accompagnement", f"depuis le bilan du {first_day:%d/%m/%Y}",
                     "Sophie Tifour", "Trouver un emploi de cœur de métier", "Atelier CV", "en projet → en cours",
                     "Bonne dynamique", "Trois candidatures par semaine", "Pierre Pro"):
        assert expected in text, expected
    page = await notebook.call(c.GetNotebookPageV1(), s.beneficiary)
    assert [x.bilan_id for x in page.bilans] == [second.id, first.id]
    # The territory's manager reads it too.
    assert (await notebook.call(b.GetBilanV1(bilan_id=first.id), s.manager)).bilan_id == first.id


async def test_who_may_write_a_bilan_and_bad_input_changes_nothing(notebook, token_mint):
    s = await prepared(notebook, token_mint)
    fields = dict(notebook_id=s.notebook_id, assessment="Point d'étape")
    for token in (s.beneficiary, s.colleague, s.manager, s.outsider):  # read only, or not a member
        failure = await refused(notebook.call(b.CreateBilanV1(**fields), token))
        assert failure.code in (ErrorCode.forbidden, ErrorCode.not_found)
        failure = await refused(notebook.call(b.PrepareBilanV1(notebook_id=s.notebook_id), token))
        assert failure.code in (ErrorCode.forbidden, ErrorCode.not_found)

    empty = await refused(notebook.call(b.CreateBilanV1(notebook_id=s.notebook_id, assessment="  "), s.referent))
    assert empty.code == ErrorCode.invalid and empty.details["field"] == "assessment"
    future = await refused(notebook.call(b.CreateBilanV1(**fields, bilan_date=today() + timedelta(days=1)),
                                         s.referent))
    assert future.code == ErrorCode.invalid and "futur" in future.message

    done = await notebook.call(b.CreateBilanV1(**fields), s.referent)
    again = await refused(notebook.call(b.CreateBilanV1(**fields), s.referent))
    assert again.code == ErrorCode.invalid and again.details["field"] == "bilan_date"
    before = await refused(notebook.call(b.CreateBilanV1(**fields, bilan_date=today() - timedelta(days=3)),
                                         s.referent))
    assert before.code == ErrorCode.invalid
    async with notebook.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Bilan).where(
            Bilan.notebook_id == s.notebook_id)) == 1
    assert len(await notebook.events(b.BilanCreatedV1.subject)) == 1

    # Out of reach: another territory's manager, an unknown bilan.
    assert (await refused(notebook.call(b.GetBilanV1(bilan_id=done.id), s.outsider))).code in (
        ErrorCode.forbidden, ErrorCode.not_found)
    assert (await refused(notebook.call(b.GetBilanV1(bilan_id=uuid.uuid4()), s.referent))).code == \
        ErrorCode.not_found
    assert (await refused(notebook.call(b.GetBilanPdfV1(bilan_id=done.id), s.colleague))).code in (
        ErrorCode.forbidden, ErrorCode.not_found)


async def test_a_bilan_read_by_its_address_is_in_the_access_log_and_the_audit_trail(notebook, token_mint):
    s = await prepared(notebook, token_mint)
    done = await notebook.call(b.CreateBilanV1(notebook_id=s.notebook_id, assessment="Bonne dynamique"),
                               s.referent)
    await notebook.call(b.GetBilanV1(bilan_id=done.id), s.manager)
    await notebook.call(b.GetBilanPdfV1(bilan_id=done.id), s.referent)
    await notebook.call(b.GetBilanV1(bilan_id=done.id), s.beneficiary)
    assert await access_log_of(notebook, s.notebook_id) == (
        [("Marie Gérante", "manager", 1), ("Pierre Pro", "professional", 1)], 2)
