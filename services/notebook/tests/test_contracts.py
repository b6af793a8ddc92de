"""The CER through notebook's broker in memory, on SQLite and PostgreSQL: a draft pre-filled from the notebook, edited
by the référent and the beneficiary (every save a version, a stale one refused), submitted, returned then validated
by the territory, signed by the beneficiary, its PDF, its end and renewal, the other contracts, its events."""
from __future__ import annotations

import base64
import io
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from pypdf import PdfReader

from contracts import notebook as c
from contracts.base import ErrorCode
from contracts.directory import OrientationSystemCreatedV1, OrientationType, StructureCreatedV1
from contracts.identity import Role
from contracts.profiles import DeploymentCreatedV1, ManagerCreatedV1, ProfessionalCreatedV1
from services.notebook.tests.reads import access_log_of
from testkit.handlers import InMemoryService, refused
from testkit.clock import paris_today

pytestmark = pytest.mark.integration


@pytest.fixture
async def notebook(service_under_test) -> InMemoryService:
    return await service_under_test("notebook")


@dataclass
class Cer:
    notebook_id: uuid.UUID
    manager: str
    referent: str
    colleague: str
    beneficiary: str
    outsider: str


async def prepared(notebook: InMemoryService, token_mint) -> Cer:
    """A territory announced by directory, a notebook with its référent, an axis, an objective linked to the CER
    with an action, and another objective that is not."""
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
    await notebook.call(c.AddActionV1(target_id=target.id, action="Atelier CV"), pro(pro_id))
    await notebook.call(c.AddTargetV1(focus_id=focus.id, target="Passer le permis"), pro(pro_id))
    beneficiary = token_mint.token(Role.beneficiary, deployment_id=territory, profile_id=created.beneficiary_id)
    outsider = token_mint.token(Role.manager, deployment_id=uuid.uuid4(), profile_id=uuid.uuid4())
    return Cer(created.notebook_id, manager, pro(pro_id), pro(colleague_id), beneficiary, outsider)


