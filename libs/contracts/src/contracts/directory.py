"""Messages owned by the directory service: territories, orientation systems, structures, people, annuaire.

People events (``directory.professional.created.v1`` …) are in ``contracts.profiles``, beside the
beneficiary ones, because identity consumes them all the same way.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from contracts.base import IntegrationEvent, RpcReply, RpcRequest, WireModel, Withholding
from contracts.inputs import Line, Offset, PostalCode, Text, Version, Website
from contracts.identity import AcceptedReply, Role
from contracts.registry import register


class OrientationType(StrEnum):
    pro = "pro"
    social = "social"
    sociopro = "sociopro"
    autre = "autre"


class PersonRole(StrEnum):
    """The people of the directory; a role of identity each."""

    manager = Role.manager.value
    admin_structure = Role.admin_structure.value
    orientation_manager = Role.orientation_manager.value
    professional = Role.professional.value


# --- shapes ------------------------------------------------------------------------------------------


class PersonFields(WireModel):
    firstname: Line = Field(max_length=120)
    lastname: Line = Field(max_length=120)
    email: Line = Field(max_length=320)
    phone: Line = Field(default="", max_length=40)
    position: Line = Field(default="", max_length=200)


class StructureFields(WireModel):
    name: Line = Field(max_length=250)
    siret: Line = Field(default="", max_length=20)
    short_desc: Text = Field(default="", max_length=2000)
    address1: Line = Field(default="", max_length=250)
    address2: Line = Field(default="", max_length=250)
    postal_code: PostalCode = ""
    city: Line = Field(default="", max_length=120)
    phone: Line = Field(default="", max_length=40)
    email: Line = Field(default="", max_length=320)
    website: Website = ""
    # "Structure dont l'objet permet de déduire des informations sensibles": hidden from professionals.
    sensitive: bool = False
    orientation_system_ids: list[uuid.UUID] = Field(default_factory=list, max_length=50)


class OrientationSystemView(WireModel):
    orientation_system_id: uuid.UUID
    name: str
    orientation_type: OrientationType


class StructureView(StructureFields, Withholding):
    structure_id: uuid.UUID
    deployment_id: uuid.UUID
    orientation_systems: list[OrientationSystemView] = Field(default_factory=list)
    professionals: int = 0
    version: int = 1
    deactivated: bool = False
    # ``sensitive`` is withheld from those who may not see it (professionals): the flag itself is the secret.
    can_edit: bool = False


class StructureRef(WireModel):
    structure_id: uuid.UUID
    name: str


class PersonView(WireModel):
    person_id: uuid.UUID
    role: PersonRole
    deployment_id: uuid.UUID
    firstname: str
    lastname: str
    email: str
    phone: str
    position: str
    structures: list[StructureRef] = Field(default_factory=list)
    orientation_systems: list[OrientationSystemView] = Field(default_factory=list)
    deactivated: bool = False
    can_edit: bool = False  # names, contact, structures, dispositifs
    can_deactivate: bool = False
    version: int = 1
    # Notify could not deliver there: shown until the address or number is corrected.
    email_failed_at: datetime | None = None
    phone_failed_at: datetime | None = None


class DeploymentView(WireModel):
    deployment_id: uuid.UUID
    label: str
    department_code: str
    structures: int = 0
    professionals: int = 0
    beneficiaries: int = 0
    managers: list[PersonView] = Field(default_factory=list)
    orientation_systems: list[OrientationSystemView] = Field(default_factory=list)


class DeploymentsReply(RpcReply):
    deployments: list[DeploymentView]


class StructuresReply(RpcReply):
    structures: list[StructureView]
    total: int


class PeopleReply(RpcReply):
    people: list[PersonView]
    total: int


class OrientationSystemsReply(RpcReply):
    orientation_systems: list[OrientationSystemView]


class DeploymentReply(RpcReply, DeploymentView):
    pass


class StructureReply(RpcReply, StructureView):
    pass


class PersonReply(RpcReply, PersonView):
    pass


class OrientationSystemReply(RpcReply, OrientationSystemView):
    pass


# --- RPC ---------------------------------------------------------------------------------------------


@register
class CreateDeploymentV1(RpcRequest):
    """admin_cdb: a territory with its first manager, who is invited by email."""

    subject: ClassVar[str] = "rpc.directory.create_deployment.v1"
    reply_model: ClassVar = DeploymentReply

    label: Line = Field(max_length=200)
    department_code: Line = Field(max_length=3)
    manager: PersonFields


@register
class ListDeploymentsV1(RpcRequest):
    subject: ClassVar[str] = "rpc.directory.list_deployments.v1"
    reply_model: ClassVar = DeploymentsReply


@register
class GetDeploymentV1(RpcRequest):
    """One territory with its counts, managers and orientation systems; ``None`` means the caller's own."""

    subject: ClassVar[str] = "rpc.directory.get_deployment.v1"
    reply_model: ClassVar = DeploymentReply

    deployment_id: uuid.UUID | None = None


@register
class CreateOrientationSystemV1(RpcRequest):
    subject: ClassVar[str] = "rpc.directory.create_orientation_system.v1"
    reply_model: ClassVar = OrientationSystemReply

    deployment_id: uuid.UUID | None = None
    name: Line = Field(max_length=120)
    orientation_type: OrientationType


