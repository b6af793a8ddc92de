from pydantic import AliasChoices, Field
from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    host: str = Field("127.0.0.1", validation_alias=AliasChoices("CARNET_HOST"))
    port: int = Field(8080, validation_alias=AliasChoices("CARNET_PORT"))

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.startswith("https://")
