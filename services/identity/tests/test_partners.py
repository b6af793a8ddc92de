"""Partners' API credentials in identity (issue 16 item 4), through its broker in memory, on SQLite and PostgreSQL:
created by a national administrator with the secret shown once and kept hashed (the table holds no secret),
checked for the partner, the territory and the manager named, rotated (the old secret refused) and revoked; every
call recorded; and the territories a partner serves, for its NATS messages."""
from __future__ import annotations

import uuid

import jwt
import pytest
from sqlalchemy import text

from contracts import partners as p
from contracts.base import ErrorCode
from contracts.identity import Role
from identity.adapters.orm import Account, Deployment
from identity.domain.partners import secret_matches
from identity.handlers.deps import Deps
from identity.handlers.issue_session import access_token_for
from servicekit.db import utcnow
from testkit.handlers import InMemoryService, refused

pytestmark = pytest.mark.integration


@pytest.fixture
async def identity(service_under_test) -> InMemoryService:
    return await service_under_test("identity")


async def account(identity: InMemoryService, role: Role, deployment_id=None, email=None) -> Account:
    async with identity.sessions.begin() as session:
        created = Account(email=email or f"{role}-{uuid.uuid4().hex[:8]}@test.carnet.fr", role=role,
                          deployment_id=deployment_id, profile_id=uuid.uuid4() if role != Role.admin_cdb else None,
                          cgu_version=identity.service.settings.cgu_version, created_at=utcnow(),
                          onboarded_at=utcnow())
        session.add(created)
    return created


async def token_of(identity: InMemoryService, who: Account) -> str:
    service = identity.service
    deps = Deps(sessions=service.sessions, outbox=service.outbox, settings=service.settings, verifier=service.verifier)
    async with identity.sessions.begin() as session:
        return await access_token_for(session, deps, who, uuid.uuid4())


async def territory(identity: InMemoryService) -> uuid.UUID:
    deployment_id = uuid.uuid4()
    async with identity.sessions.begin() as session:
        session.add(Deployment(id=deployment_id, label=f"Territoire {deployment_id.hex[:4]}", department_code="93"))
    return deployment_id


class Setting:
    def __init__(self, identity, admin_token, deployment_id, manager) -> None:
        self.identity, self.admin_token, self.deployment_id, self.manager = identity, admin_token, deployment_id, manager

    def authenticate(self, client_id: str, secret: str, *, partner: str = "rdvi", deployment_id=None,
                     manager_email: str | None = None) -> p.AuthenticatePartnerV1:
        return p.AuthenticatePartnerV1(partner=partner, client_id=client_id, secret=secret,
                                       route="POST /api/v1/partners/rdvi/notebooks",
                                       deployment_id=deployment_id or self.deployment_id,
                                       manager_email=manager_email or self.manager.email)


@pytest.fixture
async def setting(identity) -> Setting:
    admin = await account(identity, Role.admin_cdb)
    deployment_id = await territory(identity)
    manager = await account(identity, Role.manager, deployment_id, email=f"gestion-{uuid.uuid4().hex[:6]}@cd93.fr")
    return Setting(identity, await token_of(identity, admin), deployment_id, manager)


async def test_a_credential_s_secret_is_shown_once_and_kept_only_as_a_scrypt_hash(setting):
    identity = setting.identity
    created = await identity.call(p.CreatePartnerCredentialV1(partner="rdvi", deployment_ids=[setting.deployment_id]),
                                  setting.admin_token)
    assert created.credential.client_id.startswith("cdb_") and len(created.secret) >= 40
    listed = await identity.call(p.ListPartnerCredentialsV1(), setting.admin_token)
    assert created.credential.credential_id in [c.credential_id for c in listed.credentials]
    assert created.secret not in listed.model_dump_json()

    async with identity.sessions() as session:  # the whole database: no table holds the secret
        tables = [r[0] for r in (await session.execute(text(
            "SELECT name FROM sqlite_master WHERE type='table'" if identity.service.engine.dialect.name == "sqlite"
            else "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"))).all()]
        dump = ""
        for table in tables:
            dump += repr((await session.execute(text(f'SELECT * FROM "{table}"'))).all())
        stored = (await session.execute(text("SELECT secret_hash FROM partner_credential WHERE client_id = :c"),
                                        {"c": created.credential.client_id})).scalar_one()
    assert created.secret not in dump and created.credential.client_id in dump
    assert stored.startswith("scrypt$") and secret_matches(created.secret, stored)


async def test_a_good_credential_lends_the_named_manager_s_token_for_one_call_and_records_it(setting):
    identity = setting.identity
    created = await identity.call(p.CreatePartnerCredentialV1(partner="rdvi", deployment_ids=[setting.deployment_id]),
                                  setting.admin_token)
    # The address as the partner typed it: case does not matter.
    reply = await identity.call(setting.authenticate(created.credential.client_id, created.secret,
                                                     manager_email=setting.manager.email.upper()))
    claims = await identity.service.verifier.verify(reply.access_token)
    raw = jwt.decode(reply.access_token, options={"verify_signature": False})
    assert (claims.account_id, claims.role, claims.deployment_id) == (
        setting.manager.id, "manager", setting.deployment_id)
    assert raw["exp"] - raw["iat"] == 60
    assert (await identity.call(p.FinishPartnerCallV1(call_id=reply.call_id, result=p.PartnerCallResult.created,
                                                      status=201))).accepted
    calls = (await identity.call(p.ListPartnerCallsV1(), setting.admin_token)).calls
    [call] = [c for c in calls if c.call_id == reply.call_id]
    assert (call.partner, call.result, call.status, call.route) == (
        "rdvi", p.PartnerCallResult.created, 201, "POST /api/v1/partners/rdvi/notebooks")


