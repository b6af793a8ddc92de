"""The back-end services of the system, as the CLI and the test harness start them."""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ServiceInfo:
    name: str
    package: str
    env_prefix: str

    @property
    def migrations_dir(self) -> Path:
        # services/<folder>/src/<package>/__init__.py → services/<folder>/migrations
        return Path(importlib.import_module(self.package).__file__).resolve().parents[2] / "migrations"


SERVICES = (
    ServiceInfo("identity", "identity", "IDENTITY"),
    ServiceInfo("directory", "directory", "DIRECTORY"),
    ServiceInfo("notebook", "notebook", "NOTEBOOK"),
    ServiceInfo("data_import", "data_import", "DATA_IMPORT"),
    ServiceInfo("notify", "notify", "NOTIFY"),
    ServiceInfo("audit", "audit", "AUDIT"),
)
SERVICES_BY_NAME = {service.name: service for service in SERVICES}
