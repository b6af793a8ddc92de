from typing import Literal

from pydantic import SecretStr

from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings


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
