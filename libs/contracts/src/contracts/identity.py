"""Messages owned by the identity service."""
from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import Field

from contracts.base import IntegrationEvent, RpcReply, RpcRequest, WireModel
from contracts.registry import register


class Role(StrEnum):
    admin_cdb = "admin_cdb"
    manager = "manager"
    admin_structure = "admin_structure"
    orientation_manager = "orientation_manager"
    professional = "professional"
    beneficiary = "beneficiary"
    partner = "partner"


class ClientInfo(WireModel):
    """Who is asking, as seen by the gateway: used for rate limits and the login audit."""

    ip: str = ""
    user_agent: str = ""


# --- RPC -------------------------------------------------------------------------------------------


class AcceptedReply(RpcReply):
    accepted: bool = True


class TokenPairReply(RpcReply):
    access_token: str
    refresh_token: str
    token_type: str = "Bearer"
    expires_in: int


@register
class RequestLoginLinkV1(RpcRequest):
    subject: ClassVar[str] = "rpc.identity.request_login_link.v1"
    reply_model: ClassVar = AcceptedReply

    email: str = Field(max_length=320)
    client: ClientInfo = Field(default_factory=ClientInfo)


@register
class ExchangeLoginLinkV1(RpcRequest):
    subject: ClassVar[str] = "rpc.identity.exchange_login_link.v1"
    reply_model: ClassVar = TokenPairReply

    token: str = Field(max_length=200)
    client: ClientInfo = Field(default_factory=ClientInfo)


@register
class RefreshSessionV1(RpcRequest):
    subject: ClassVar[str] = "rpc.identity.refresh_session.v1"
    reply_model: ClassVar = TokenPairReply

    refresh_token: str = Field(max_length=200)
    client: ClientInfo = Field(default_factory=ClientInfo)


@register
class LogoutV1(RpcRequest):
    subject: ClassVar[str] = "rpc.identity.logout.v1"
    reply_model: ClassVar = AcceptedReply

    refresh_token: str = Field(max_length=200)


class MeReply(RpcReply):
    account_id: uuid.UUID
    email: str
    role: Role
    deployment_id: uuid.UUID | None
    profile_id: uuid.UUID | None


@register
class GetMeV1(RpcRequest):
    """Who the bearer of the access token is (the token travels in the Authorization header)."""

    subject: ClassVar[str] = "rpc.identity.get_me.v1"
    reply_model: ClassVar = MeReply


class JwksReply(RpcReply):
    keys: list[dict[str, Any]]


@register
class GetJwksV1(RpcRequest):
    subject: ClassVar[str] = "rpc.identity.jwks.v1"
    reply_model: ClassVar = JwksReply


class DemoAccount(WireModel):
    email: str = Field(max_length=320)
    role: Role
    deployment_id: uuid.UUID | None = None


class SeedDemoAccountsReply(RpcReply):
    created: int
    existing: int


@register
class SeedDemoAccountsV1(RpcRequest):
    """Creates demo accounts; answered only when the service runs in dev or test mode."""

    subject: ClassVar[str] = "rpc.identity.seed_demo_accounts.v1"
    reply_model: ClassVar = SeedDemoAccountsReply

    accounts: list[DemoAccount] = Field(max_length=100)


# --- events ----------------------------------------------------------------------------------------


@register
class AccountCreatedV1(IntegrationEvent):
    subject: ClassVar[str] = "identity.account.created.v1"

    account_id: uuid.UUID
    email: str
    role: Role
    deployment_id: uuid.UUID | None
    profile_id: uuid.UUID | None


@register
class LoginLinkIssuedV1(IntegrationEvent):
    """Carries the one-time token in clear, hence its own ``SECRETS`` stream that forgets it after 15 min."""

    subject: ClassVar[str] = "secret.identity.login_link.issued.v1"

    account_id: uuid.UUID
    email: str
    token: str
    expires_at: datetime
