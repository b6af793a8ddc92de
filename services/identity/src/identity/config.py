from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings


class IdentitySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="IDENTITY_", extra="ignore")

    login_link_ttl_s: int = 15 * 60
    access_token_ttl_s: int = 15 * 60
    refresh_token_ttl_s: int = 30 * 24 * 3600
    signing_key_max_age_days: int = 30
    # Rate limits over a sliding window, counted for known and unknown emails alike.
    rate_window_s: int = 15 * 60
    max_link_requests_per_email: int = 5
    max_login_attempts_per_ip: int = 30
