"""Notebook's use cases through its broker in memory (FastStream's TestNatsBroker), on SQLite and PostgreSQL:
request → reply model, or the error code the gateway turns into an HTTP status. Directory's people, structures
and orientation systems reach the notebook as they do in production: as events delivered to its consumers."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest

from contracts import notebook as c
from contracts.base import ErrorCode
from contracts.directory import OrientationSystemCreatedV1, OrientationType, StructureCreatedV1
from contracts.identity import Role
from contracts.profiles import BeneficiaryCreatedV1, ManagerCreatedV1, ProfessionalCreatedV1, ProfessionalDeactivatedV1
from testkit.handlers import InMemoryService, refused

pytestmark = pytest.mark.integration


@pytest.fixture
async def notebook(service_under_test) -> InMemoryService:
    return await service_under_test("notebook")


@dataclass
class Territory:
    """A territory as directory announced it: one structure, two orientation systems, a manager, two
    professionals of the structure (each holding one system)."""

    id: uuid.UUID
    structure_id: uuid.UUID
    pro_system: uuid.UUID
    social_system: uuid.UUID
    manager: str
    pro: str
    pro_id: uuid.UUID
    colleague: str
    colleague_id: uuid.UUID


async def new_territory(notebook: InMemoryService, token_mint) -> Territory:
    deployment_id, structure_id = uuid.uuid4(), uuid.uuid4()
    pro_system, social_system = uuid.uuid4(), uuid.uuid4()
    manager_id, pro_id, colleague_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    for system_id, name, kind in ((pro_system, "Professionnel", OrientationType.pro),
                                  (social_system, "Social", OrientationType.social)):
        await notebook.deliver(OrientationSystemCreatedV1(orientation_system_id=system_id, deployment_id=deployment_id,
                                                          name=name, orientation_type=kind))
    await notebook.deliver(StructureCreatedV1(structure_id=structure_id, deployment_id=deployment_id,
                                              name="Mission Locale", city="Valence"))
    await notebook.deliver(ManagerCreatedV1(profile_id=manager_id, deployment_id=deployment_id, firstname="Marie",
                                            lastname="Gérante", email="marie@test.carnet.fr"))
    for profile_id, firstname, system_id in ((pro_id, "Pierre", pro_system), (colleague_id, "Simon", social_system)):
        await notebook.deliver(ProfessionalCreatedV1(
            profile_id=profile_id, deployment_id=deployment_id, firstname=firstname, lastname="Pro",
            email=f"{firstname.lower()}@test.carnet.fr", structure_ids=[structure_id],
            orientation_system_ids=[system_id]))

    def professional(profile_id):
        return token_mint.token(Role.professional, deployment_id=deployment_id, profile_id=profile_id,
                                structure_ids=[structure_id])

    return Territory(deployment_id, structure_id, pro_system, social_system,
                     token_mint.token(Role.manager, deployment_id=deployment_id, profile_id=manager_id),
                     professional(pro_id), pro_id, professional(colleague_id), colleague_id)


def beneficiary(firstname: str = "Sophie", lastname: str = "Tifour", **fields) -> c.BeneficiaryFields:
    return c.BeneficiaryFields(firstname=firstname, lastname=lastname, date_of_birth=date(1990, 4, 12),
                               mobile_number="06 12 34 56 78", **fields)


async def new_notebook(notebook: InMemoryService, territory: Territory, **fields) -> uuid.UUID:
    created = await notebook.call(c.CreateBeneficiaryV1(beneficiary=beneficiary(**fields)), territory.manager)
    return created.notebook_id


async def with_referent(notebook: InMemoryService, territory: Territory) -> uuid.UUID:
    """A notebook whose référent is ``territory.pro``."""
    notebook_id = await new_notebook(notebook, territory)
    await notebook.call(c.JoinNotebookV1(notebook_id=notebook_id, as_referent=True,
                                         orientation_system_id=territory.pro_system), territory.pro)
    return notebook_id


async def test_a_manager_creates_a_notebook_whose_beneficiary_identity_hears_of(notebook, token_mint):
    territory = await new_territory(notebook, token_mint)
    created = await notebook.call(c.CreateBeneficiaryV1(beneficiary=beneficiary(nir="1 90 04 26 198 123")),
                                  territory.manager)

    [profile] = await notebook.events(BeneficiaryCreatedV1.subject)
    assert (profile.profile_id, profile.deployment_id, profile.phone) == (
        created.beneficiary_id, territory.id, "+33612345678")
    [event] = await notebook.events(c.NotebookCreatedV1.subject)
    assert event.notebook_id == created.notebook_id
    page = await notebook.call(c.GetNotebookPageV1(notebook_id=created.notebook_id), territory.manager)
    assert page.access == c.Access.full and page.beneficiary.nir == "1900426198123"
    again = await refused(notebook.call(c.CreateBeneficiaryV1(beneficiary=beneficiary()), territory.manager))
    assert again.code == ErrorCode.conflict


async def test_a_professional_sees_the_public_card_joins_as_referent_and_builds_the_parcours(notebook, token_mint):
    territory = await new_territory(notebook, token_mint)
    notebook_id = await new_notebook(notebook, territory)

    card = await notebook.call(c.GetNotebookPageV1(notebook_id=notebook_id), territory.pro)
    assert card.access == c.Access.public and "join" in card.allowed and "nir" in card.beneficiary.withheld
    held = await refused(notebook.call(c.JoinNotebookV1(notebook_id=notebook_id, as_referent=True,
                                                        orientation_system_id=territory.social_system), territory.pro))
    assert held.code == ErrorCode.invalid and held.details["field"] == "orientation_system_id"
    await notebook.call(c.JoinNotebookV1(notebook_id=notebook_id, as_referent=True,
                                         orientation_system_id=territory.pro_system), territory.pro)
    [referent] = await notebook.events(c.ReferentChangedV1.subject)
    assert (referent.notebook_id, referent.referent_id) == (notebook_id, territory.pro_id)

    focus = await notebook.call(c.AddFocusV1(notebook_id=notebook_id, theme="emploi"), territory.pro)
    target = await notebook.call(c.AddTargetV1(focus_id=focus.id, target="Trouver un emploi"), territory.pro)
    action = await notebook.call(c.AddActionV1(target_id=target.id, action="Atelier CV"), territory.pro)
    at = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    await notebook.call(c.BookAppointmentV1(notebook_id=notebook_id, at=at), territory.pro)

    page = await notebook.call(c.GetNotebookPageV1(notebook_id=notebook_id), territory.pro)
    assert page.access == c.Access.full
    assert [(m.person.person_id, m.member_type) for m in page.members] == [(territory.pro_id, c.MemberType.referent)]
    [axis] = page.focuses
    assert (axis.focus_id, axis.theme) == (focus.id, "emploi")
    assert [(t.target_id, [a.action_id for a in t.actions]) for t in axis.targets] == [(target.id, [action.id])]
    [appointment] = page.appointments
    assert (appointment.at, appointment.person.person_id) == (at, territory.pro_id)
    [booked] = await notebook.events(c.AppointmentBookedV1.subject)
    assert (booked.at, booked.beneficiary_phone) == (at, "+33612345678")
    assert [s.structure_id for s in page.structures] == [territory.structure_id]


async def test_a_conflict_shows_only_what_the_caller_may_see(notebook, token_mint):
    """A professional who sees the public card only, sending any outdated version, is answered a conflict whose
    current state leaves out what the card withholds: it carried the NIR and the rights, decrypted."""
    territory = await new_territory(notebook, token_mint)
    notebook_id = await new_notebook(notebook, territory, nir="2 85 03 75 123 456", caf_number="1234567")

    stale = await refused(notebook.call(c.UpdateBeneficiaryV1(notebook_id=notebook_id, version=99,
                                                              beneficiary=beneficiary()), territory.pro))
    card = await notebook.call(c.GetNotebookPageV1(notebook_id=notebook_id), territory.pro)
    assert stale.code == ErrorCode.conflict and "nir" in card.beneficiary.withheld
    assert set(stale.details["current"]) == set(card.beneficiary.model_dump(mode="json"))
    assert not {"nir", "caf_number", "right_rsa"} & set(stale.details["current"])


async def test_a_change_made_from_an_outdated_version_is_a_conflict(notebook, token_mint):
    territory = await new_territory(notebook, token_mint)
    notebook_id = await with_referent(notebook, territory)

    moved = c.UpdateBeneficiaryV1(notebook_id=notebook_id, version=1, beneficiary=beneficiary(city="Valence"))
    assert (await notebook.call(moved, territory.pro)).version == 2
    stale = await refused(notebook.call(moved, territory.pro))
    assert stale.code == ErrorCode.conflict and stale.details["version"] == 2
    assert stale.details["current"]["city"] == "Valence"

    focus = await notebook.call(c.AddFocusV1(notebook_id=notebook_id, theme="logement"), territory.pro)
    target = await notebook.call(c.AddTargetV1(focus_id=focus.id, target="Accéder au logement"), territory.pro)
    done = c.UpdateTargetV1(target_id=target.id, version=1, status=c.TargetStatus.done, linked_to=c.ContractLink.no)
    assert (await notebook.call(done, territory.pro)).version == 2
    assert (await refused(notebook.call(done, territory.pro))).code == ErrorCode.conflict


async def test_search_finds_the_territory_s_notebooks_by_name_without_accents_or_case(notebook, token_mint):
    territory, other = await new_territory(notebook, token_mint), await new_territory(notebook, token_mint)
    sophie = await new_notebook(notebook, territory, firstname="Sophie", lastname="Héraut")
    await new_notebook(notebook, territory, firstname="Karim", lastname="Benali")
    await new_notebook(notebook, other, firstname="Sophie", lastname="Héraut")

    found = await notebook.call(c.SearchNotebooksV1(q="sophie HERAUT"), territory.manager)
    assert [row.notebook_id for row in found.notebooks] == [sophie] and found.total == 1
    assert (await notebook.call(c.SearchNotebooksV1(q="0612345678"), territory.manager)).total == 2
    assert (await notebook.call(c.SearchNotebooksV1(), territory.manager)).total == 2
    # Mine: the notebooks the professional follows.
    followed = await with_referent(notebook, territory)
    mine = await notebook.call(c.SearchNotebooksV1(mine=True), territory.pro)
    assert [row.notebook_id for row in mine.notebooks] == [followed]
    assert mine.notebooks[0].referent_name == "Pierre Pro"


async def test_a_reorientation_request_is_denied_then_a_new_one_accepted_by_reorienting(notebook, token_mint):
    territory = await new_territory(notebook, token_mint)
    notebook_id = await with_referent(notebook, territory)
    ask = c.RequestReorientationV1(notebook_id=notebook_id, orientation_system_id=territory.social_system,
                                   reason="Difficultés de santé")

    await notebook.call(c.JoinNotebookV1(notebook_id=notebook_id), territory.colleague)  # a member, not référent
    assert (await refused(notebook.call(ask, territory.colleague))).code == ErrorCode.forbidden
    first = await notebook.call(ask, territory.pro)
    assert (await refused(notebook.call(ask, territory.pro))).code == ErrorCode.conflict  # one pending at a time
    page = await notebook.call(c.GetNotebookPageV1(notebook_id=notebook_id), territory.manager)
    assert (page.orientation_request.request_id, page.orientation_request.status) == (
        first.id, c.OrientationRequestStatus.pending)

    deny = c.DenyReorientationV1(request_id=first.id, reason="Accompagnement maintenu")
    assert (await refused(notebook.call(deny, territory.pro))).code == ErrorCode.forbidden
    assert (await notebook.call(deny, territory.manager)).accepted
    [denied] = await notebook.events(c.ReorientationDeniedV1.subject)
    assert (denied.request_id, denied.requested_by_email) == (first.id, "pierre@test.carnet.fr")
    assert (await refused(notebook.call(deny, territory.manager))).code == ErrorCode.conflict  # already decided

    second = await notebook.call(ask, territory.pro)
    await notebook.call(c.ChangeOrientationV1(
        notebook_id=notebook_id, orientation_system_id=territory.social_system, structure_id=territory.structure_id,
        referent_id=territory.colleague_id, reason="Santé"), territory.manager)
    [changed] = await notebook.events(c.OrientationChangedV1.subject)
    assert (changed.request_id, changed.referent_id, changed.reorientation) == (second.id, territory.colleague_id, True)
    page = await notebook.call(c.GetNotebookPageV1(notebook_id=notebook_id), territory.manager)
    assert page.orientation_request.status == c.OrientationRequestStatus.accepted
    assert page.orientation_system_name == "Social"
    referents = [m.person.person_id for m in page.members if m.member_type == c.MemberType.referent and not m.ended_at]
    assert referents == [territory.colleague_id]


async def test_a_notebook_out_of_the_caller_s_scope_is_not_found_and_refusals_have_their_codes(notebook, token_mint):
    territory, other = await new_territory(notebook, token_mint), await new_territory(notebook, token_mint)
    notebook_id = await new_notebook(notebook, territory)
    page = c.GetNotebookPageV1(notebook_id=notebook_id)

    for token in (other.manager, other.pro):
        assert (await refused(notebook.call(page, token))).code == ErrorCode.not_found
    unknown = await refused(notebook.call(c.GetNotebookPageV1(notebook_id=uuid.uuid4()), territory.manager))
    assert unknown.code == ErrorCode.not_found and unknown.details == {"reason": "not_imported"}
    someone_else = token_mint.token(Role.beneficiary, deployment_id=territory.id, profile_id=uuid.uuid4())
    assert (await refused(notebook.call(page, someone_else))).code == ErrorCode.not_found
    not_member = await refused(notebook.call(c.AddFocusV1(notebook_id=notebook_id, theme="emploi"), territory.pro))
    assert not_member.code == ErrorCode.forbidden and not_member.details["reason"] == "not_a_member"
    assert (await refused(notebook.call(page))).code == ErrorCode.unauthenticated
    pending = token_mint.token(Role.manager, deployment_id=territory.id, pending=["cgu"])
    assert (await refused(notebook.call(page, pending))).code == ErrorCode.forbidden
    bad_theme = await refused(notebook.call(c.AddFocusV1(notebook_id=notebook_id, theme="loisirs"), territory.manager))
    assert bad_theme.code == ErrorCode.invalid


async def test_a_deactivated_professional_leaves_every_group_once_however_often_it_is_delivered(notebook, token_mint):
    territory = await new_territory(notebook, token_mint)
    notebook_id = await with_referent(notebook, territory)
    deactivated = ProfessionalDeactivatedV1(profile_id=territory.pro_id, deployment_id=territory.id)

    await notebook.deliver(deactivated)
    await notebook.deliver(deactivated)  # redelivered: JetStream delivers at least once

    [ended] = await notebook.events(c.MemberEndedV1.subject)
    assert (ended.person_id, ended.reason) == (territory.pro_id, c.MembershipEndReason.deactivated)
    page = await notebook.call(c.GetNotebookPageV1(notebook_id=notebook_id), territory.manager)
    assert [m.end_reason for m in page.members] == [c.MembershipEndReason.deactivated]


async def test_the_history_shows_each_change_with_its_values_but_never_a_secret_identifier(notebook, token_mint):
    territory = await new_territory(notebook, token_mint)
    notebook_id = await with_referent(notebook, territory)
    await notebook.call(c.UpdateBeneficiaryV1(notebook_id=notebook_id, version=1, beneficiary=beneficiary(
        city="Valence", nir="2 85 07 75 112 034").model_copy(update={"mobile_number": "06 98 76 54 32"})),
        territory.manager)
    focus = await notebook.call(c.AddFocusV1(notebook_id=notebook_id, theme="emploi"), territory.pro)
    target = await notebook.call(c.AddTargetV1(focus_id=focus.id, target="Trouver un emploi"), territory.pro)
    action = await notebook.call(c.AddActionV1(target_id=target.id, action="Atelier CV", status=c.ActionStatus.planned),
                                 territory.pro)
    await notebook.call(c.UpdateActionV1(action_id=action.id, version=1, status=c.ActionStatus.in_progress),
                        territory.pro)

    page = await notebook.call(c.GetNotebookPageV1(notebook_id=notebook_id), territory.manager)
    entries = {e.kind: e for e in page.timeline if e.changes}
    assert [(ch.field, ch.before, ch.after) for ch in entries["beneficiary"].changes] == [
        ("city", "", "Valence"), ("mobile_number", "+33612345678", "+33698765432"), ("nir", None, None)]
    assert [(ch.field, ch.before, ch.after) for ch in entries["action"].changes] == [
        ("status", "planned", "in_progress")]
    assert "2850775112034" not in page.model_dump_json(exclude={"beneficiary"})


async def test_a_nir_already_another_beneficiary_s_is_refused_in_french_and_nothing_changes(notebook, token_mint):
    territory = await new_territory(notebook, token_mint)
    await new_notebook(notebook, territory, nir="2 91 05 13 055 012")
    other = await new_notebook(notebook, territory, firstname="Karim", lastname="Benali")
    taken = c.UpdateBeneficiaryV1(notebook_id=other, version=1, beneficiary=beneficiary(
        firstname="Karim", lastname="Benali", nir="2 91 05 13 055 012", city="Valence"))
    refusal = await refused(notebook.call(taken, territory.manager))
    assert (refusal.code, refusal.details) == (ErrorCode.conflict, {"field": "nir"})
    assert "déjà celui d'un autre bénéficiaire" in refusal.message
    page = await notebook.call(c.GetNotebookPageV1(notebook_id=other), territory.manager)
    assert page.beneficiary.city != "Valence"
