"""Orientation in bulk through notebook's broker in memory, on SQLite and PostgreSQL: one decision over a mixed
selection (in scope, another territory's, already oriented the same way, unknown, twice the same) orients each
notebook in scope as "Orienter" does (one history entry and one event each) and refuses the others with the reason;
a choice unknown in the territory changes nothing; only those who may orient do; more than 500 is refused."""
from __future__ import annotations

import uuid

import pytest
from pydantic import ValidationError

from contracts import notebook as c
from contracts.base import ErrorCode
from contracts.bulk_orientation import BulkOrientationDecidedV1, GetTerritoryOrientationOptionsV1, OrientInBulkV1
from contracts.identity import Role
from servicekit.errors import Invalid
from testkit.handlers import InMemoryService, refused

from .test_handlers import new_notebook, new_territory

pytestmark = pytest.mark.integration


@pytest.fixture
async def notebook(service_under_test) -> InMemoryService:
    return await service_under_test("notebook")


def orientation_entries(page) -> list[str]:
    return [entry.summary for entry in page.timeline if entry.kind == "orientation"]


async def test_one_decision_orients_the_notebooks_in_scope_and_says_why_the_others_are_refused(notebook, token_mint):
    territory, other = await new_territory(notebook, token_mint), await new_territory(notebook, token_mint)
    first = await new_notebook(notebook, territory, firstname="Anne", lastname="Un")
    second = await new_notebook(notebook, territory, firstname="Bruno", lastname="Deux")
    oriented = await new_notebook(notebook, territory, firstname="Chloé", lastname="Trois")
    elsewhere = await new_notebook(notebook, other, firstname="Denis", lastname="Ailleurs")
    unknown = uuid.uuid4()
    same_way = dict(orientation_system_id=territory.social_system, structure_id=territory.structure_id)
    await notebook.call(c.ChangeOrientationV1(notebook_id=oriented, **same_way), territory.manager)
    before = len(await notebook.events(c.OrientationChangedV1.subject))

    reply = await notebook.call(OrientInBulkV1(notebook_ids=[first, elsewhere, oriented, unknown, second, first],
                                               **same_way), territory.manager)

    assert [(r.notebook_id, r.status) for r in reply.results] == [
        (first, "done"), (elsewhere, "refused"), (oriented, "refused"), (unknown, "refused"), (second, "done")]
    assert (reply.done, reply.refused) == (2, 3)
    by_id = {r.notebook_id: r for r in reply.results}
    assert (by_id[first].firstname, by_id[first].lastname, by_id[first].reason) == ("Anne", "Un", "")
    assert "Déjà orienté ainsi" in by_id[oriented].reason and by_id[oriented].lastname == "Trois"
    # Another territory's notebook reads as an unknown one: no name, the same answer.
    assert by_id[elsewhere].reason == by_id[unknown].reason and "Aucun carnet" in by_id[unknown].reason
    assert (by_id[elsewhere].firstname, by_id[elsewhere].lastname) == ("", "")

    changed = (await notebook.events(c.OrientationChangedV1.subject))[before:]
    assert sorted(str(e.notebook_id) for e in changed) == sorted(str(i) for i in (first, second))
    assert all((e.orientation_system_name, e.structure_name, e.reorientation) == ("Social", "Mission Locale", False)
               for e in changed)
    for notebook_id in (first, second):
        page = await notebook.call(c.GetNotebookPageV1(notebook_id=notebook_id), territory.manager)
        assert orientation_entries(page) == ["Orientation : Social, suivi par Mission Locale"]
        assert page.orientation_system_name == "Social"
        assert [s.structure_id for s in page.structures if s.status == "current"] == [territory.structure_id]
    kept = await notebook.call(c.GetNotebookPageV1(notebook_id=oriented), territory.manager)
    assert len(orientation_entries(kept)) == 1  # the first orientation only
    other_page = await notebook.call(c.GetNotebookPageV1(notebook_id=elsewhere), other.manager)
    assert orientation_entries(other_page) == [] and other_page.orientation_system_name == ""


