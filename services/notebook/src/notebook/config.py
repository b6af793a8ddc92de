import uuid

from pydantic import SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings

DEV_SECRET = "dev-only-secret-do-not-use-in-production"


class NotebookSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTEBOOK_", extra="ignore", populate_by_name=True)

    # Encrypts the NIR and the CAF/MSA and France Travail numbers, and keys their blind indexes.
    # Changing it makes stored identifiers unreadable: rotate by re-encrypting, never by replacing.
    secret_key: SecretStr = SecretStr(DEV_SECRET)
    # How many entries of the history and of the access log the page shows.
    page_timeline_limit: int = 200
    page_visits_limit: int = 50
    # France Travail's APIs (spec §4.4): the "diagnostic argumenté" of the territories listed, read with these
    # client credentials (the secret comes from the environment only). Without credentials, no call is made.
    france_travail_auth_base_url: str = ""  # e.g. https://entreprise.francetravail.fr
    france_travail_api_base_url: str = ""  # e.g. https://api.francetravail.io
    france_travail_client_id: str = ""
    france_travail_client_secret: SecretStr = SecretStr("")
    france_travail_deployments: list[uuid.UUID] = []  # the territories whose notebooks are kept in sync
    france_travail_timeout_s: float = 30  # per HTTP request (the API is slow)
    france_travail_max_tries: int = 5  # of one request answered 429 (Retry-After honoured)
    france_travail_max_retry_after_s: float = 30  # a longer Retry-After is an unavailability
    france_travail_refresh_wait_s: float = 3  # how long "Actualiser" waits for the answer before replying
    france_travail_nightly_hour: int = 2  # the nightly refresh of the territories' notebooks, Paris time
    france_travail_schedule_interval_s: float = 300
    # Retention (issue 21): the night's run records and announces the notebooks due, from this hour (Paris time).
    retention_nightly_hour: int = 1
    retention_schedule_interval_s: float = 600

    @property
    def france_travail_enabled(self) -> bool:
        return bool(self.france_travail_auth_base_url and self.france_travail_api_base_url
                    and self.france_travail_client_id and self.france_travail_client_secret.get_secret_value()
                    and self.france_travail_deployments)

    @model_validator(mode="after")
    def _production_has_a_secret(self):
        if self.env == "prod" and self.secret_key.get_secret_value() == DEV_SECRET:
            raise ValueError("NOTEBOOK_SECRET_KEY must be set in production")
        return self
