"""The Grafana dashboard reads only metrics that the services define, with labels they have."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from servicekit import metrics

pytestmark = pytest.mark.unit

DASHBOARD = Path(__file__).parents[3] / "deploy" / "grafana" / "carnet.json"


def test_every_carnet_series_of_the_dashboard_exists_with_the_labels_it_groups_by():
    assert metrics.HTTP_SECONDS  # servicekit.metrics registers every carnet_* metric
    known = {sample_name: set(collector._labelnames)
             for collector in REGISTRY._collector_to_names
             if getattr(collector, "_labelnames", None) is not None
             for sample_name in REGISTRY._collector_to_names[collector]}
    expressions = [target["expr"] for panel in json.loads(DASHBOARD.read_text())["panels"]
                   for target in panel.get("targets", [])]
    assert len(expressions) > 15
    for expr in expressions:
        for name in re.findall(r"\b(carnet_\w+)", expr):
            assert name in known, f"{name} is not defined in servicekit.metrics"
            grouped = set(re.findall(r"by \(([^)]*)\)", expr)[0].replace(" ", "").split(",")) - {"le"}
            assert grouped <= known[name], f"{expr}: {grouped - known[name]} not among {known[name]}"
