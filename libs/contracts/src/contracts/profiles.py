"""Profile events that identity turns into accounts: people of structures (directory) and beneficiaries (notebook).

Each event carries the whole profile as it is now (state, not a diff), so that a consumer keeps its
read model without calling back; ``created`` and ``updated`` are applied the same way (an upsert).
"""
from __future__ import annotations

import uuid
from typing import ClassVar

from pydantic import Field

from contracts.base import IntegrationEvent
from contracts.identity import Role
from contracts.registry import register


class ProfileState(IntegrationEvent):
    """A person's profile in the service that owns it; ``role`` is fixed by the event class."""

    role: ClassVar[Role]

    profile_id: uuid.UUID
    deployment_id: uuid.UUID | None
    email: str | None = Field(default=None, max_length=320)
    # French mobile number as typed or as E.164; the beneficiary's way to log in by SMS code.
    phone: str | None = Field(default=None, max_length=40)
    firstname: str = Field(default="", max_length=120)
    lastname: str = Field(default="", max_length=120)
    position: str = Field(default="", max_length=200)
    # Professionals: their structure; structure admins: every structure they administer.
    structure_ids: list[uuid.UUID] = Field(default_factory=list)
    # Professionals: the orientation systems ("dispositifs") they are habilitated for.
    orientation_system_ids: list[uuid.UUID] = Field(default_factory=list)
    # Who created it, when a person did (an import or a partner otherwise): shown in the invitation.
    created_by_name: str = Field(default="", max_length=250)


class ProfileDeactivated(IntegrationEvent):
    role: ClassVar[Role]

    profile_id: uuid.UUID
    deployment_id: uuid.UUID | None


def _profile_events(owner: str, aggregate: str, role: Role) -> tuple[type, type, type]:
    """The created / updated / deactivated events of one kind of profile, registered on their subjects."""
    namespace = {"role": role, "__module__": __name__}
    created = type(f"{aggregate.title().replace('_', '')}CreatedV1", (ProfileState,),
                   {**namespace, "subject": f"{owner}.{aggregate}.created.v1"})
    updated = type(f"{aggregate.title().replace('_', '')}UpdatedV1", (ProfileState,),
                   {**namespace, "subject": f"{owner}.{aggregate}.updated.v1"})
    deactivated = type(f"{aggregate.title().replace('_', '')}DeactivatedV1", (ProfileDeactivated,),
                       {**namespace, "subject": f"{owner}.{aggregate}.deactivated.v1"})
    for cls in (created, updated, deactivated):
        cls.__annotations__ = {"subject": ClassVar[str], "role": ClassVar[Role]}
        register(cls)
    return created, updated, deactivated


ProfessionalCreatedV1, ProfessionalUpdatedV1, ProfessionalDeactivatedV1 = _profile_events(
    "directory", "professional", Role.professional)
ManagerCreatedV1, ManagerUpdatedV1, ManagerDeactivatedV1 = _profile_events("directory", "manager", Role.manager)
AdminStructureCreatedV1, AdminStructureUpdatedV1, AdminStructureDeactivatedV1 = _profile_events(
    "directory", "admin_structure", Role.admin_structure)
OrientationManagerCreatedV1, OrientationManagerUpdatedV1, OrientationManagerDeactivatedV1 = _profile_events(
    "directory", "orientation_manager", Role.orientation_manager)
BeneficiaryCreatedV1, BeneficiaryUpdatedV1, BeneficiaryDeactivatedV1 = _profile_events(
    "notebook", "beneficiary", Role.beneficiary)

PROFILE_STATE_EVENTS: tuple[type[ProfileState], ...] = (
    ProfessionalCreatedV1, ProfessionalUpdatedV1, ManagerCreatedV1, ManagerUpdatedV1,
    AdminStructureCreatedV1, AdminStructureUpdatedV1, OrientationManagerCreatedV1, OrientationManagerUpdatedV1,
    BeneficiaryCreatedV1, BeneficiaryUpdatedV1,
)
PROFILE_DEACTIVATED_EVENTS: tuple[type[ProfileDeactivated], ...] = (
    ProfessionalDeactivatedV1, ManagerDeactivatedV1, AdminStructureDeactivatedV1,
    OrientationManagerDeactivatedV1, BeneficiaryDeactivatedV1,
)


@register
class DeploymentCreatedV1(IntegrationEvent):
    """A territory (one per département); identity lists them on the public sign-up form."""

    subject: ClassVar[str] = "directory.deployment.created.v1"

    deployment_id: uuid.UUID
    label: str = Field(max_length=200)
    department_code: str = Field(max_length=3)
