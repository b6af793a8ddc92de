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

    @model_validator(mode="after")
    def _production_has_a_secret(self):
        if self.env == "prod" and self.secret_key.get_secret_value() == DEV_SECRET:
            raise ValueError("NOTEBOOK_SECRET_KEY must be set in production")
        return self
