"""The deployment files (issue 19 item 7): what ``deploy/render.py`` renders, valid Kubernetes manifests
(``kubernetes-validate``), a compose file Docker accepts (where Docker's compose answers), and both consistent with
the code: every service of the topology and the gateway, twice at least, each with the settings it reads and
nothing it does not, its own NATS user and database, probes on the paths the processes serve, the NATS cluster of
three with R3 streams and the bus permissions."""
from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml
from pydantic import AliasChoices

from servicekit.bus_access import CLUSTER_SIZE, GATEWAY, USERS, password_variable
from servicekit.db import POOL_SIZE
from servicekit.health import health_answers
from servicekit.topology import SERVICES

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
KUBERNETES = DEPLOY / "kubernetes"
SCHEMAS = Path(__file__).resolve().parent / "schemas"
KUBERNETES_VERSION = "1.30.0"  # the oldest version still supported upstream when this was written


def load_render():
    spec = importlib.util.spec_from_file_location("deploy_render", DEPLOY / "render.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


render = load_render()
PROCESS_NAMES = [service.name for service in SERVICES] + [GATEWAY]


def settings_class(name: str):
    module, cls = {"identity": ("identity.config", "IdentitySettings"),
                   "directory": ("directory.config", "DirectorySettings"),
                   "notebook": ("notebook.config", "NotebookSettings"),
                   "data_import": ("data_import.config", "DataImportSettings"),
                   "notify": ("notify.config", "NotifySettings"), "audit": ("audit.config", "AuditSettings"),
                   GATEWAY: ("gateway.config", "GatewaySettings")}[name]
    return getattr(importlib.import_module(module), cls)


def variables_read(name: str) -> set[str]:
    """The environment variables a process's settings read."""
    cls = settings_class(name)
    prefix = cls.model_config.get("env_prefix", "")
    names = set()
    for field_name, field in cls.model_fields.items():
        alias = field.validation_alias
        names |= set(alias.choices) if isinstance(alias, AliasChoices) else {(prefix + field_name).upper()}
    return names


# Read by libraries, not by our settings: OpenTelemetry's exporter; and the helpers of Kubernetes' ``$(VAR)``.
FOREIGN = re.compile(r"^OTEL_")
K8S_HELPERS = {"NATS_PASSWORD", "DATABASE_PASSWORD"}


def documents(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def manifests() -> list[dict]:
    return [doc for path in sorted(KUBERNETES.glob("*.yaml")) for doc in documents(path)]


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def validator_module(name: str):
    """kubernetes-validate (and jsonschema, which it brings): skipped where it is not installed, a failure in CI
    (``REQUIRE_INFRA=1``), where the deployment files must be validated."""
    try:
        return importlib.import_module(name)
    except ImportError:
        if os.environ.get("REQUIRE_INFRA") == "1":
            pytest.fail(f"{name} is required (REQUIRE_INFRA=1): kubernetes-validate is in requirements.in")
        pytest.skip(f"{name} is not installed (pip install kubernetes-validate)")


def test_the_files_are_what_the_table_renders():
    for path, text in render.rendered().items():
        assert path.exists() and path.read_text() == text, f"run: python deploy/render.py ({path.name})"


def test_the_manifests_are_valid_kubernetes():
    kubernetes_validate = validator_module("kubernetes_validate")
    docs = manifests()
    assert {doc["kind"] for doc in docs} >= {"Deployment", "Service", "Secret", "ConfigMap", "HorizontalPodAutoscaler",
                                             "PodDisruptionBudget", "Job", "Namespace"}
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_docker_accepts_the_compose_file(tmp_path):
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("no docker command on this machine: `docker compose config` not run")
    if subprocess.run([docker, "compose", "version"], capture_output=True).returncode != 0:
        pytest.skip("docker has no compose plugin here: `docker compose config` not run")
    env = {**os.environ, **{name: "p0placeholder" for name in
                            re.findall(r"^([A-Z0-9_]+)=", (DEPLOY / "env.example").read_text(), re.M)}}
    checked = subprocess.run([docker, "compose", "-f", str(DEPLOY / "compose.yaml"), "config", "--quiet"],
                             capture_output=True, text=True, env=env)
    assert checked.returncode == 0, checked.stderr


def test_the_compose_file_follows_the_compose_specification():
    """Where Docker is missing (CI), the compose file is checked against the Compose Specification's own JSON schema
    (``schemas/compose-spec.json``, from compose-spec/compose-spec, Apache-2.0): the schema Docker's compose uses."""
    jsonschema = validator_module("jsonschema")
    validator = jsonschema.Draft7Validator(json.loads((SCHEMAS / "compose-spec.json").read_text()))
    assert [error.message for error in validator.iter_errors(compose())] == []
    wrong = compose()
    wrong["services"]["gateway"]["deploy"]["replica"] = 2
    assert list(validator.iter_errors(wrong)), "the schema must refuse an unknown key"


def test_every_process_runs_twice_with_what_it_reads_on_compose(monkeypatch):
    services = compose()["services"]
    assert [f"nats-{n}" for n in range(1, CLUSTER_SIZE + 1)] == [s for s in services if s.startswith("nats-")]
    for n in range(1, CLUSTER_SIZE + 1):
        node = services[f"nats-{n}"]
        assert node["command"][-1] == "/etc/nats/cluster.conf" and "./nats:/etc/nats:ro" in node["volumes"]
        assert node["environment"]["CARNET_NATS_SERVER_NAME"] == f"nats-{n}"
        assert set(node["environment"]) >= {password_variable(user) for user in USERS}
    for name in PROCESS_NAMES:
        service = services[name.replace("_", "-")]
        assert service["deploy"]["replicas"] >= 2, name
        env = service["environment"]
        assert set(env) <= variables_read(name), f"{name} does not read {set(env) - variables_read(name)}"
        servers = env["NATS_URL"].split(",")
        assert len(servers) == CLUSTER_SIZE and all(url.startswith(f"nats://{name}:") for url in servers), name
        assert "/readyz" in service["healthcheck"]["test"][-1]
        if name != GATEWAY:
            assert env[f"{settings_class(name).model_config['env_prefix']}DATABASE_URL"].endswith(f"/{name}")
        # In production (the file's CARNET_ENV), with every required value given, its settings load.
        for key in [k for k in os.environ if k.startswith(("CARNET_", "NATS_"))]:
            monkeypatch.delenv(key)
        for key, value in env.items():
            monkeypatch.setenv(key, "https://carnet.example.org" if key == "CARNET_PUBLIC_URL"
                               else re.sub(r"\$\{[A-Z0-9_]+:\?\}", "p0placeholder", value))
        settings = settings_class(name)()
        assert settings.env == "prod" and settings.health_host == "0.0.0.0", name
    # PostgreSQL: one database and role per service, created from the same names.
    script = (DEPLOY / "postgres" / "init-databases.sh").read_text()
    assert f"for service in {' '.join(s.name for s in SERVICES)}; do" in script
    assert set(services["postgres"]["environment"]) >= {render.db_password_variable(s.name) for s in SERVICES}
    # ... and room for every connection their pools keep (each process keeps what a load opened).
    [allowed] = [int(a.split("=")[1]) for a in services["postgres"]["command"] if a.startswith("max_connections=")]
    kept = sum(POOL_SIZE * services[s.name.replace("_", "-")]["deploy"]["replicas"] for s in SERVICES)
    assert allowed > kept


def by_kind(kind: str) -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for doc in manifests() if doc["kind"] == kind}


def test_every_process_is_deployed_twice_with_probes_autoscaling_and_a_disruption_budget():
    deployments, services = by_kind("Deployment"), by_kind("Service")
    autoscalers, budgets = by_kind("HorizontalPodAutoscaler"), by_kind("PodDisruptionBudget")
    [secret] = by_kind("Secret").values()
    assert set(secret["stringData"].values()) == {"CHANGEME"}, "placeholders only: real secrets are never committed"
    for name in PROCESS_NAMES:
        key = name.replace("_", "-")
        deployment = deployments[key]
        assert deployment["spec"]["replicas"] >= 2 and autoscalers[key]["spec"]["minReplicas"] >= 2
        assert budgets[key]["spec"]["minAvailable"] == 1 and key in services
        [container, *sidecars] = deployment["spec"]["template"]["spec"]["containers"]
        assert container["command"] == ["python", "-m", settings_class(name).__module__.split(".")[0]]
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        ports = {port["containerPort"] for port in container["ports"]}
        assert container["readinessProbe"]["httpGet"]["port"] in ports
        env = {item["name"]: item for item in container["env"]}
        assert set(env) - K8S_HELPERS <= variables_read(name), name
        assert env["NATS_URL"]["value"].startswith(f"nats://{name}:$(NATS_PASSWORD)@")
        refs = [item["valueFrom"]["secretKeyRef"]["key"] for item in container["env"] if "valueFrom" in item]
        assert password_variable(name) in refs and set(refs) <= set(secret["stringData"]), name
        assert bool(sidecars) == (name == "data_import")  # clamd beside the import service only


def test_the_processes_serve_the_probed_paths():
    async def status(path: str) -> int:
        return (await health_answers("test", {})(path))[0]

    assert [asyncio.run(status(path)) for path in ("/healthz", "/readyz")] == [200, 200]
    from gateway.config import GatewaySettings
    from gateway.main import create_app

    gateway = create_app(GatewaySettings(env="dev"))
    assert {"/healthz", "/readyz"} <= {getattr(route, "path", None) for route in gateway.routes}


def test_nats_runs_as_a_three_server_jetstream_cluster_with_the_bus_permissions():
    values = yaml.safe_load((KUBERNETES / "nats" / "values.yaml").read_text())
    assert values["config"]["cluster"] == {"enabled": True, "replicas": CLUSTER_SIZE}
    assert values["config"]["jetstream"]["enabled"] is True
    # The chart includes the accounts file it carries in its ConfigMap: the one `carnet nats-config` generates.
    assert values["config"]["merge"]["$include"] == "accounts.conf"
    assert values["configMap"]["merge"]["data"]["accounts.conf"] == (DEPLOY / "nats" / "accounts.conf").read_text()
    assert set(values["container"]["env"]) == {password_variable(user) for user in USERS}
    [secret] = by_kind("Secret").values()
    assert {ref["valueFrom"]["secretKeyRef"]["key"] for ref in values["container"]["env"].values()} <= set(
        secret["stringData"])
