"""The orientation systems each structure of a territory offers, held by the gateway for the notebook's « Orienter »
form (gateway.web.orientation_form).

Asked of the directory on every view of a notebook that shows the form (SearchStructuresV1, a page of 100 at a
time), they cost the HTML page a sixth of its CPU in the whole system (issue 19). They change only when a
structure is created or edited, and the directory says so with ``directory.structure.created.v1`` and
``directory.structure.updated.v1`` (each naming its territory), which the gateway follows: such an event drops its
territory's entry, and the next page asks again. A fetch during which an event arrived is not kept (it may have read
the structures before the change), and an entry is asked again after ``HELD_S`` at most, whatever happens on the bus.
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from contracts.directory import StructureState
from gateway.follow import follow_new_events
from servicekit.bus_access import GATEWAY_STRUCTURE_EVENTS

HELD_S = 300.0

Offered = dict[str, set[str]]  # structure id → ids of the orientation systems it offers


class StructureOffers:
    def __init__(self, held_s: float = HELD_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.held_s, self.clock = held_s, clock
        self._held: dict[uuid.UUID, tuple[float, Offered]] = {}
        self.generation = 0  # one more at each event: a fetch that saw it change is not kept

    def get(self, deployment_id: uuid.UUID) -> Offered | None:
        held = self._held.get(deployment_id)
        if held is None or self.clock() - held[0] > self.held_s:
            return None
        return held[1]

    def keep(self, deployment_id: uuid.UUID, offered: Offered, generation: int) -> None:
        """``generation``: ``self.generation`` read before the fetch of ``offered``."""
        if generation == self.generation:
            self._held[deployment_id] = (self.clock(), offered)

    def forget(self, deployment_id: uuid.UUID) -> None:
        self.generation += 1
        self._held.pop(deployment_id, None)

    def forget_all(self) -> None:
        self.generation += 1
        self._held.clear()


def follow_structure_events(broker, offers: StructureOffers) -> None:
    """Subscribes ``broker`` (before it starts) to the structures' events from now on (gateway.follow)."""

    async def on_structure(event: StructureState) -> None:
        offers.forget(event.deployment_id)

    # Which the bus lets the gateway follow (GATEWAY_FOLLOWS).
    follow_new_events(broker, "gateway-structures", dict.fromkeys(GATEWAY_STRUCTURE_EVENTS, on_structure))