async def test_a_cer_from_draft_to_signed_pdf(notebook, token_mint):
    cer = await prepared(notebook, token_mint)
    draft = await notebook.call(c.CreateContractDraftV1(notebook_id=cer.notebook_id), cer.referent)
    view = await notebook.call(c.GetContractV1(contract_id=draft.id), cer.beneficiary)
    # Pre-filled from the notebook: identity and the objective linked to the CER with its action, not the other.
    assert (view.status, view.content.firstname, view.content.lastname) == (c.ContractStatus.draft, "Sophie", "Tifour")
    assert [(o.theme_label, o.target, [a.action for a in o.actions]) for o in view.content.objectives] == [
        ("Emploi", "Trouver un emploi de cœur de métier", ["Atelier CV"])]
    assert view.territory_name == "Territoire de la Drôme"
    [created] = await notebook.events(c.ContractCreatedV1.subject)
    assert (created.contract_id, created.beneficiary_email, created.referent_email) == (
        draft.id, "sophie@test.carnet.fr", "pierre@test.carnet.fr")

    # A second draft while one is in progress: refused.
    again = await refused(notebook.call(c.CreateContractDraftV1(notebook_id=cer.notebook_id), cer.referent))
    assert again.code == ErrorCode.conflict

    start, end = paris_today(), paris_today() + timedelta(days=180)
    saved = await notebook.call(c.UpdateContractV1(
        contract_id=draft.id, version=draft.version, start_date=start, end_date=end,
        referent_commitments="Un rendez-vous par mois"), cer.referent)
    # The beneficiary writes her part from her own login; the référent's stale save is refused in French.
    mine = await notebook.call(c.UpdateContractV1(
        contract_id=draft.id, version=saved.version, start_date=start, end_date=end,
        referent_commitments="Un rendez-vous par mois", beneficiary_commitments="Chercher trois offres par semaine"),
        cer.beneficiary)
    stale = await refused(notebook.call(c.UpdateContractV1(
        contract_id=draft.id, version=saved.version, start_date=start, end_date=end), cer.referent))
    assert stale.code == ErrorCode.conflict and "modifié" in stale.message
    backwards = await refused(notebook.call(c.UpdateContractV1(
        contract_id=draft.id, version=mine.version, start_date=end, end_date=start), cer.referent))
    assert backwards.code == ErrorCode.invalid and backwards.details["field"] == "end_date"

    # Nothing is validated before being submitted; nobody but the territory validates; the beneficiary cannot submit.
    early = await refused(notebook.call(c.DecideContractV1(contract_id=draft.id, version=mine.version,
                                                           validated=True), cer.manager))
    assert early.code == ErrorCode.conflict
    assert (await refused(notebook.call(c.SubmitContractV1(contract_id=draft.id, version=mine.version),
                                        cer.beneficiary))).code == ErrorCode.forbidden
    submitted = await notebook.call(c.SubmitContractV1(contract_id=draft.id, version=mine.version), cer.referent)
    [event] = await notebook.events(c.ContractSubmittedV1.subject)
    assert event.validator_emails == ["marie@test.carnet.fr"]
    assert (await refused(notebook.call(c.DecideContractV1(contract_id=draft.id, version=submitted.version,
                                                           validated=True), cer.referent))).code == ErrorCode.forbidden
    assert (await refused(notebook.call(c.DecideContractV1(contract_id=draft.id, version=submitted.version,
                                                           validated=True), cer.outsider))).code == ErrorCode.not_found
    to_validate = await notebook.call(c.ListContractsToValidateV1(), cer.manager)
    assert [t.contract_id for t in to_validate.contracts] == [draft.id]

    # Returned with a reason, back to draft, submitted again, validated.
    no_reason = await refused(notebook.call(c.DecideContractV1(contract_id=draft.id, version=submitted.version,
                                                               validated=False), cer.manager))
    assert no_reason.code == ErrorCode.invalid
    returned = await notebook.call(c.DecideContractV1(contract_id=draft.id, version=submitted.version,
                                                      validated=False, comment="Préciser les engagements"),
                                   cer.manager)
    assert len(await notebook.events(c.ContractReturnedV1.subject)) == 1
    view = await notebook.call(c.GetContractV1(contract_id=draft.id), cer.referent)
    assert (view.status, view.return_reason) == (c.ContractStatus.draft, "Préciser les engagements")
    resubmitted = await notebook.call(c.SubmitContractV1(contract_id=draft.id, version=returned.version),
                                      cer.referent)
    validated = await notebook.call(c.DecideContractV1(contract_id=draft.id, version=resubmitted.version,
                                                       validated=True, comment="Bon contrat"), cer.manager)
    [event] = await notebook.events(c.ContractValidatedV1.subject)
    assert event.decided_on == paris_today()

    # The référent cannot sign for her online; she signs from her login.
    in_person_undated = await refused(notebook.call(c.SignContractV1(contract_id=draft.id,
                                                                     version=validated.version), cer.referent))
    assert in_person_undated.code == ErrorCode.invalid
    signed = await notebook.call(c.SignContractV1(contract_id=draft.id, version=validated.version), cer.beneficiary)
    [event] = await notebook.events(c.ContractSignedV1.subject)
    assert (event.in_person, event.signed_on, event.referent_email) == (False, paris_today(), "pierre@test.carnet.fr")
    view = await notebook.call(c.GetContractV1(contract_id=draft.id), cer.referent)
    assert view.status == c.ContractStatus.signed and view.active and view.version == signed.version
    # Every version is kept with its author.
    assert [(v.version, v.author_name) for v in view.versions][:2] == [
        (signed.version, "Sophie Tifour"), (validated.version, "Marie Gérante")]
    assert [v.author_name for v in view.versions][-3:] == ["Sophie Tifour", "Pierre Pro", "Pierre Pro"]
    page = await notebook.call(c.GetNotebookPageV1(notebook_id=cer.notebook_id), cer.referent)
    assert [(s.contract_id, s.active) for s in page.contracts] == [(draft.id, True)]

    pdf = await notebook.call(c.GetContractPdfV1(contract_id=draft.id), cer.beneficiary)
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(base64.b64decode(pdf.pdf_base64))).pages)
    for expected in ("Territoire de la Drôme", "Contrat d'Engagement Réciproque", "Sophie Tifour",
                     "Trouver un emploi de cœur de métier", "Atelier CV", "Chercher trois offres par semaine",
                     "signé en ligne par le bénéficiaire", "Validé le"):
        assert expected in text, expected
    assert (await refused(notebook.call(c.GetContractPdfV1(contract_id=draft.id), cer.outsider))).code \
        == ErrorCode.not_found
    assert (await refused(notebook.call(c.GetContractV1(contract_id=draft.id), cer.colleague))).code \
        == ErrorCode.forbidden  # not a member of the group

    # Renewed: a new draft from it, starting the day after it ends; signed, the renewed one is over.
    renewal = await notebook.call(c.CreateContractDraftV1(notebook_id=cer.notebook_id, renewed_from=draft.id),
                                  cer.referent)
    renewed_view = await notebook.call(c.GetContractV1(contract_id=renewal.id), cer.referent)
    assert renewed_view.start_date == end + timedelta(days=1)
    assert renewed_view.content.beneficiary_commitments == "Chercher trois offres par semaine"
    version = (await notebook.call(c.SubmitContractV1(contract_id=renewal.id, version=renewal.version),
                                   cer.referent)).version
    version = (await notebook.call(c.DecideContractV1(contract_id=renewal.id, version=version, validated=True),
                                   cer.manager)).version
    await notebook.call(c.SignContractV1(contract_id=renewal.id, version=version, signed_on=paris_today()),
                        cer.referent)
    view = await notebook.call(c.GetContractV1(contract_id=draft.id), cer.referent)
    assert view.status == c.ContractStatus.renewed
    [ended] = await notebook.events(c.ContractEndedV1.subject)
    assert ended.renewed and ended.contract_id == draft.id


