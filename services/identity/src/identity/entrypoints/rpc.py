"""Binds each RPC subject and each consumed event to its use case."""
from __future__ import annotations

from functools import partial

from contracts import identity as contract
from contracts import partners
from contracts.profiles import PROFILE_DEACTIVATED_EVENTS, PROFILE_STATE_EVENTS, DeploymentCreatedV1
from identity.handlers import profile_events
from identity.handlers import authenticate_partner, partner_credentials
from identity.handlers.accept_cgu import accept_cgu
from identity.handlers.complete_onboarding import complete_onboarding
from identity.handlers.create_administrator import create_administrator
from identity.handlers.deps import Deps
from identity.handlers.email_change import confirm_email_change, request_email_change
from identity.handlers.exchange_login_link import exchange_login_link
from identity.handlers.get_jwks import get_jwks
from identity.handlers.get_me import get_me
from identity.handlers.manage_accounts import change_account, list_accounts, list_login_history
from identity.handlers.my_sessions import list_my_sessions, revoke_my_session
from identity.handlers.oidc_login import complete_oidc_login, start_oidc_login
from identity.handlers.refresh_session import logout, refresh_session
from identity.handlers.request_login_link import request_login_link
from identity.handlers.seed_demo_accounts import seed_demo_accounts
from identity.handlers.signup import login_options, request_signup
from identity.handlers.sms_code import request_sms_code, verify_sms_code
from identity.handlers.update_my_profile import update_my_profile
from contracts.retention import RetentionDueV1
from identity.handlers import retention
from contracts.rights import GetIdentitySubjectDataV1
from identity.handlers import subject_data
from servicekit.app import Service
from servicekit.consumers import Subscription

ROUTES = {
    contract.RequestLoginLinkV1: request_login_link,
    contract.ExchangeLoginLinkV1: exchange_login_link,
    contract.RequestSmsCodeV1: request_sms_code,
    contract.VerifySmsCodeV1: verify_sms_code,
    contract.StartOidcLoginV1: start_oidc_login,
    contract.CompleteOidcLoginV1: complete_oidc_login,
    contract.RefreshSessionV1: refresh_session,
    contract.LogoutV1: logout,
    contract.GetMeV1: get_me,
    contract.GetJwksV1: get_jwks,
    contract.AcceptCguV1: accept_cgu,
    contract.CompleteOnboardingV1: complete_onboarding,
    contract.UpdateMyProfileV1: update_my_profile,
    contract.RequestEmailChangeV1: request_email_change,
    contract.ConfirmEmailChangeV1: confirm_email_change,
    contract.ListMySessionsV1: list_my_sessions,
    contract.RevokeMySessionV1: revoke_my_session,
    contract.ListLoginHistoryV1: list_login_history,
    contract.ListAccountsV1: list_accounts,
    contract.ChangeAccountV1: change_account,
    contract.GetLoginOptionsV1: login_options,
    contract.RequestSignupV1: request_signup,
    contract.SeedDemoAccountsV1: seed_demo_accounts,
    contract.CreateAdministratorV1: create_administrator,
    partners.AuthenticatePartnerV1: authenticate_partner.authenticate_partner,
    partners.FinishPartnerCallV1: authenticate_partner.finish_partner_call,
    partners.GetPartnerScopeV1: authenticate_partner.partner_scope,
    partners.ListPartnerCredentialsV1: partner_credentials.list_partner_credentials,
    partners.CreatePartnerCredentialV1: partner_credentials.create_partner_credential,
    partners.RotatePartnerCredentialV1: partner_credentials.rotate_partner_credential,
    partners.RevokePartnerCredentialV1: partner_credentials.revoke_partner_credential,
    partners.ListPartnerCallsV1: partner_credentials.list_partner_calls,
    GetIdentitySubjectDataV1: subject_data.get_subject_data,
}


def durable_name(event_type) -> str:
    """``identity-<owner>-<aggregate>-<event>``, one durable consumer per consumed subject."""
    owner, aggregate, event, _version = event_type.subject.split(".")
    return f"identity-{owner}-{aggregate}-{event}".replace("_", "-")


def register(service: Service, deps: Deps) -> None:
    for request_type, handler in ROUTES.items():
        service.handle(request_type, partial(handler, deps=deps))
    subscriptions = [(e, profile_events.on_profile_state) for e in PROFILE_STATE_EVENTS]
    subscriptions += [(e, profile_events.on_profile_deactivated) for e in PROFILE_DEACTIVATED_EVENTS]
    subscriptions.append((DeploymentCreatedV1, profile_events.on_deployment_created))
    for event_type, handler in subscriptions:
        service.subscribe(Subscription(durable=durable_name(event_type), event_type=event_type,
                                       handler=partial(handler, deps=deps)))
    # Retention (issue 21): her account goes, then identity's messages about her on its stream (a read of the whole
    # stream: longer than the default ack wait).
    service.subscribe(Subscription(durable=durable_name(RetentionDueV1), event_type=RetentionDueV1, ack_wait_s=600,
                                   handler=partial(retention.on_retention_due, deps=deps,
                                                   streams=lambda: service.bus.stream_context)))
