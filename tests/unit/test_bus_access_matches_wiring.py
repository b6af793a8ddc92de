"""The private bus's table (servicekit.bus_access) against what each service really wires on its broker: a durable
or an RPC the table does not allow would be refused by nats-server under `make run` and in production only."""
from __future__ import annotations

from pathlib import Path

import pytest

from carnet.asyncapi import wired_service
from servicekit.bus_access import SERVICE_ACCESS
from servicekit.topology import SERVICES

pytestmark = pytest.mark.unit
ACCESS = {access.name: access for access in SERVICE_ACCESS}


@pytest.mark.parametrize("info", SERVICES, ids=lambda info: info.name)
def test_every_event_a_service_consumes_and_every_rpc_it_serves_is_in_its_line_of_the_table(info, tmp_path: Path):
    service = wired_service(info.package, info.name, tmp_path)
    access = ACCESS[info.name]
    consumed = {subscription.event_type for subscription in service.bus.subscriptions}
    assert consumed <= set(access.consumes), sorted(e.subject for e in consumed - set(access.consumes))
    assert all(subject.startswith(f"rpc.{info.name}.") for subject in service.bus.rpc_subjects)
    # Services that check tokens ask identity for its keys and follow the revocations.
    if service.follow_revocations:
        assert access.follows and any(request.subject == "rpc.identity.jwks.v1" for request in access.calls)