async def test_the_draft_takes_the_diagnostic_situations_but_no_health_one(notebook, token_mint):
    """The CER page tells not to write health information in the contract: its draft must not copy it in from the
    diagnostic (« Existence d'un dossier MDPH » was, found by the walk of the demo)."""
    cer = await prepared(notebook, token_mint)
    housing, mdph = (uuid.UUID("377e9f42-3925-4b5e-b852-7c27f9706fb0"),  # logement: Besoin d'adapter le logement
                     uuid.UUID("97d3b29f-417f-42ae-b22f-728d4d8a3cb1"))  # santé: Existence d'un dossier MDPH
    page = await notebook.call(c.GetNotebookPageV1(notebook_id=cer.notebook_id), cer.referent)
    await notebook.call(c.UpdateDiagnosticV1(notebook_id=cer.notebook_id, version=page.diagnostic.version,
                                             diagnostic=c.DiagnosticFields(situation_ids=[housing, mdph])),
                        cer.referent)
    draft = await notebook.call(c.CreateContractDraftV1(notebook_id=cer.notebook_id), cer.referent)
    view = await notebook.call(c.GetContractV1(contract_id=draft.id), cer.referent)
    assert view.content.situations == ["Besoin d'adapter le logement"]


async def test_no_two_cer_in_force_and_the_end_of_one(notebook, token_mint):
    cer = await prepared(notebook, token_mint)

    async def signed_cer(start: date, end: date):
        draft = await notebook.call(c.CreateContractDraftV1(notebook_id=cer.notebook_id), cer.referent)
        version = (await notebook.call(c.UpdateContractV1(contract_id=draft.id, version=draft.version,
                                                          start_date=start, end_date=end), cer.referent)).version
        version = (await notebook.call(c.SubmitContractV1(contract_id=draft.id, version=version),
                                       cer.referent)).version
        version = (await notebook.call(c.DecideContractV1(contract_id=draft.id, version=version, validated=True),
                                       cer.manager)).version
        return draft.id, version

    first, version = await signed_cer(paris_today(), paris_today() + timedelta(days=90))
    signed = await notebook.call(c.SignContractV1(contract_id=first, version=version), cer.beneficiary)
    second, version2 = await signed_cer(paris_today() + timedelta(days=30), paris_today() + timedelta(days=200))
    overlap = await refused(notebook.call(c.SignContractV1(contract_id=second, version=version2), cer.beneficiary))
    assert overlap.code == ErrorCode.conflict and "un seul CER" in overlap.message

    ending = await notebook.call(c.ListContractsEndingV1(from_date=paris_today(),
                                                        until=paris_today() + timedelta(days=30)), None)
    assert ending.contracts == []
    ending = await notebook.call(c.ListContractsEndingV1(from_date=paris_today() + timedelta(days=60),
                                                        until=paris_today() + timedelta(days=90)), None)
    assert [(e.contract_id, e.referent_email) for e in ending.contracts] == [(first, "pierre@test.carnet.fr")]

    await notebook.call(c.EndContractV1(contract_id=first, version=signed.version, reason="Reprise d'emploi"),
                        cer.referent)
    [ended] = await notebook.events(c.ContractEndedV1.subject)
    assert (ended.contract_id, ended.renewed) == (first, False)
    view = await notebook.call(c.GetContractV1(contract_id=first), cer.beneficiary)
    assert (view.status, view.end_date, view.active) == (c.ContractStatus.ended, paris_today(), False)


