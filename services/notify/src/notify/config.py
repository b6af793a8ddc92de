from typing import Literal

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
