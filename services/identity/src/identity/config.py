from pydantic import SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings

DEV_SECRET = "dev-only-secret-do-not-use-in-production"


class IdentitySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="IDENTITY_", extra="ignore", populate_by_name=True)

    # Encrypts signing keys at rest and keys the hashes of SMS codes. Required in production.
    secret_key: SecretStr = SecretStr(DEV_SECRET)
    login_link_ttl_s: int = 15 * 60
    # An invitation is read days later; once used or expired, the person asks for a login link as usual.
    invitation_link_ttl_s: int = 7 * 24 * 3600
    sms_code_ttl_s: int = 10 * 60
    sms_code_max_attempts: int = 5
    email_change_ttl_s: int = 24 * 3600
    access_token_ttl_s: int = 15 * 60
    refresh_token_ttl_s: int = 30 * 24 * 3600
    signing_key_max_age_days: int = 30
    # Rate limits over a sliding window, counted for known and unknown emails alike.
    rate_window_s: int = 15 * 60
    max_link_requests_per_email: int = 5  # per phone number too, for SMS codes
    # One address is often many people (an office, a NAT, a proxy not declared to the gateway): high enough
    # that a fuzzer asking for links for random emails cannot lock them out, low enough to slow it down.
    max_login_attempts_per_ip: int = 300
    # A wrong or spent link (or OIDC state) presented again and again is refused per token, not per address.
    max_tries_per_token: int = 5
    # Terms of use: raising the version asks every account to accept them again.
    cgu_version: str = "2024-01"
    # Single sign-on for professionals (ProConnect or any OpenID Connect provider); off when no issuer is set.
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: SecretStr = SecretStr("")
    oidc_scopes: str = "openid email given_name usual_name"
    oidc_label: str = "ProConnect"
    # Whether the provider vouches for every email it returns (ProConnect does); otherwise ``email_verified`` is required.
    oidc_trusts_emails: bool = False
    oidc_login_ttl_s: int = 10 * 60

    @model_validator(mode="after")
    def _production_has_a_secret(self):
        if self.env == "prod" and self.secret_key.get_secret_value() == DEV_SECRET:
            raise ValueError("IDENTITY_SECRET_KEY must be set in production")
        return self

    @property
    def key_password(self) -> bytes:
        return self.secret_key.get_secret_value().encode()

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id)