async def test_a_wrong_secret_another_partner_or_territory_or_an_unknown_manager_is_refused_and_recorded(setting):
    identity = setting.identity
    created = await identity.call(p.CreatePartnerCredentialV1(partner="rdvi", deployment_ids=[setting.deployment_id]),
                                  setting.admin_token)
    client_id, secret = created.credential.client_id, created.secret
    elsewhere = await territory(identity)
    cases = [
        (setting.authenticate(client_id, secret + "x"), ErrorCode.forbidden, "refused"),
        (setting.authenticate("cdb_inconnu", secret), ErrorCode.forbidden, "refused"),
        (setting.authenticate(client_id, secret, partner="autre"), ErrorCode.forbidden, "refused"),
        (setting.authenticate(client_id, secret, deployment_id=elsewhere), ErrorCode.forbidden, "out_of_scope"),
        (setting.authenticate(client_id, secret, manager_email="inconnu@cd93.fr"), ErrorCode.invalid, "bad_request"),
        (setting.authenticate(client_id, secret, manager_email="pas une adresse"), ErrorCode.invalid, "bad_request"),
    ]
    for request, code, result in cases:
        error = await refused(identity.call(request))
        assert error.code == code, request
        if result == "bad_request":
            assert error.details["reason"] == p.BAD_REQUEST and "gestionnaire" in str(error)
    calls = (await identity.call(p.ListPartnerCallsV1(limit=500), setting.admin_token)).calls
    mine = [c for c in calls if c.client_id in (client_id, "cdb_inconnu")]
    assert sorted(c.result.value for c in mine[:len(cases)]) == sorted(r for *_, r in cases)


async def test_a_rotated_secret_replaces_the_old_one_and_a_revoked_credential_is_refused(setting):
    identity = setting.identity
    created = await identity.call(p.CreatePartnerCredentialV1(partner="rdvi", deployment_ids=[setting.deployment_id]),
                                  setting.admin_token)
    credential_id, client_id = created.credential.credential_id, created.credential.client_id
    rotated = await identity.call(p.RotatePartnerCredentialV1(credential_id=credential_id), setting.admin_token)
    assert rotated.secret != created.secret and rotated.credential.client_id == client_id
    old = await refused(identity.call(setting.authenticate(client_id, created.secret)))
    assert old.code == ErrorCode.forbidden
    assert (await identity.call(setting.authenticate(client_id, rotated.secret))).access_token

    assert (await identity.call(p.GetPartnerScopeV1(partner="rdvi"))).deployment_ids.count(setting.deployment_id) >= 1
    revoked = await identity.call(p.RevokePartnerCredentialV1(credential_id=credential_id), setting.admin_token)
    assert revoked.revoked_at is not None
    assert (await refused(identity.call(setting.authenticate(client_id, rotated.secret)))).code == ErrorCode.forbidden
    assert (await refused(identity.call(p.RotatePartnerCredentialV1(credential_id=credential_id),
                                        setting.admin_token))).code == ErrorCode.conflict


async def test_only_a_national_administrator_manages_credentials(setting):
    identity = setting.identity
    manager_token = await token_of(identity, setting.manager)
    for request in (p.ListPartnerCredentialsV1(), p.ListPartnerCallsV1(),
                    p.CreatePartnerCredentialV1(partner="rdvi", deployment_ids=[setting.deployment_id])):
        assert (await refused(identity.call(request, manager_token))).code == ErrorCode.forbidden
    assert (await refused(identity.call(p.ListPartnerCredentialsV1()))).code == ErrorCode.unauthenticated
    unknown = await refused(identity.call(p.CreatePartnerCredentialV1(partner="rdvi", deployment_ids=[uuid.uuid4()]),
                                          setting.admin_token))
    assert unknown.code == ErrorCode.invalid


async def test_a_partner_s_territories_are_those_of_its_active_credentials(setting):
    identity = setting.identity
    name = f"p{uuid.uuid4().hex[:8]}"
    first = await identity.call(p.CreatePartnerCredentialV1(partner=name, deployment_ids=[setting.deployment_id]),
                                setting.admin_token)
    assert (await identity.call(p.GetPartnerScopeV1(partner=name))).deployment_ids == [setting.deployment_id]
    await identity.call(p.RevokePartnerCredentialV1(credential_id=first.credential.credential_id), setting.admin_token)
    assert (await identity.call(p.GetPartnerScopeV1(partner=name))).deployment_ids == []


async def test_the_secret_is_checked_off_the_event_loop_so_bogus_credentials_cannot_stall_identity(setting,
                                                                                                   monkeypatch):
    """scrypt takes tens of milliseconds of CPU by design: checked on the event loop, a stream of wrong Basic
    credentials (no account needed) would stall every other RPC of identity. It runs in a worker thread."""
    import threading

    from identity.handlers import authenticate_partner as handler

    threads = []

    def spying(secret: str, stored: str) -> bool:
        threads.append(threading.current_thread())
        return secret_matches(secret, stored)

    monkeypatch.setattr(handler, "secret_matches", spying)
    identity = setting.identity
    created = await identity.call(p.CreatePartnerCredentialV1(partner="rdvi", deployment_ids=[setting.deployment_id]),
                                  setting.admin_token)
    assert (await identity.call(setting.authenticate(created.credential.client_id, created.secret))).access_token
    assert (await refused(identity.call(setting.authenticate("cdb_inconnu", "x")))).code == ErrorCode.forbidden
    assert len(threads) == 2 and threading.main_thread() not in threads
