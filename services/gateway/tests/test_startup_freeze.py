"""The gateway, once started, leaves what start-up built out of the garbage collector's passes, as the services do
(issue 19): each full pass walked some 170,000 objects, and the notebook's server-rendered page, thousands of
short-lived strings, set passes off often."""
from __future__ import annotations

import gc

import pytest

from gateway.config import GatewaySettings
from gateway.main import create_app

pytestmark = pytest.mark.integration


async def test_the_objects_of_start_up_are_frozen_once_the_gateway_is_started(nats_url):
    gc.unfreeze()
    app = create_app(GatewaySettings(env="test", nats_url=nats_url))
    try:
        async with app.router.lifespan_context(app):
            assert gc.get_freeze_count() > 10_000  # the modules, models and routes built before serving
    finally:
        gc.unfreeze()
