from functools import cached_property
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

from pydantic import AliasChoices, Field
from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    host: str = Field("127.0.0.1", validation_alias=AliasChoices("CARNET_HOST"))
    port: int = Field(8080, validation_alias=AliasChoices("CARNET_PORT"))
    # Reverse proxies whose X-Forwarded-For is believed (addresses or networks, comma-separated). None by default:
    # a header anyone can write must not choose the address that rate limits and the login audit count.
    trusted_proxies: str = ""
    # Set by `carnet up --replicas N` for its gateways, which share the port (SO_REUSEPORT).
    reuse_port: bool = False
    # A page visitor's MeReply held per access token (gateway.auth.me_cache): seconds at most (0: asked every time),
    # and how many tokens' at most.
    me_cache_s: float = Field(5.0, ge=0, le=60)
    me_cache_size: int = Field(10_000, ge=0)

    @cached_property
    def trusted_proxy_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        return tuple(ip_network(item.strip(), strict=False) for item in self.trusted_proxies.split(",") if item.strip())

    def is_trusted_proxy(self, address: str) -> bool:
        try:
            parsed = ip_address(address)
        except ValueError:
            return False
        return any(parsed in network for network in self.trusted_proxy_networks)

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.startswith("https://")
