from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings


class DataImportSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DATA_IMPORT_", extra="ignore")
