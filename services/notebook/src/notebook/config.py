from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings


class NotebookSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTEBOOK_", extra="ignore")
