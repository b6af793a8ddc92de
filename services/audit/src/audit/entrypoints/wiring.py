"""Binds the audit service's RPC and event subscriptions to their use cases."""
from __future__ import annotations

from functools import partial

from audit.handlers import append_line, purge
from audit.handlers.deps import Deps
from audit.handlers.list_lines import list_lines
from contracts.audit import AUDIT_EVENTS, ListAuditLinesV1
from servicekit.app import Service
from servicekit.consumers import Subscription

# One durable per owner's subject: each owner's lines keep their order; the chain serialises the appends.
SUBSCRIPTIONS = tuple((append_line.CONSUMERS[event.subject.split(".", 1)[0]], event, append_line.on_audit_recorded)
                      for event in AUDIT_EVENTS)
ROUTES = {ListAuditLinesV1: list_lines}


def register(service: Service, deps: Deps) -> None:
    for request_type, handler in ROUTES.items():
        service.handle(request_type, partial(handler, deps=deps))
    for durable, event_type, handler in SUBSCRIPTIONS:
        service.subscribe(Subscription(durable=durable, event_type=event_type, handler=partial(handler, deps=deps)))
    service.add_task(partial(purge.run_purge, deps), name="audit-purge")
