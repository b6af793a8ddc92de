"""Who may orient in bulk (the habilitation table's ``orient``, default deny) and when a notebook would not change."""
from __future__ import annotations

import uuid

import pytest

from contracts.identity import Role
from notebook.adapters.orm import Notebook, OrientationSystemRead, Person, StructureRead
from notebook.domain.habilitation import Operation, Relation, may
from notebook.handlers.bulk_orientation import OrientationState, may_orient, unchanged
from notebook.handlers.caller import Caller
from notebook.handlers.orientation import OrientationDecision


@pytest.mark.parametrize("role, allowed", [
    (Role.manager, True), (Role.orientation_manager, True), (Role.professional, False),
    (Role.admin_structure, False), (Role.admin_cdb, False), (Role.beneficiary, False)])
def test_only_managers_and_orientation_managers_decide_in_bulk(role, allowed):
    caller = Caller(uuid.uuid4(), role, uuid.uuid4(), uuid.uuid4(), frozenset())
    assert may_orient(caller) is allowed
    # Each notebook is then checked on its own: in the territory for them, never elsewhere.
    assert may(role, frozenset({Relation.territory}), Operation.orient) is allowed
    assert not may(role, frozenset({Relation.elsewhere}), Operation.orient)


def test_a_notebook_already_oriented_the_same_way_would_not_change():
    structure, other_structure, system = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    simon = Person(id=uuid.uuid4(), structure_ids=[str(structure)], orientation_system_ids=[str(system)])
    elsewhere = Person(id=uuid.uuid4(), structure_ids=[str(other_structure)], orientation_system_ids=[])
    decision = OrientationDecision(OrientationSystemRead(id=system, name="Social"),
                                   StructureRead(id=structure, name="Mission Locale"), None)
    notebook = Notebook(id=uuid.uuid4(), orientation_system_id=system, orientation_reason="")
    state = OrientationState()
    state.structures[notebook.id] = {structure}
    assert unchanged(notebook, decision, state)
    state.referents[notebook.id] = simon  # a référent of the structure stays
    assert unchanged(notebook, decision, state)
    state.referents[notebook.id] = elsewhere  # one of another structure would step down: a change
    assert not unchanged(notebook, decision, state)
    assert not unchanged(notebook, OrientationDecision(decision.system, decision.structure, simon), state)
    state.referents[notebook.id] = simon
    assert unchanged(notebook, OrientationDecision(decision.system, decision.structure, simon), state)
    assert not unchanged(notebook, OrientationDecision(decision.system, decision.structure, None, "Autre motif"), state)
    state.pending.add(notebook.id)  # a request waiting is accepted by the decision
    assert not unchanged(notebook, decision, state)
    state.pending.clear()
    state.structures[notebook.id] = {other_structure}
    assert not unchanged(notebook, decision, state)
