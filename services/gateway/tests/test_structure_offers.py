"""The structures' orientation systems held by the gateway for the « Orienter » form (issue 19): asked once per
territory, asked again after an event of a structure of that territory, after a fetch that an event overtook, and
after their time; a visitor without a territory is asked for every time."""
from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest
from starlette.datastructures import State

from contracts.directory import SearchStructuresV1, StructuresReply
from gateway.web import orientation_form, territory_structures
from gateway.web.structure_offers import StructureOffers

pytestmark = pytest.mark.unit

HERE, THERE = uuid.uuid4(), uuid.uuid4()
SYSTEM = uuid.uuid4()


class Directory:
    """SearchStructuresV1 answered with one structure offering ``SYSTEM``; ``during`` runs while it answers."""

    def __init__(self) -> None:
        self.asked = 0
        self.during = lambda: None
        self.structure = str(uuid.uuid4())

    async def call_or_leave(self, _request, _visitor, message):
        assert isinstance(message, SearchStructuresV1)
        self.asked += 1
        self.during()
        return StructuresReply.model_validate({"total": 1, "structures": [{
            "structure_id": self.structure, "deployment_id": str(HERE), "name": "Atelier",
            "orientation_systems": [{"orientation_system_id": str(SYSTEM), "name": "Social",
                                     "orientation_type": "social"}]}]})


def visitor(deployment_id):
    return SimpleNamespace(me=SimpleNamespace(deployment_id=deployment_id))


@pytest.fixture
def directory(monkeypatch) -> Directory:
    directory = Directory()
    monkeypatch.setattr(territory_structures, "call_or_leave", directory.call_or_leave)
    return directory


def request_with(offers: StructureOffers | None):
    state = State()
    if offers is not None:
        state.structure_offers = offers
    return SimpleNamespace(app=SimpleNamespace(state=state))


async def test_a_territory_is_asked_once_until_an_event_of_its_structures(directory):
    offers = StructureOffers()
    request = request_with(offers)
    first = await orientation_form.structure_systems(request, visitor(HERE))
    again = await orientation_form.structure_systems(request, visitor(HERE))
    assert first == again == {directory.structure: {str(SYSTEM)}} and directory.asked == 1

    offers.forget(THERE)  # another territory's structure: also asked again (one generation for all), not wrong
    offers.forget(HERE)
    await orientation_form.structure_systems(request, visitor(HERE))
    assert directory.asked == 2


async def test_a_fetch_overtaken_by_an_event_is_not_kept(directory):
    offers = StructureOffers()
    request = request_with(offers)
    directory.during = lambda: offers.forget(HERE)  # the structure changed while the directory answered
    await orientation_form.structure_systems(request, visitor(HERE))
    directory.during = lambda: None
    await orientation_form.structure_systems(request, visitor(HERE))
    await orientation_form.structure_systems(request, visitor(HERE))
    assert directory.asked == 2


async def test_an_entry_is_asked_again_after_its_time(directory):
    now = [0.0]
    offers = StructureOffers(held_s=300, clock=lambda: now[0])
    request = request_with(offers)
    await orientation_form.structure_systems(request, visitor(HERE))
    now[0] = 299
    await orientation_form.structure_systems(request, visitor(HERE))
    assert directory.asked == 1
    now[0] = 301
    await orientation_form.structure_systems(request, visitor(HERE))
    assert directory.asked == 2


async def test_without_a_territory_or_without_the_holder_the_directory_is_asked_every_time(directory):
    for request, who in ((request_with(StructureOffers()), visitor(None)), (request_with(None), visitor(HERE))):
        await orientation_form.structure_systems(request, who)
        await orientation_form.structure_systems(request, who)
    assert directory.asked == 4
