"""Subject → message class. A second class on the same subject is a programming error caught at import."""
from __future__ import annotations

from collections.abc import Iterator

from contracts.base import IntegrationEvent, RpcRequest

WireClass = type[IntegrationEvent] | type[RpcRequest]


class DuplicateSubjectError(ValueError):
    pass


class Registry:
    def __init__(self) -> None:
        self._by_subject: dict[str, WireClass] = {}

    def add(self, cls: WireClass) -> WireClass:
        subject = cls.subject
        existing = self._by_subject.get(subject)
        if existing is not None and existing is not cls:
            raise DuplicateSubjectError(
                f"subject {subject!r} is already used by {existing.__module__}.{existing.__qualname__}"
            )
        self._by_subject[subject] = cls
        return cls

    def __getitem__(self, subject: str) -> WireClass:
        return self._by_subject[subject]

    def __contains__(self, subject: str) -> bool:
        return subject in self._by_subject

    def __iter__(self) -> Iterator[tuple[str, WireClass]]:
        return iter(sorted(self._by_subject.items()))


registry = Registry()
register = registry.add


def load_all() -> Registry:
    """Import every contract module so that the registry is complete."""
    from contracts import directory, identity, imports, notebook, notify, partners, profiles, webhooks  # noqa: F401
    from contracts import bulk_orientation  # noqa: F401
    from contracts import bilans  # noqa: F401
    from contracts import exchanges  # noqa: F401
    from contracts import transfers  # noqa: F401
    from contracts import pilotage  # noqa: F401
    from contracts import retention  # noqa: F401
    from contracts import rights  # noqa: F401
    from contracts import audit  # noqa: F401
    from contracts import orientation_requests  # noqa: F401

    return registry
