"""Composition root of the directory service: its process runs, serves health and relays its outbox;
its use cases arrive with their issues."""
from __future__ import annotations

from directory.config import DirectorySettings
from servicekit.app import Service

NAME = "directory"


def build(settings: DirectorySettings | None = None) -> Service:
    return Service(NAME, settings or DirectorySettings())


def main() -> None:
    build().run()
