"""A bulk orientation decision → one email to the référent it chose, with the count and a link to their
beneficiaries (each notebook's notebook.orientation.changed.v1 of that decision sends none: 500 notebooks, one
email)."""
from __future__ import annotations

from contracts.bulk_orientation import BulkOrientationDecidedV1
from notify.handlers.deps import Deps
from notify.handlers.notebook_messages import to_professional_at
from notify.handlers.queue_message import queue_once
from servicekit.consumers import EventMeta

CONSUMER = "notify-bulk-orientations"


async def on_bulk_orientation_decided(event: BulkOrientationDecidedV1, _meta: EventMeta, deps: Deps) -> None:
    await queue_once(deps, CONSUMER, event.event_id, to_professional_at(
        deps, "bulk_orientation", event.referent_email, "/beneficiaires?mine=1", firstname=event.referent_firstname,
        decided_by=event.decided_by_name, count=event.done, orientation_system=event.orientation_system_name,
        structure=event.structure_name))


SUBSCRIPTIONS = ((CONSUMER, BulkOrientationDecidedV1, on_bulk_orientation_decided),)
