"""What a running process needs of the bus's access rules: its user's inbox and the URLs' credentials, and the
streams each service sweeps. Kept apart from ``servicekit.bus_access``, whose table of permissions imports every
service's contracts: every process imported them all at start for these few functions (1.8 to 4.7 MB of its idle
RSS, issue 19 item 4). ``bus_access`` renders the servers' configuration from the same names."""
from __future__ import annotations

from urllib.parse import unquote, urlsplit, urlunsplit

INBOX = "_INBOX"
# Retention (issue 21): the streams each service sweeps of a purged beneficiary's messages: its own (it published
# what is there), and the partners' messages for the import service, which consumes them. SECRETS is nobody's to
# read; its max_age (a secret's lifetime) is its limit.
SWEPT_STREAMS = {"identity": ("IDENTITY",), "notebook": ("NOTEBOOK",), "notify": ("NOTIFY",),
                 "data_import": ("IMPORT", "PARTNER")}


def inbox_of(user: str) -> str:
    return f"{INBOX}.{user}"


def inbox_prefix(nats_url: str) -> str:
    """The inbox to give nats-py or FastStream (``inbox_prefix=``) for the user of this URL: its replies come
    there, and nowhere another user may subscribe."""
    user = urlsplit(server_urls(nats_url)[0]).username
    return inbox_of(user) if user else INBOX


def pull_inbox_prefix(nats_url: str) -> bytes:
    """The same inbox for a FastStream pull subscriber (``subscriber(..., inbox_prefix=)``), which takes one of
    its own, with a trailing dot, and otherwise uses ``_INBOX.`` whatever the broker's."""
    return f"{inbox_prefix(nats_url)}.".encode()


def server_urls(nats_url: str) -> list[str]:
    """The servers of ``NATS_URL``: one URL, or the servers of a cluster separated by commas (as nats' Go client
    and CLI take them), each with the user's credentials."""
    return [url.strip() for url in nats_url.split(",") if url.strip()]


def credentials(nats_url: str) -> tuple[str, str] | None:
    """The user and password of ``NATS_URL``'s first server. Given to the client for every server: the servers a
    cluster advertises (``connect_urls``) come without them, and a reconnection to one would be refused."""
    parts = urlsplit(server_urls(nats_url)[0])
    if parts.username is None or parts.password is None:
        return None
    return unquote(parts.username), unquote(parts.password)


def without_credentials(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=host))


def redacted(nats_url: str) -> str:
    """The URL (each server's) without its password, for a log line."""
    return ",".join(_redacted(url) for url in server_urls(nats_url))


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))
