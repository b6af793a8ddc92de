"""A forgotten CARNET_ENV means production: no service starts on development keys or without its public URL."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from directory.config import DirectorySettings
from gateway.config import GatewaySettings
from identity.config import IdentitySettings
from notebook.config import NotebookSettings
from notify.config import NotifySettings

pytestmark = pytest.mark.unit

SETTINGS = [IdentitySettings, NotebookSettings, DirectorySettings, NotifySettings, GatewaySettings]
SECRETS = {"IDENTITY_SECRET_KEY": "k" * 32, "NOTEBOOK_SECRET_KEY": "n" * 32, "NOTIFY_SECRET_KEY": "w" * 32}


@pytest.fixture
def no_environment(monkeypatch):
    for name in ("CARNET_ENV", "CARNET_PUBLIC_URL", *SECRETS):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.parametrize("settings", SETTINGS)
def test_without_carnet_env_a_service_runs_in_production(no_environment, settings):
    no_environment.setenv("CARNET_PUBLIC_URL", "https://carnet.example.fr")
    for name, value in SECRETS.items():
        no_environment.setenv(name, value)
    chosen = settings()
    assert chosen.env == "prod" and not chosen.dev_mode


@pytest.mark.parametrize("settings", SETTINGS)
def test_production_refuses_to_start_without_a_public_url(no_environment, settings):
    for name, value in SECRETS.items():
        no_environment.setenv(name, value)
    with pytest.raises(ValidationError, match="CARNET_PUBLIC_URL"):
        settings()


@pytest.mark.parametrize(("settings", "key"), [(IdentitySettings, "IDENTITY_SECRET_KEY"),
                                                (NotebookSettings, "NOTEBOOK_SECRET_KEY"),
                                                (NotifySettings, "NOTIFY_SECRET_KEY")])
def test_production_refuses_to_start_on_the_development_key(no_environment, settings, key):
    no_environment.setenv("CARNET_PUBLIC_URL", "https://carnet.example.fr")
    with pytest.raises(ValidationError, match=key):
        settings()


def test_dev_is_chosen_explicitly_and_gets_a_local_public_url(no_environment):
    no_environment.setenv("CARNET_ENV", "dev")
    assert IdentitySettings().public_url == "http://127.0.0.1:8080"
    assert IdentitySettings().dev_mode
