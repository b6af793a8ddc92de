"""Messages owned by the identity service."""
from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import Field

from contracts.base import IntegrationEvent, RpcReply, RpcRequest, WireModel
from contracts.inputs import Line, Offset
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

    email: Line = Field(max_length=320)
    client: ClientInfo = Field(default_factory=ClientInfo)


@register
class ExchangeLoginLinkV1(RpcRequest):
    subject: ClassVar[str] = "rpc.identity.exchange_login_link.v1"
    reply_model: ClassVar = TokenPairReply

    token: Line = Field(max_length=200)
    client: ClientInfo = Field(default_factory=ClientInfo)


@register
class RefreshSessionV1(RpcRequest):
    subject: ClassVar[str] = "rpc.identity.refresh_session.v1"
    reply_model: ClassVar = TokenPairReply

    refresh_token: Line = Field(max_length=200)
    client: ClientInfo = Field(default_factory=ClientInfo)


@register
class LogoutV1(RpcRequest):
    subject: ClassVar[str] = "rpc.identity.logout.v1"
    reply_model: ClassVar = AcceptedReply

    refresh_token: Line = Field(max_length=200)


class PendingStep(StrEnum):
    """What an account must do before anything else: every other page and call is refused until done."""

    cgu = "cgu"
    onboarding = "onboarding"


class AccountStatus(StrEnum):
    pending = "pending"  # a public sign-up request, waiting for a manager of the territory
    active = "active"
    deactivated = "deactivated"


class MeReply(RpcReply):
    account_id: uuid.UUID
    email: str | None
    phone: str | None
    role: Role
    deployment_id: uuid.UUID | None
    profile_id: uuid.UUID | None
    structure_ids: list[uuid.UUID] = Field(default_factory=list)
    firstname: str = ""
    lastname: str = ""
    position: str = ""
    pending_steps: list[PendingStep] = Field(default_factory=list)
    cgu_version: str = ""


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


class DeploymentChoice(WireModel):
    deployment_id: uuid.UUID
    label: str
    department_code: str


class DemoAccount(WireModel):
    email: Line = Field(max_length=320)
    role: Role
    deployment_id: uuid.UUID | None = None
    phone: Line | None = Field(default=None, max_length=40)
    firstname: Line = Field(default="", max_length=120)
    lastname: Line = Field(default="", max_length=120)
    structure_ids: list[uuid.UUID] = Field(default_factory=list)


class SeedDemoAccountsReply(RpcReply):
    created: int
    existing: int


@register
class SeedDemoAccountsV1(RpcRequest):
    """Creates demo accounts; answered only when the service runs in dev or test mode."""

    subject: ClassVar[str] = "rpc.identity.seed_demo_accounts.v1"
    reply_model: ClassVar = SeedDemoAccountsReply

    accounts: list[DemoAccount] = Field(max_length=100)
    deployments: list[DeploymentChoice] = Field(default_factory=list, max_length=20)


class AdministratorReply(RpcReply):
    account_id: uuid.UUID
    created: bool  # False: the address was already an administrator's (a new invitation was sent)


@register
class CreateAdministratorV1(RpcRequest):
    """A national administrator (admin_cdb), created by the operator (``carnet admin create``) on a new installation
    and invited by email; in any mode, but only the operator's bus user may send it."""

    subject: ClassVar[str] = "rpc.identity.create_administrator.v1"
    reply_model: ClassVar = AdministratorReply

    email: Line = Field(max_length=320)
    firstname: Line = Field(min_length=1, max_length=120)
    lastname: Line = Field(min_length=1, max_length=120)


class AccessTokenReply(RpcReply):
    """A fresh access token for the same session, after a change of what the token says (CGU, onboarding)."""

    access_token: str
    token_type: str = "Bearer"
    expires_in: int


@register
class RequestSmsCodeV1(RpcRequest):
    """Sends a 6-digit code by SMS to the beneficiary holding this mobile number; same answer otherwise."""

    subject: ClassVar[str] = "rpc.identity.request_sms_code.v1"
    reply_model: ClassVar = AcceptedReply

    phone: Line = Field(max_length=40)
    client: ClientInfo = Field(default_factory=ClientInfo)


