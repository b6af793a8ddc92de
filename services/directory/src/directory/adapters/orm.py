"""Tables of the directory service: territories, orientation systems, structures, people."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from servicekit.db import new_declarative_base, partial_index, versioned_by

Base = new_declarative_base()
metadata = Base.metadata
ACTIVE = text("deactivated_at IS NULL")


class Deployment(Base):
    __tablename__ = "deployment"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    label: Mapped[str] = mapped_column(String(200))
    department_code: Mapped[str] = mapped_column(String(3), unique=True)
    created_at: Mapped[datetime]


class OrientationSystem(Base):
    """A "dispositif d'accompagnement" of a territory."""

    __tablename__ = "orientation_system"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    deployment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("deployment.id"))
    name: Mapped[str] = mapped_column(String(120))
    name_key: Mapped[str] = mapped_column(String(120))  # accent- and case-free, unique per territory
    orientation_type: Mapped[str] = mapped_column(String(10))

    __table_args__ = (Index("uq_orientation_system_name", "deployment_id", "name_key", unique=True),)


class Structure(Base):
    __tablename__ = "structure"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    deployment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("deployment.id"))
    name: Mapped[str] = mapped_column(String(250))
    name_key: Mapped[str] = mapped_column(String(250))
    siret: Mapped[str] = mapped_column(String(14), default="")
    short_desc: Mapped[str] = mapped_column(Text, default="")
    address1: Mapped[str] = mapped_column(String(250), default="")
    address2: Mapped[str] = mapped_column(String(250), default="")
    postal_code: Mapped[str] = mapped_column(String(10), default="")
    city: Mapped[str] = mapped_column(String(120), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    email: Mapped[str] = mapped_column(String(320), default="")
    website: Mapped[str] = mapped_column(String(300), default="")
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    search_text: Mapped[str] = mapped_column(Text, default="")  # name, city, postal code without accents
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime | None]
    deactivated_at: Mapped[datetime | None]

    __mapper_args__ = versioned_by(version)
    __table_args__ = (
        partial_index("uq_structure_name", "deployment_id", "name_key", unique=True, where=ACTIVE),
    )


class StructureOrientationSystem(Base):
    __tablename__ = "structure_orientation_system"

    structure_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("structure.id"), primary_key=True)
    orientation_system_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orientation_system.id"), primary_key=True)


class Person(Base):
    """A manager, structure admin, orientation manager or professional: one table, ``role`` tells which."""

    __tablename__ = "person"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    role: Mapped[str] = mapped_column(String(30))
    deployment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("deployment.id"))
    firstname: Mapped[str] = mapped_column(String(120))
    lastname: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(320))
    phone: Mapped[str] = mapped_column(String(20), default="")
    position: Mapped[str] = mapped_column(String(200), default="")
    search_text: Mapped[str] = mapped_column(Text, default="")  # names, email, structures, cities
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime | None]
    deactivated_at: Mapped[datetime | None]
    # When notify last failed to deliver to this address or number; cleared when it is corrected.
    email_failed_at: Mapped[datetime | None]
    phone_failed_at: Mapped[datetime | None]
    # Raised by every edit of the person (theirs, a manager's): an edit made on an older page answers 409.
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = versioned_by(version)
    __table_args__ = (
        # One account per email at identity: one active person per email here.
        partial_index("uq_person_active_email", "email", unique=True, where=ACTIVE),
        Index("ix_person_deployment_role", "deployment_id", "role"),
    )


class PersonStructure(Base):
    """A professional's structure (exactly one), or the structures a structure admin administers."""

    __tablename__ = "person_structure"

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), primary_key=True)
    structure_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("structure.id"), primary_key=True, index=True)


class PersonOrientationSystem(Base):
    __tablename__ = "person_orientation_system"

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), primary_key=True)
    orientation_system_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orientation_system.id"), primary_key=True)


class BeneficiarySeen(Base):
    """Which beneficiaries the territory counts (idempotent: an event counted twice changes nothing)."""

    __tablename__ = "beneficiary_seen"

    profile_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    deployment_id: Mapped[uuid.UUID] = mapped_column(index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ImportApplied(Base):
    """A row of a file import applied here, with its outcome: written in the transaction of the row's effect, so
    that a batch sent again (after a crash) is answered from here instead of being applied twice."""

    __tablename__ = "import_applied"

    import_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    row: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    outcome: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[uuid.UUID | None]
    messages: Mapped[list] = mapped_column(JSON, default=list)
    applied_at: Mapped[datetime]
