from typing import Literal

from pydantic import SecretStr, model_validator

from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings

DEV_SECRET = "dev-only-secret-do-not-use-in-production"


class NotifySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFY_", extra="ignore")

    # devmailbox keeps messages for /dev/mailbox instead of sending them (the default of `make run`).
    delivery: Literal["devmailbox", "smtp"] = "devmailbox"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_use_tls: bool = False
    smtp_timeout_s: float = 10
    mail_from: str = "Carnet de bord <ne-pas-repondre@carnet.test>"
    max_attempts: int = 8
    retry_base_s: float = 2.0
    # A message claimed for sending longer ago than this was interrupted (the process died mid-send): it may
    # have been delivered, so it is marked "uncertain" and never sent again by itself.
    sending_lease_s: float = 120
    # SMS: "none" fails them with a clear reason outside dev mode; "brevo" sends through a Brevo-compatible API.
    sms_provider: Literal["none", "brevo"] = "none"
    sms_api_url: str = ""
    sms_api_key: SecretStr = SecretStr("")
    sms_sender: str = "CarnetBord"
    sms_timeout_s: float = 10
    # Schedules (appointment reminders, nightly digest) are checked this often; each runs once per period
    # whatever the number of notify replicas.
    schedule_interval_s: float = 60
    # The digest of beneficiaries waiting for a référent goes out each day from this hour (Paris time).
    digest_hour: int = 7
    # Webhooks to partners: their signing secrets are encrypted with this key (read back to sign, so never
    # hashed). Changing it makes the stored secrets unreadable: rotate each subscription's secret instead.
    secret_key: SecretStr = SecretStr(DEV_SECRET)
    webhook_timeout_s: float = 10
    # A failed delivery is tried again after webhook_retry_base_s, doubling up to webhook_retry_cap_s; a
    # subscription failing for a day pauses (notify.domain.webhooks.PAUSE_AFTER).
    webhook_retry_base_s: float = 30
    webhook_retry_cap_s: float = 3600
    webhook_poll_s: float = 5

    @model_validator(mode="after")
    def _production_has_a_secret(self):
        if self.env == "prod" and self.secret_key.get_secret_value() == DEV_SECRET:
            raise ValueError("NOTIFY_SECRET_KEY must be set in production")
        return self