@register
class ListOrientationSystemsV1(RpcRequest):
    subject: ClassVar[str] = "rpc.directory.list_orientation_systems.v1"
    reply_model: ClassVar = OrientationSystemsReply

    deployment_id: uuid.UUID | None = None


@register
class CreateStructureV1(RpcRequest):
    subject: ClassVar[str] = "rpc.directory.create_structure.v1"
    reply_model: ClassVar = StructureReply

    deployment_id: uuid.UUID | None = None
    structure: StructureFields


@register
class UpdateStructureV1(RpcRequest):
    """``version`` is the one the editor read: a concurrent edit answers 409 instead of being overwritten."""

    subject: ClassVar[str] = "rpc.directory.update_structure.v1"
    reply_model: ClassVar = StructureReply

    structure_id: uuid.UUID
    version: Version
    structure: StructureFields


@register
class GetStructureV1(RpcRequest):
    subject: ClassVar[str] = "rpc.directory.get_structure.v1"
    reply_model: ClassVar = StructureReply

    structure_id: uuid.UUID


@register
class SearchStructuresV1(RpcRequest):
    """Annuaire of structures: words match name, city and postal code, without accents or case."""

    subject: ClassVar[str] = "rpc.directory.search_structures.v1"
    reply_model: ClassVar = StructuresReply

    deployment_id: uuid.UUID | None = None
    q: Line = Field(default="", max_length=200)
    orientation_system_id: uuid.UUID | None = None
    offset: Offset = 0
    limit: int = Field(default=20, ge=1, le=100)


@register
class CreatePersonV1(RpcRequest):
    """A professional, structure admin, orientation manager or manager; identity invites them by email."""

    subject: ClassVar[str] = "rpc.directory.create_person.v1"
    reply_model: ClassVar = PersonReply

    deployment_id: uuid.UUID | None = None
    role: PersonRole
    person: PersonFields
    structure_ids: list[uuid.UUID] = Field(default_factory=list, max_length=50)
    orientation_system_ids: list[uuid.UUID] = Field(default_factory=list, max_length=50)


@register
class UpdatePersonV1(RpcRequest):
    """Corrects a person (name, email, phone, position, structures, orientation systems); identity follows."""

    subject: ClassVar[str] = "rpc.directory.update_person.v1"
    reply_model: ClassVar = PersonReply

    person_id: uuid.UUID
    version: Version  # the version the editor read: an older one answers 409 with the current person
    person: PersonFields
    structure_ids: list[uuid.UUID] = Field(default_factory=list, max_length=50)
    orientation_system_ids: list[uuid.UUID] = Field(default_factory=list, max_length=50)


@register
class GetPersonV1(RpcRequest):
    subject: ClassVar[str] = "rpc.directory.get_person.v1"
    reply_model: ClassVar = PersonReply

    person_id: uuid.UUID


@register
class DeactivatePersonV1(RpcRequest):
    """Soft deactivation: history is kept, the account is closed, notebook memberships end."""

    subject: ClassVar[str] = "rpc.directory.deactivate_person.v1"
    reply_model: ClassVar = PersonReply

    person_id: uuid.UUID


@register
class SearchPeopleV1(RpcRequest):
    """Annuaire of people: words match names, email, structure, city and postal code, without accents or case."""

    subject: ClassVar[str] = "rpc.directory.search_people.v1"
    reply_model: ClassVar = PeopleReply

    deployment_id: uuid.UUID | None = None
    q: Line = Field(default="", max_length=200)
    role: PersonRole | None = None
    structure_id: uuid.UUID | None = None
    orientation_system_id: uuid.UUID | None = None
    include_deactivated: bool = False
    offset: Offset = 0
    limit: int = Field(default=20, ge=1, le=100)


class DemoPerson(WireModel):
    person_id: uuid.UUID
    role: PersonRole
    person: PersonFields
    structure_ids: list[uuid.UUID] = Field(default_factory=list)


class DemoStructure(WireModel):
    structure_id: uuid.UUID
    structure: StructureFields


@register
class SeedDemoTerritoryV1(RpcRequest):
    """Dev mode only: a territory with its default orientation systems, structures and people."""

    subject: ClassVar[str] = "rpc.directory.seed_demo_territory.v1"
    reply_model: ClassVar = AcceptedReply

    deployment_id: uuid.UUID
    label: str
    department_code: str
    structures: list[DemoStructure] = Field(default_factory=list)
    people: list[DemoPerson] = Field(default_factory=list)


# --- events ------------------------------------------------------------------------------------------


class StructureState(IntegrationEvent):
    """A structure as it is now, for read models (notebook shows structures without calling back)."""

    structure_id: uuid.UUID
    deployment_id: uuid.UUID
    name: str
    postal_code: str = ""
    city: str = ""
    phone: str = ""
    email: str = ""
    sensitive: bool = False
    orientation_system_ids: list[uuid.UUID] = Field(default_factory=list)
    deactivated_at: datetime | None = None


@register
class StructureCreatedV1(StructureState):
    subject: ClassVar[str] = "directory.structure.created.v1"


@register
class StructureUpdatedV1(StructureState):
    subject: ClassVar[str] = "directory.structure.updated.v1"


@register
class OrientationSystemCreatedV1(IntegrationEvent):
    subject: ClassVar[str] = "directory.orientation_system.created.v1"

    orientation_system_id: uuid.UUID
    deployment_id: uuid.UUID
    name: str
    orientation_type: OrientationType
