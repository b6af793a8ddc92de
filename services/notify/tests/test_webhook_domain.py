"""The pure rules of webhooks: the signature (the same as the partners' example), where a webhook may go, what
is tried again, when a subscription pauses, the secrets' encryption."""
from __future__ import annotations

import importlib.util
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import InvalidToken

from notify.domain.webhooks import (
    HTTPS_REQUIRED,
    NOT_A_URL,
    PRIVATE_ADDRESS,
    WITH_CREDENTIALS,
    SecretBox,
    is_transient,
    new_secret,
    should_pause,
    signature_header,
    url_problem,
)

pytestmark = pytest.mark.unit
EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "webhook_signature.py"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def example():
    spec = importlib.util.spec_from_file_location("webhook_signature", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_our_signature_is_the_one_the_partners_example_makes_and_checks(example):
    body = '{"type":"orientation.changed","data":{"structure_name":"Élan"}}'.encode()
    header = signature_header("whsec_abc", 1764579600, body)
    assert header == example.sign("whsec_abc", body, timestamp=1764579600)
    assert example.verify_signature("whsec_abc", header, body, now=1764579600 + 299)


@pytest.mark.parametrize("tampered", ["body", "secret", "timestamp", "too_old", "ahead", "garbled", "empty"])
def test_the_example_refuses_what_was_not_signed_by_us_just_now(example, tampered):
    body, secret, t = b'{"id":"1"}', "whsec_abc", 1764579600
    header = example.sign(secret, body, timestamp=t)
    cases = {
        "body": (secret, header, b'{"id":"2"}', t),
        "secret": ("whsec_autre", header, body, t),
        "timestamp": (secret, header.replace(f"t={t}", f"t={t + 1}"), body, t),
        "too_old": (secret, header, body, t + 301),
        "ahead": (secret, header, body, t - 301),
        "garbled": (secret, "v1=abc,t=", body, t),
        "empty": (secret, "", body, t),
    }
    secret, header, body, now = cases[tampered]
    assert not example.verify_signature(secret, header, body, now=now)


def test_the_example_accepts_any_of_several_v1_signatures(example):
    body, t = b"{}", 1764579600
    good = example.sign("whsec_abc", body, timestamp=t).split(",v1=")[1]
    assert example.verify_signature("whsec_abc", f"t={t},v1=deadbeef,v1={good}", body, now=t)


@pytest.mark.parametrize(("url", "problem"), [
    ("https://rdv.example.fr/carnet", None),
    ("https://rdv.example.fr:8443/carnet?x=1", None),
    ("https://93.184.216.34/hook", None),
    ("http://rdv.example.fr/carnet", HTTPS_REQUIRED),
    ("ftp://rdv.example.fr/", NOT_A_URL),
    ("rdv.example.fr/carnet", NOT_A_URL),
    ("https://", NOT_A_URL),
    ("https://rdv.example.fr:port/", NOT_A_URL),
    ("https://user:pass@rdv.example.fr/", WITH_CREDENTIALS),
    ("https://127.0.0.1/hook", PRIVATE_ADDRESS),
    ("https://localhost:8443/hook", PRIVATE_ADDRESS),
    ("https://api.localhost/hook", PRIVATE_ADDRESS),
    ("https://10.1.2.3/hook", PRIVATE_ADDRESS),
    ("https://192.168.1.10/hook", PRIVATE_ADDRESS),
    ("https://172.16.0.1/hook", PRIVATE_ADDRESS),
    ("https://169.254.169.254/latest/meta-data", PRIVATE_ADDRESS),
    ("https://100.64.0.1/hook", PRIVATE_ADDRESS),
    ("https://0.0.0.0/hook", PRIVATE_ADDRESS),
    ("https://[::1]/hook", PRIVATE_ADDRESS),
    ("https://[::ffff:127.0.0.1]/hook", PRIVATE_ADDRESS),
    ("https://[fd00::1]/hook", PRIVATE_ADDRESS),
])
def test_outside_dev_only_public_https_addresses_may_receive_webhooks(url, problem):
    assert url_problem(url, dev_mode=False) == problem


def test_in_dev_and_tests_local_http_receivers_are_allowed():
    assert url_problem("http://127.0.0.1:8765/hook", dev_mode=True) is None
    assert url_problem("ftp://127.0.0.1/hook", dev_mode=True) == NOT_A_URL


@pytest.mark.parametrize(("status", "transient"), [
    (None, True), (500, True), (502, True), (503, True), (429, True), (408, True),
    (400, False), (401, False), (404, False), (410, False), (301, False)])
def test_network_failures_overload_and_server_errors_are_tried_again(status, transient):
    assert is_transient(status) is transient


def test_a_subscription_pauses_once_its_failures_last_a_day():
    assert not should_pause(None, NOW)
    assert not should_pause(NOW - timedelta(hours=23, minutes=59), NOW)
    assert should_pause(NOW - timedelta(days=1), NOW)


def test_secrets_are_encrypted_with_the_key_and_unreadable_without_it():
    secret = new_secret()
    assert secret.startswith("whsec_") and len(secret) > 40 and new_secret() != secret
    sealed = SecretBox(b"cle-1").seal(secret)
    assert secret not in sealed and SecretBox(b"cle-1").open(sealed) == secret
    with pytest.raises(InvalidToken):
        SecretBox(b"cle-2").open(sealed)