@register
class VerifySmsCodeV1(RpcRequest):
    subject: ClassVar[str] = "rpc.identity.verify_sms_code.v1"
    reply_model: ClassVar = TokenPairReply

    phone: Line = Field(max_length=40)
    code: Line = Field(max_length=12)
    client: ClientInfo = Field(default_factory=ClientInfo)


@register
class AcceptCguV1(RpcRequest):
    subject: ClassVar[str] = "rpc.identity.accept_cgu.v1"
    reply_model: ClassVar = AccessTokenReply

    version: Line = Field(max_length=20)


class ProfileFields(WireModel):
    firstname: Line = Field(max_length=120)
    lastname: Line = Field(max_length=120)
    phone: Line = Field(default="", max_length=40)
    position: Line = Field(default="", max_length=200)


@register
class CompleteOnboardingV1(RpcRequest):
    subject: ClassVar[str] = "rpc.identity.complete_onboarding.v1"
    reply_model: ClassVar = AccessTokenReply

    profile: ProfileFields


@register
class UpdateMyProfileV1(RpcRequest):
    subject: ClassVar[str] = "rpc.identity.update_my_profile.v1"
    reply_model: ClassVar = MeReply

    profile: ProfileFields


@register
class RequestEmailChangeV1(RpcRequest):
    """Sends a verification link to the new address; the email changes only when that link is used."""

    subject: ClassVar[str] = "rpc.identity.request_email_change.v1"
    reply_model: ClassVar = AcceptedReply

    new_email: Line = Field(max_length=320)


@register
class ConfirmEmailChangeV1(RpcRequest):
    subject: ClassVar[str] = "rpc.identity.confirm_email_change.v1"
    reply_model: ClassVar = AcceptedReply

    token: Line = Field(max_length=200)


class SessionView(WireModel):
    session_id: uuid.UUID
    started_at: datetime
    last_used_at: datetime
    ip: str
    user_agent: str
    current: bool


class SessionsReply(RpcReply):
    sessions: list[SessionView]


@register
class ListMySessionsV1(RpcRequest):
    subject: ClassVar[str] = "rpc.identity.list_my_sessions.v1"
    reply_model: ClassVar = SessionsReply


@register
class RevokeMySessionV1(RpcRequest):
    subject: ClassVar[str] = "rpc.identity.revoke_my_session.v1"
    reply_model: ClassVar = AcceptedReply

    session_id: uuid.UUID


class LoginEvent(WireModel):
    kind: str
    success: bool
    ip: str
    user_agent: str
    at: datetime


class LoginHistoryReply(RpcReply):
    events: list[LoginEvent]


@register
class ListLoginHistoryV1(RpcRequest):
    """The login audit of an account: one's own, or of an account one manages (``account_id``)."""

    subject: ClassVar[str] = "rpc.identity.list_login_history.v1"
    reply_model: ClassVar = LoginHistoryReply

    account_id: uuid.UUID | None = None
    limit: int = Field(default=50, ge=1, le=200)


class AccountView(WireModel):
    account_id: uuid.UUID
    email: str | None
    phone: str | None
    role: Role
    status: AccountStatus
    deployment_id: uuid.UUID | None
    firstname: str
    lastname: str
    position: str
    requested_structure: str
    created_at: datetime
    last_login_at: datetime | None
    allowed_actions: list[str]


class AccountsReply(RpcReply):
    accounts: list[AccountView]
    total: int


@register
class ListAccountsV1(RpcRequest):
    """The accounts an administrator manages, newest first, filtered by status and role."""

    subject: ClassVar[str] = "rpc.identity.list_accounts.v1"
    reply_model: ClassVar = AccountsReply

    status: AccountStatus | None = None
    role: Role | None = None
    offset: Offset = 0
    limit: int = Field(default=50, ge=1, le=200)


class AccountAction(StrEnum):
    confirm = "confirm"
    deactivate = "deactivate"
    reactivate = "reactivate"
    resend_invitation = "resend_invitation"


@register
class ChangeAccountV1(RpcRequest):
    subject: ClassVar[str] = "rpc.identity.change_account.v1"
    reply_model: ClassVar = AccountView

    account_id: uuid.UUID
    action: AccountAction


class LoginOptionsReply(RpcReply):
    deployments: list[DeploymentChoice]
    oidc_enabled: bool
    oidc_label: str
    cgu_version: str