async def test_other_contracts_are_recorded_with_their_dates_and_linked_objectives(notebook, token_mint):
    cer = await prepared(notebook, token_mint)
    page = await notebook.call(c.GetNotebookPageV1(notebook_id=cer.notebook_id), cer.referent)
    [axis] = page.focuses
    other = next(t for t in axis.targets if t.linked_to == c.ContractLink.no)
    await notebook.call(c.UpdateTargetV1(target_id=other.target_id, version=other.version,
                                         status=c.TargetStatus.in_progress, linked_to=c.ContractLink.ppae,
                                         user_consent=True), cer.referent)
    recorded = await notebook.call(c.RecordContractV1(
        notebook_id=cer.notebook_id, kind=c.ContractLink.ppae, signed_on=date(2026, 1, 10),
        start_date=date(2026, 1, 15)), cer.referent)
    view = await notebook.call(c.GetContractV1(contract_id=recorded.id), cer.beneficiary)
    assert (view.kind, view.status, view.signed_on, view.end_date) == (
        c.ContractLink.ppae, c.ContractStatus.signed, date(2026, 1, 10), None)
    assert [o.target for o in view.content.objectives] == ["Passer le permis"]
    as_cer = await refused(notebook.call(c.RecordContractV1(
        notebook_id=cer.notebook_id, kind=c.ContractLink.cer, signed_on=date(2026, 1, 10),
        start_date=date(2026, 1, 15)), cer.referent))
    assert as_cer.code == ErrorCode.invalid
    mine = await notebook.call(c.ListContractsV1(), cer.beneficiary)
    assert [s.kind for s in mine.contracts] == [c.ContractLink.ppae] and "sign_contract" in mine.allowed


async def test_a_contract_read_by_its_address_is_in_the_access_log_and_the_audit_trail(notebook, token_mint):
    """A manager who opens a contract or its PDF without the notebook's page has read the notebook all the same:
    the beneficiary sees it in her access log. Her own reads are not logged."""
    cer = await prepared(notebook, token_mint)
    draft = await notebook.call(c.CreateContractDraftV1(notebook_id=cer.notebook_id), cer.referent)
    assert await access_log_of(notebook, cer.notebook_id) == ([], 0)

    await notebook.call(c.GetContractV1(contract_id=draft.id), cer.manager)
    await notebook.call(c.GetContractPdfV1(contract_id=draft.id), cer.manager)
    await notebook.call(c.GetContractV1(contract_id=draft.id), cer.beneficiary)
    await notebook.call(c.GetContractPdfV1(contract_id=draft.id), cer.beneficiary)
    assert await access_log_of(notebook, cer.notebook_id) == ([("Marie Gérante", "manager", 2)], 2)
    assert (await refused(notebook.call(c.GetContractV1(contract_id=draft.id), cer.outsider))).code == \
        ErrorCode.not_found
    assert await access_log_of(notebook, cer.notebook_id) == ([("Marie Gérante", "manager", 2)], 2)
