"""What an account must do before using the service: accept the current CGU, then (people of structures)
complete their profile. The steps travel in the access token so every service refuses other calls."""
from __future__ import annotations

from datetime import datetime

from contracts.identity import PendingStep, Role

# v1 asked these roles to complete their profile at first login ("Création de mon compte …").
ONBOARDED_ROLES = frozenset({Role.professional, Role.manager, Role.admin_structure, Role.orientation_manager})


def pending_steps(role: str, accepted_cgu_version: str | None, onboarded_at: datetime | None,
                  current_cgu_version: str) -> list[PendingStep]:
    steps = []
    if role == Role.partner:
        return steps  # machine clients read no terms and have no profile page
    if accepted_cgu_version != current_cgu_version:
        steps.append(PendingStep.cgu)
    if role in ONBOARDED_ROLES and onboarded_at is None:
        steps.append(PendingStep.onboarding)
    return steps