@register
class GetLoginOptionsV1(RpcRequest):
    """Public: territories open to sign-up requests, whether single sign-on is offered, current CGU version."""

    subject: ClassVar[str] = "rpc.identity.login_options.v1"
    reply_model: ClassVar = LoginOptionsReply


@register
class RequestSignupV1(RpcRequest):
    """A professional asks for an account; it stays pending until a manager of the territory confirms it."""

    subject: ClassVar[str] = "rpc.identity.request_signup.v1"
    reply_model: ClassVar = AcceptedReply

    email: Line = Field(max_length=320)
    profile: ProfileFields
    deployment_id: uuid.UUID
    structure_name: Line = Field(max_length=250)
    client: ClientInfo = Field(default_factory=ClientInfo)


class OidcStartReply(RpcReply):
    authorization_url: str


@register
class StartOidcLoginV1(RpcRequest):
    subject: ClassVar[str] = "rpc.identity.start_oidc_login.v1"
    reply_model: ClassVar = OidcStartReply


@register
class CompleteOidcLoginV1(RpcRequest):
    subject: ClassVar[str] = "rpc.identity.complete_oidc_login.v1"
    reply_model: ClassVar = TokenPairReply

    code: Line = Field(max_length=2000)
    state: Line = Field(max_length=200)
    client: ClientInfo = Field(default_factory=ClientInfo)


# --- events ----------------------------------------------------------------------------------------


@register
class AccountCreatedV1(IntegrationEvent):
    subject: ClassVar[str] = "identity.account.created.v1"

    account_id: uuid.UUID
    email: str
    role: Role
    deployment_id: uuid.UUID | None
    profile_id: uuid.UUID | None


class AccountState(IntegrationEvent):
    account_id: uuid.UUID
    role: Role
    deployment_id: uuid.UUID | None
    profile_id: uuid.UUID | None
    email: str | None
    firstname: str = ""
    lastname: str = ""


@register
class AccountConfirmedV1(AccountState):
    """A pending sign-up request was accepted: the owner of profiles may now create the person's profile."""

    subject: ClassVar[str] = "identity.account.confirmed.v1"

    phone: str | None = None
    position: str = ""
    requested_structure: str = ""


@register
class AccountDeactivatedV1(AccountState):
    subject: ClassVar[str] = "identity.account.deactivated.v1"


@register
class AccountReactivatedV1(AccountState):
    subject: ClassVar[str] = "identity.account.reactivated.v1"


@register
class AccountProfileChangedV1(AccountState):
    """The person completed onboarding, edited "Mon compte" or verified a new email."""

    subject: ClassVar[str] = "identity.account.profile_changed.v1"

    phone: str | None = None
    position: str = ""


@register
class SignupRequestedV1(AccountState):
    """Managers of the territory are told (by email) that a request waits for them."""

    subject: ClassVar[str] = "identity.account.signup_requested.v1"

    requested_structure: str = ""
    manager_emails: list[str] = Field(default_factory=list)


@register
class SessionsRevokedV1(IntegrationEvent):
    """Access tokens of this account (or of one of its sessions) issued up to ``revoked_at`` are refused.

    Every service that verifies tokens follows this subject, so a deactivation takes effect at the next request.
    """

    subject: ClassVar[str] = "identity.sessions.revoked.v1"

    account_id: uuid.UUID
    session_id: uuid.UUID | None = None
    revoked_at: datetime


class LinkPurpose(StrEnum):
    login = "login"
    invitation = "invitation"
    signup_confirmed = "signup_confirmed"
    email_change = "email_change"


@register
class LoginLinkIssuedV1(IntegrationEvent):
    """Carries the one-time token in clear, hence its own ``SECRETS`` stream that forgets it after 15 min."""

    subject: ClassVar[str] = "secret.identity.login_link.issued.v1"

    account_id: uuid.UUID
    email: str
    token: str
    expires_at: datetime
    purpose: LinkPurpose = LinkPurpose.login
    firstname: str = ""
    invited_by: str = ""


@register
class SmsCodeIssuedV1(IntegrationEvent):
    subject: ClassVar[str] = "secret.identity.sms_code.issued.v1"

    account_id: uuid.UUID
    phone: str
    code: str
    expires_at: datetime
