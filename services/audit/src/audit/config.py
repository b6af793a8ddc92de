from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings


class AuditSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="AUDIT_", extra="ignore")

    # Lines are kept this many months (the CNIL's recommendation for access logs: 6 to 12), then purged.
    retention_months: int = 12
    # The purge is checked this often; it runs once a Paris day whatever the number of replicas.
    purge_interval_s: float = 600