async def test_with_a_referent_each_notebook_gets_her_and_a_reorientation_accepts_the_pending_request(notebook,
                                                                                                      token_mint):
    territory = await new_territory(notebook, token_mint)
    followed = await new_notebook(notebook, territory, firstname="Anne", lastname="Un")
    await notebook.call(c.JoinNotebookV1(notebook_id=followed, as_referent=True,
                                         orientation_system_id=territory.pro_system), territory.pro)
    asked = await notebook.call(c.RequestReorientationV1(
        notebook_id=followed, orientation_system_id=territory.social_system,
        reason="Besoin d'un accompagnement social"), territory.pro)
    fresh = await new_notebook(notebook, territory, firstname="Bruno", lastname="Deux")
    orientation_manager = token_mint.token(Role.orientation_manager, deployment_id=territory.id,
                                           profile_id=uuid.uuid4())

    reply = await notebook.call(OrientInBulkV1(
        notebook_ids=[followed, fresh], orientation_system_id=territory.social_system,
        structure_id=territory.structure_id, referent_id=territory.colleague_id, reason="Décision de la commission"),
        orientation_manager)

    assert [r.status for r in reply.results] == ["done", "done"]
    changed = {e.notebook_id: e for e in await notebook.events(c.OrientationChangedV1.subject)}
    # Simon is told once for the decision (each notebook's event names it, so that notify sends no email of its own).
    [decided] = await notebook.events(BulkOrientationDecidedV1.subject)
    assert (decided.done, decided.refused, decided.referent_email, decided.orientation_system_name) == (
        2, 0, "simon@test.carnet.fr", "Social")
    assert {e.decision_id for e in changed.values()} == {decided.decision_id}
    assert (changed[followed].reorientation, changed[followed].request_id) == (True, asked.id)
    assert (changed[fresh].reorientation, changed[fresh].referent_id) == (False, territory.colleague_id)
    page = await notebook.call(c.GetNotebookPageV1(notebook_id=followed), territory.manager)
    assert page.orientation_request.status == c.OrientationRequestStatus.accepted
    assert page.orientation_reason == "Décision de la commission"
    active = {m.person.person_id: m.member_type for m in page.members if m.ended_at is None}
    assert active == {territory.colleague_id: c.MemberType.referent, territory.pro_id: c.MemberType.no_referent}
    assert orientation_entries(page)[0] == "Réorientation : Social, suivi par Mission Locale, référent Simon Pro"

    again = await notebook.call(OrientInBulkV1(
        notebook_ids=[followed], orientation_system_id=territory.social_system, structure_id=territory.structure_id,
        referent_id=territory.colleague_id, reason="Décision de la commission"), territory.manager)
    assert again.results[0].status == "refused" and "même référent" in again.results[0].reason
    assert len(await notebook.events(BulkOrientationDecidedV1.subject)) == 1  # nothing done: nobody told


async def test_a_choice_unknown_in_the_territory_changes_nothing_and_only_who_may_orient_does(notebook, token_mint):
    territory, other = await new_territory(notebook, token_mint), await new_territory(notebook, token_mint)
    notebook_id = await new_notebook(notebook, territory)
    before = len(await notebook.events())
    decision = dict(notebook_ids=[notebook_id], orientation_system_id=territory.pro_system,
                    structure_id=territory.structure_id)

    not_there = await refused(notebook.call(OrientInBulkV1(**decision, referent_id=territory.colleague_id),
                                            territory.manager))  # Simon does not hold "Professionnel"
    assert not_there.code == ErrorCode.invalid and not_there.details["field"] == "referent_id"
    foreign = await refused(notebook.call(OrientInBulkV1(**{**decision, "structure_id": other.structure_id}),
                                          territory.manager))
    assert foreign.code == ErrorCode.invalid and foreign.details["field"] == "structure_id"
    for token in (territory.pro, token_mint.token(Role.admin_cdb)):
        denied = await refused(notebook.call(OrientInBulkV1(**decision), token))
        assert denied.code == ErrorCode.forbidden
    assert len(await notebook.events()) == before

    options = await notebook.call(GetTerritoryOrientationOptionsV1(), territory.manager)
    assert {s.name for s in options.options.orientation_systems} == {"Professionnel", "Social"}
    assert [s.structure_id for s in options.options.structures] == [territory.structure_id]
    assert {p.person_id for p in options.options.referents} == {territory.pro_id, territory.colleague_id}
    assert (await refused(notebook.call(GetTerritoryOrientationOptionsV1(), territory.pro))).code == ErrorCode.forbidden


def test_more_than_500_notebooks_in_one_decision_is_refused_in_french():
    decision = dict(orientation_system_id=uuid.uuid4(), structure_id=uuid.uuid4())
    assert len(OrientInBulkV1(notebook_ids=[uuid.uuid4() for _ in range(500)], **decision).notebook_ids) == 500
    with pytest.raises(ValidationError) as failure:
        OrientInBulkV1(notebook_ids=[uuid.uuid4() for _ in range(501)], **decision)
    message = Invalid.of_fields(failure.value.errors()).message
    assert message == ("Une décision d'orientation porte sur 500 carnets au plus : 501 sont sélectionnés. "
                       "Sélectionnez-en moins.")
    with pytest.raises(ValidationError):
        OrientInBulkV1(notebook_ids=[], **decision)


async def test_the_service_refuses_501_notebooks_whoever_sends_them(notebook, token_mint):
    territory = await new_territory(notebook, token_mint)
    ids = [await new_notebook(notebook, territory)] + [uuid.uuid4() for _ in range(500)]
    unchecked = OrientInBulkV1.model_construct(notebook_ids=ids, orientation_system_id=territory.pro_system,
                                               structure_id=territory.structure_id, referent_id=None, reason="")
    before = len(await notebook.events())
    too_many = await refused(notebook.call(unchecked, territory.manager))
    assert too_many.code == ErrorCode.invalid and "500 carnets au plus : 501" in too_many.message
    assert len(await notebook.events()) == before
