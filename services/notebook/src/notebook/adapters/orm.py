"""Tables of the notebook service: beneficiaries, notebooks and everything on their page, the referentials,
and read models of directory's professionals, structures and orientation systems (fed by its events)."""
from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from notebook.domain.pilotage_figures import days_from
from servicekit.db import new_declarative_base, partial_index, versioned_by

Base = new_declarative_base()
metadata = Base.metadata
ACTIVE_MEMBER = text("ended_at IS NULL")
NOT_DELETED = text("deleted_at IS NULL")


# --- Referentials (loaded by migration 0002 from notebook/referentials/*.csv) ---------------------------------

class RefTheme(Base):
    __tablename__ = "ref_theme"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    label: Mapped[str] = mapped_column(String(120))


class RefSituation(Base):
    __tablename__ = "ref_situation"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    theme: Mapped[str] = mapped_column(String(60))
    description: Mapped[str] = mapped_column(String(300))


class RefTarget(Base):
    __tablename__ = "ref_target"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    theme: Mapped[str] = mapped_column(String(60))
    description: Mapped[str] = mapped_column(String(300))


class RefAction(Base):
    __tablename__ = "ref_action"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    theme: Mapped[str] = mapped_column(String(60))
    description: Mapped[str] = mapped_column(String(300))


class RomeCode(Base):
    __tablename__ = "rome_code"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(5), index=True)
    label: Mapped[str] = mapped_column(String(250))
    search_text: Mapped[str] = mapped_column(String(250))  # label without accents nor case


# --- Read models of directory ----------------------------------------------------------------------------------

def first_structure(structure_ids) -> uuid.UUID | None:
    """The structure shown beside a person's name: the first of ``structure_ids`` (a professional has one, a
    structure admin may have several), as plain rows read it too."""
    return uuid.UUID(str(structure_ids[0])) if structure_ids else None


class Person(Base):
    """A person of a structure (professional, orientation manager, structure admin, manager), as directory
    last described them: names for authors and groups, structures and orientation systems for the rules."""

    __tablename__ = "person"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)  # directory's person id = the token's profile_id
    role: Mapped[str] = mapped_column(String(30))
    deployment_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    firstname: Mapped[str] = mapped_column(String(120), default="")
    lastname: Mapped[str] = mapped_column(String(120), default="")
    email: Mapped[str] = mapped_column(String(320), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    structure_ids: Mapped[list] = mapped_column(JSON, default=list)
    orientation_system_ids: Mapped[list] = mapped_column(JSON, default=list)
    occurred_at: Mapped[datetime]  # of the state applied: an older state arriving late is ignored
    deactivated_at: Mapped[datetime | None]

    @property
    def structure_id(self) -> uuid.UUID | None:
        """A professional's structure (a structure admin's first): the one shown beside their name."""
        return first_structure(self.structure_ids)

    def works_in(self, structure_ids) -> bool:
        """Whether one of their structures is among ``structure_ids`` (stored as strings in JSON)."""
        return bool({str(s) for s in self.structure_ids} & {str(s) for s in structure_ids})

    def holds(self, orientation_system_id) -> bool:
        return str(orientation_system_id) in {str(s) for s in self.orientation_system_ids}


class StructureRead(Base):
    __tablename__ = "structure"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    deployment_id: Mapped[uuid.UUID] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(String(250))
    city: Mapped[str] = mapped_column(String(120), default="")
    postal_code: Mapped[str] = mapped_column(String(10), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(320), default="")
    occurred_at: Mapped[datetime]


class OrientationSystemRead(Base):
    __tablename__ = "orientation_system"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    deployment_id: Mapped[uuid.UUID] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(String(120))
    orientation_type: Mapped[str] = mapped_column(String(10))


# --- Beneficiary and notebook -------------------------------------------------------------------------------

class Beneficiary(Base):
    __tablename__ = "beneficiary"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    deployment_id: Mapped[uuid.UUID]
    firstname: Mapped[str] = mapped_column(String(120))
    lastname: Mapped[str] = mapped_column(String(120))
    date_of_birth: Mapped[date] = mapped_column(Date)
    place_of_birth: Mapped[str] = mapped_column(String(120), default="")
    email: Mapped[str] = mapped_column(String(320), default="")
    mobile_number: Mapped[str] = mapped_column(String(40), default="")
    address1: Mapped[str] = mapped_column(String(250), default="")
    address2: Mapped[str] = mapped_column(String(250), default="")
    postal_code: Mapped[str] = mapped_column(String(10), default="")
    city: Mapped[str] = mapped_column(String(120), default="")
    # Encrypted at rest (Fernet); the *_index columns are keyed hashes for exact matching.
    nir_encrypted: Mapped[str] = mapped_column(Text, default="")
    nir_index: Mapped[str | None] = mapped_column(String(64))
    caf_number_encrypted: Mapped[str] = mapped_column(Text, default="")
    caf_number_index: Mapped[str | None] = mapped_column(String(64), index=True)
    pe_number_encrypted: Mapped[str] = mapped_column(Text, default="")
    pe_number_index: Mapped[str | None] = mapped_column(String(64), index=True)
    # France Travail's "identifiant_unique_de" (the principal flux sets it, the actions flux matches on it): its
    # keyed hash only, like the other identifiers' indexes; the clear value stays in the encrypted external data.
    pe_unique_import_id: Mapped[str | None] = mapped_column(String(64))
    external_id: Mapped[str] = mapped_column(String(100), default="")
    right_rsa: Mapped[str | None] = mapped_column(String(60))
    right_are: Mapped[bool] = mapped_column(Boolean, default=False)
    right_ass: Mapped[bool] = mapped_column(Boolean, default=False)
    right_bonus: Mapped[bool] = mapped_column(Boolean, default=False)
    rsa_suspension_reason: Mapped[str] = mapped_column(String(60), default="")
    rsa_closure_reason: Mapped[str] = mapped_column(String(60), default="")
    rsa_closure_date: Mapped[date | None] = mapped_column(Date)
    subject_to_right_and_duty: Mapped[bool] = mapped_column(Boolean, default=False)
    is_homeless: Mapped[bool] = mapped_column(Boolean, default=False)  # "sans domicile fixe" of the CAF/MSA flux
    notification_channels: Mapped[list] = mapped_column(JSON, default=list)  # "sms", "email"; empty: automatic
    # Set when notify could not deliver to this number or address (cleared when it changes).
    mobile_failed_at: Mapped[datetime | None]
    email_failed_at: Mapped[datetime | None]
    search_text: Mapped[str] = mapped_column(Text, default="")  # names and phone digits, without accents
    # Names without accents nor case, and birth date: one beneficiary per person and territory.
    identity_key: Mapped[str] = mapped_column(String(260))
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime | None]
    updated_by_name: Mapped[str] = mapped_column(String(250), default="")

    __mapper_args__ = versioned_by(version)
    __table_args__ = (
        Index("uq_beneficiary_nir", "nir_index", unique=True),
        Index("uq_beneficiary_identity", "deployment_id", "identity_key", unique=True),
        Index("ix_beneficiary_list_order", "deployment_id", "lastname", "firstname"),  # lists sorted by name
        Index("ix_beneficiary_external_id", "deployment_id", "external_id"),  # imports match the SI's id
        Index("ix_beneficiary_pe_unique_import_id", "deployment_id", "pe_unique_import_id"),
    )


class Notebook(Base):
    __tablename__ = "notebook"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    beneficiary_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("beneficiary.id"), unique=True)
    deployment_id: Mapped[uuid.UUID] = mapped_column(index=True)
    # Socio-professional diagnostic (the situations and projects are rows of their own).
    work_situation: Mapped[str | None] = mapped_column(String(40))
    work_situation_date: Mapped[date | None] = mapped_column(Date)
    work_situation_end_date: Mapped[date | None] = mapped_column(Date)
    right_rqth: Mapped[bool] = mapped_column(Boolean, default=False)
    education_level: Mapped[str | None] = mapped_column(String(5))
    last_job_ended_at: Mapped[date | None] = mapped_column(Date)
    diagnostic_version: Mapped[int] = mapped_column(default=1)
    diagnostic_updated_at: Mapped[datetime | None]
    diagnostic_updated_by_name: Mapped[str] = mapped_column(String(250), default="")
    orientation_system_id: Mapped[uuid.UUID | None]
    # The last orientation decision ("Orienter" / "Réorienter"): its reason, when and by whom.
    orientation_reason: Mapped[str] = mapped_column(Text, default="")
    oriented_at: Mapped[datetime | None]
    oriented_by_name: Mapped[str] = mapped_column(String(250), default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime | None]

    # Only a diagnostic edit is a new diagnostic version, but every UPDATE of the row (history entries touch
    # updated_at) is conditional on it: a diagnostic saved meanwhile makes the other writer start over.
    __mapper_args__ = versioned_by(diagnostic_version)


class OrientationRequest(Base):
    """"Demande de réorientation" of a référent, pending until an orientation manager or a manager decides."""

    __tablename__ = "orientation_request"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    notebook_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("notebook.id"), index=True)
    requested_by_id: Mapped[uuid.UUID]
    requested_by_name: Mapped[str] = mapped_column(String(250), default="")
    requested_orientation_system_id: Mapped[uuid.UUID]
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(10), default="pending")
    decided_at: Mapped[datetime | None]
    decided_by_name: Mapped[str] = mapped_column(String(250), default="")
    decided_orientation_system_id: Mapped[uuid.UUID | None]
    decision_reason: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        # One pending request per notebook, whatever two clicks do at the same instant.
        partial_index("uq_orientation_request_pending", "notebook_id", unique=True, where=text("status = 'pending'")),
    )


class Member(Base):
    """A professional or orientation manager in the group of a notebook; ended rows are its history."""

    __tablename__ = "member"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    notebook_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("notebook.id"), index=True)
    person_id: Mapped[uuid.UUID] = mapped_column(index=True)
    member_type: Mapped[str] = mapped_column(String(30))
    orientation_system_id: Mapped[uuid.UUID | None]
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(20))
    last_contact_at: Mapped[datetime | None]
    last_visited_at: Mapped[datetime | None]
    last_modified_at: Mapped[datetime | None]
    created_by: Mapped[uuid.UUID | None]

    __table_args__ = (
        partial_index("uq_member_active", "notebook_id", "person_id", unique=True, where=ACTIVE_MEMBER),
        # One active référent per notebook, whatever two professionals do at the same instant.
        partial_index("uq_member_one_referent", "notebook_id", unique=True,
                      where=text("ended_at IS NULL AND member_type = 'referent'")),
    )


class BeneficiaryStructure(Base):
    """The structures that follow a beneficiary: ``current`` ones, and ``outdated`` ones as history."""

    __tablename__ = "beneficiary_structure"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    notebook_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("notebook.id"), index=True)
    structure_id: Mapped[uuid.UUID] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(10))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class NotebookSituation(Base):
    __tablename__ = "notebook_situation"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    notebook_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("notebook.id"), index=True)
    situation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ref_situation.id"))
    created_at: Mapped[datetime]
    created_by_name: Mapped[str] = mapped_column(String(250), default="")
    deleted_at: Mapped[datetime | None]
    deleted_by_name: Mapped[str] = mapped_column(String(250), default="")


class ProfessionalProject(Base):
    __tablename__ = "professional_project"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    notebook_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("notebook.id"), index=True)
    rome_code: Mapped[str | None] = mapped_column(String(250))
    mobility_radius_km: Mapped[int | None]
    hourly_rate_cents: Mapped[int | None]
    contract_type: Mapped[str | None] = mapped_column(String(40))
    employment_type: Mapped[str | None] = mapped_column(String(20))
    updated_at: Mapped[datetime]
    updated_by_name: Mapped[str] = mapped_column(String(250), default="")


class Focus(Base):
    """A work axis ("axe de travail") on one theme."""

    __tablename__ = "focus"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    notebook_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("notebook.id"), index=True)
    theme: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime]
    created_by: Mapped[uuid.UUID | None]
    created_by_name: Mapped[str] = mapped_column(String(250), default="")
    deleted_at: Mapped[datetime | None]


class Target(Base):
    """An objective of a work axis."""

    __tablename__ = "target"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    focus_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("focus.id"), index=True)
    target: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20))
    linked_to: Mapped[str] = mapped_column(String(10))
    user_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    created_by: Mapped[uuid.UUID | None]
    created_by_name: Mapped[str] = mapped_column(String(250), default="")
    deleted_at: Mapped[datetime | None]

    __mapper_args__ = versioned_by(version)


class Action(Base):
    __tablename__ = "action"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    target_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("target.id"), index=True)
    action: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20))
    starting_at: Mapped[date] = mapped_column(Date)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    created_by: Mapped[uuid.UUID | None]
    created_by_name: Mapped[str] = mapped_column(String(250), default="")
    deleted_at: Mapped[datetime | None]

    __mapper_args__ = versioned_by(version)


class Appointment(Base):
    __tablename__ = "appointment"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    notebook_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("notebook.id"), index=True)
    person_id: Mapped[uuid.UUID]  # the member the appointment is with
    at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    created_by: Mapped[uuid.UUID | None]

    __mapper_args__ = versioned_by(version)


class TimelineEvent(Base):
    """One change of the notebook, in French, with its author and source. ``hidden``: its subject was deleted
    (kept for the audit trail only); ``redacted_at``: a manager removed a sensitive text from it."""

    __tablename__ = "timeline_event"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    notebook_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("notebook.id"))
    occurred_at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(20))
    summary: Mapped[str] = mapped_column(Text)
    changes: Mapped[dict] = mapped_column(JSON, default=dict)  # field → [before, after]: the rectification trail
    subject_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    author_id: Mapped[uuid.UUID | None]
    author_name: Mapped[str] = mapped_column(String(250), default="")
    source: Mapped[str] = mapped_column(String(20), default="person")
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    redacted_at: Mapped[datetime | None]
    redacted_by_name: Mapped[str] = mapped_column(String(250), default="")
    redaction_reason: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (Index("ix_timeline_notebook_time", "notebook_id", "occurred_at"),)


class NotebookVisit(Base):
    """The access log: who opened the notebook on which day (Paris time), first and last time, and how often.
    One row per account, notebook and day: reloading a page does not bury the other lines."""

    __tablename__ = "notebook_visit"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    notebook_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("notebook.id"))
    account_id: Mapped[uuid.UUID]
    person_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    role: Mapped[str] = mapped_column(String(30))
    person_name: Mapped[str] = mapped_column(String(250), default="")
    structure_name: Mapped[str] = mapped_column(String(250), default="")
    day: Mapped[date] = mapped_column(Date)
    visited_at: Mapped[datetime]  # the first view of the day
    last_visited_at: Mapped[datetime]
    views: Mapped[int] = mapped_column(Integer, default=1)

    __table_args__ = (Index("ix_visit_notebook_time", "notebook_id", "visited_at"),
                      Index("uq_visit_notebook_account_day", "notebook_id", "account_id", "day", unique=True))


class ImportApplied(Base):
    """A row of an import applied here, written in the same transaction as its effect: a batch sent again (after
    a crash) is answered with these outcomes, and only its other rows are applied (exactly once)."""

    __tablename__ = "import_applied"

    import_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    row: Mapped[int] = mapped_column(Integer, primary_key=True)
    outcome: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[uuid.UUID | None]
    messages: Mapped[list] = mapped_column(JSON, default=list)
    applied_at: Mapped[datetime]


class ExternalData(Base):
    """What a partner's flux said about a beneficiary (CAF/MSA foyer, France Travail row or dossier), kept as it
    came with its source and date, encrypted at rest (it holds the NIR and names): the notebook shows where a
    value came from, and a flux already received (same ``sha256``) is recognised."""

    __tablename__ = "external_data"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    beneficiary_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("beneficiary.id"))
    source: Mapped[str] = mapped_column(String(30))  # "cafmsa", "france_travail", "france_travail_api"
    data_encrypted: Mapped[str] = mapped_column(Text)  # JSON, Fernet (Protection.encrypt)
    sha256: Mapped[str] = mapped_column(String(64))  # of the raw data, to skip what was already received
    received_on: Mapped[date | None] = mapped_column(Date)  # the flux's own date, when it has one
    created_at: Mapped[datetime]

    __table_args__ = (Index("ix_external_data_beneficiary_source", "beneficiary_id", "source", "created_at"),)


class FranceTravailSync(Base):
    """The last exchange with France Travail's API about a notebook (its dossiers are ``ExternalData`` rows of
    source "france_travail_api"), and the lease of the replica asking now."""

    __tablename__ = "france_travail_sync"

    notebook_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("notebook.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(20))  # contracts.notebook.FranceTravailStatus
    checked_at: Mapped[datetime | None]
    received_at: Mapped[datetime | None]  # when the dossier kept was last confirmed by France Travail
    claimed_until: Mapped[datetime | None]


class Contract(Base):
    """A notebook's contract: a CER prepared here (draft to signed, every save a ``ContractVersion``), or a PPAE,
    CEJ or PACEA recorded with its dates. ``content`` is what the notebook held when the draft was made (identity,
    situation, diagnostic, objectives linked to the CER) and what the référent and the beneficiary wrote."""

    __tablename__ = "contract"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    notebook_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("notebook.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # contracts.notebook.ContractLink
    status: Mapped[str] = mapped_column(String(10))  # contracts.notebook.ContractStatus
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    content: Mapped[dict] = mapped_column(JSON, default=dict)  # contracts.notebook.ContractContent
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    created_by: Mapped[uuid.UUID | None]
    created_by_name: Mapped[str] = mapped_column(String(250), default="")
    submitted_at: Mapped[datetime | None]
    decided_on: Mapped[date | None] = mapped_column(Date)
    decided_by_name: Mapped[str] = mapped_column(String(250), default="")
    decision_comment: Mapped[str] = mapped_column(Text, default="")
    return_reason: Mapped[str] = mapped_column(Text, default="")
    signed_on: Mapped[date | None] = mapped_column(Date)
    signed_in_person: Mapped[bool] = mapped_column(Boolean, default=False)
    signature_recorded_by_name: Mapped[str] = mapped_column(String(250), default="")
    ended_on: Mapped[date | None] = mapped_column(Date)
    end_reason: Mapped[str] = mapped_column(Text, default="")
    renewed_from_id: Mapped[uuid.UUID | None]

    __mapper_args__ = versioned_by(version)
    __table_args__ = (
        # One CER being written, sent or validated per notebook, whatever two clicks do at the same instant.
        partial_index("uq_contract_cer_in_progress", "notebook_id", unique=True,
                      where=text("kind = 'cer' AND status IN ('draft', 'submitted', 'validated')")),
    )


class ContractVersion(Base):
    """Every saved state of a contract, with who changed what: the history of versions the page lists."""

    __tablename__ = "contract_version"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    contract_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contract.id"))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10))
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    content: Mapped[dict] = mapped_column(JSON, default=dict)
    changed: Mapped[list] = mapped_column(JSON, default=list)  # the fields this version changed
    summary: Mapped[str] = mapped_column(String(300), default="")
    author_id: Mapped[uuid.UUID | None]
    author_name: Mapped[str] = mapped_column(String(250), default="")
    created_at: Mapped[datetime]

    __table_args__ = (Index("uq_contract_version", "contract_id", "version", unique=True),)


class TerritoryRead(Base):
    """A territory as directory announced it: its name heads the contracts' PDF."""

    __tablename__ = "territory"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(200))
    department_code: Mapped[str] = mapped_column(String(3), default="")


class Bilan(Base):
    """A bilan d'accompagnement: at ``bilan_date``, the progress of the objectives and actions since the previous
    bilan as the notebook held it when saved (``content``: contracts.bilans.BilanObjective, a list), and what the
    professional wrote. Never changed once saved."""

    __tablename__ = "bilan"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    notebook_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("notebook.id"))
    bilan_date: Mapped[date] = mapped_column(Date)
    previous_date: Mapped[date | None] = mapped_column(Date)
    content: Mapped[list] = mapped_column(JSON, default=list)
    assessment: Mapped[str] = mapped_column(Text, default="")
    next_steps: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    created_by: Mapped[uuid.UUID | None]
    created_by_name: Mapped[str] = mapped_column(String(250), default="")

    # One bilan a day per notebook, whatever two clicks do at the same instant.
    __table_args__ = (Index("uq_bilan_notebook_date", "notebook_id", "bilan_date", unique=True),)


class ExchangeMessage(Base):
    """A message of a notebook's thread between professionals. The text is free: encrypted at rest (Fernet,
    ``Protection.encrypt``); ``mentions`` are the members told (persons' ids), ``addressed_to`` the one asked.
    The beneficiary's answer to a shared message has her id as author and names that message in ``reply_to``."""

    __tablename__ = "exchange_message"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    notebook_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("notebook.id"))
    author_id: Mapped[uuid.UUID | None]
    author_name: Mapped[str] = mapped_column(String(250), default="")
    author_structure: Mapped[str] = mapped_column(String(300), default="")
    text_encrypted: Mapped[str] = mapped_column(Text)
    shared_with_beneficiary: Mapped[bool] = mapped_column(Boolean, default=False)
    addressed_to: Mapped[uuid.UUID | None]
    mentions: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime]
    reply_to: Mapped[uuid.UUID | None]

    __table_args__ = (Index("ix_exchange_message_notebook", "notebook_id", "created_at"),)


class ExchangeRead(Base):
    """How far a member read a notebook's thread: the newest message's time when she last viewed it."""

    __tablename__ = "exchange_read"

    notebook_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("notebook.id"), primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    read_up_to: Mapped[datetime]


class NotebookTransfer(Base):
    """A notebook asked to move to another territory (the beneficiary moved): pending until the destination decides;
    accepted ones are the notebook's territories over time."""

    __tablename__ = "notebook_transfer"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    notebook_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("notebook.id"), index=True)
    from_deployment_id: Mapped[uuid.UUID] = mapped_column(index=True)
    to_deployment_id: Mapped[uuid.UUID] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    reason: Mapped[str] = mapped_column(Text, default="")
    requested_at: Mapped[datetime]
    requested_by_id: Mapped[uuid.UUID | None]
    requested_by_name: Mapped[str] = mapped_column(String(250), default="")
    decided_at: Mapped[datetime | None]
    decided_by_name: Mapped[str] = mapped_column(String(250), default="")
    decision_reason: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        # One pending transfer per notebook, whatever two managers do at the same instant.
        partial_index("uq_notebook_transfer_pending", "notebook_id", unique=True, where=text("status = 'pending'")),
    )


class NotebookReferral(Base):
    """A professional of another territory let into the group until a date (the day included); the owner stays."""

    __tablename__ = "notebook_referral"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    notebook_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("notebook.id"), index=True)
    person_id: Mapped[uuid.UUID] = mapped_column(index=True)
    person_name: Mapped[str] = mapped_column(String(250), default="")
    until: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text, default="")
    granted_at: Mapped[datetime]
    granted_by_id: Mapped[uuid.UUID | None]
    granted_by_name: Mapped[str] = mapped_column(String(250), default="")
    ended_at: Mapped[datetime | None]


# --- Pilotage (issue 18): read model of the filter builder, dashboards and exports; saved queries ---------------

class PilotageNotebook(Base):
    """The facts of one notebook that pilotage filters, counts and exports, recomputed from the write tables on
    each notebook.notebook.changed.v1 (handlers.pilotage_facts.refresh): queries never join the write tables."""

    __tablename__ = "pilotage_notebook"

    notebook_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    deployment_id: Mapped[uuid.UUID]
    lastname: Mapped[str] = mapped_column(String(120))
    firstname: Mapped[str] = mapped_column(String(120))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    structure_id: Mapped[uuid.UUID | None]  # the current following structure (the first by start date)
    referent_id: Mapped[uuid.UUID | None]  # Person id of the active référent
    orientation_manager_id: Mapped[uuid.UUID | None]  # Person id of the active chargé d'orientation
    orientation_system_id: Mapped[uuid.UUID | None]
    support: Mapped[str] = mapped_column(String(20))  # accompanied / waiting / not_accompanied
    rsa_right: Mapped[str | None] = mapped_column(String(60))
    subject_to_right_and_duty: Mapped[bool] = mapped_column(Boolean, default=False)
    cer_state: Mapped[str] = mapped_column(String(10), default="none")  # contracts.pilotage.CerState
    cer_end_date: Mapped[date | None] = mapped_column(Date)
    last_activity_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    first_oriented_at: Mapped[datetime | None]
    first_cer_at: Mapped[datetime | None]
    origin: Mapped[str] = mapped_column(String(20), default="manual")  # contracts.pilotage.Origin
    themes: Mapped[str] = mapped_column(Text, default="")  # "|code|code|": a theme filter is one LIKE '%|code|%'
    pending_reorientation_since: Mapped[datetime | None]
    refreshed_at: Mapped[datetime]
    # Whole days from created_at to first_oriented_at / first_cer_at (the dashboards group them); computed from
    # those when a row is inserted without them (bulk loads, tests), written by the refresh otherwise.
    orientation_days: Mapped[int | None] = mapped_column(Integer, default=lambda c: _days_to(c, "first_oriented_at"))
    cer_days: Mapped[int | None] = mapped_column(Integer, default=lambda c: _days_to(c, "first_cer_at"))

    __table_args__ = (
        Index("ix_pilotage_notebook_order", "deployment_id", "lastname", "firstname", "notebook_id"),
        Index("ix_pilotage_notebook_structure", "deployment_id", "structure_id"),
        Index("ix_pilotage_notebook_referent", "deployment_id", "referent_id"),
        Index("ix_pilotage_notebook_created", "deployment_id", "created_at"),
    )


def _days_to(context, column: str) -> int | None:
    params = context.get_current_parameters()
    return days_from(params.get("created_at"), params.get(column))


class PilotageAction(Base):
    """An action of a notebook as pilotage counts it (by theme and status); replaced on each recompute."""

    __tablename__ = "pilotage_action"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)  # the action's id
    notebook_id: Mapped[uuid.UUID]
    deployment_id: Mapped[uuid.UUID]
    structure_id: Mapped[uuid.UUID | None]
    theme: Mapped[str] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime]

    __table_args__ = (
        Index("ix_pilotage_action_notebook", "notebook_id"),
        Index("ix_pilotage_action_deployment", "deployment_id", "theme", "status"),
    )


class SavedQueryRow(Base):
    """A named filter of the beneficiaries' list (contracts.pilotage.BeneficiaryFilters as JSON), its owner's,
    seen by the territory when shared."""

    __tablename__ = "saved_query"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    deployment_id: Mapped[uuid.UUID | None]
    owner_id: Mapped[uuid.UUID]  # the profile id (admin_cdb: the account id)
    owner_name: Mapped[str] = mapped_column(String(250), default="")
    name: Mapped[str] = mapped_column(String(120))
    filters: Mapped[dict] = mapped_column(JSON, default=dict)
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime | None]

    __table_args__ = (
        Index("uq_saved_query_owner_name", "owner_id", "name", unique=True),
        Index("ix_saved_query_deployment", "deployment_id", "shared"),
    )


class ExportJob(Base):
    """An export of a list (issue 18): who asked it, which list, filters and format, its progress, and the file
    left in the object store (``exports/<id>.<ext>``, kept 7 days). Every export is recorded, for the territory's
    managers to see who exported what."""

    __tablename__ = "export_job"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    deployment_id: Mapped[uuid.UUID | None] = mapped_column(index=True)  # None: admin_cdb, every territory
    requested_by: Mapped[uuid.UUID | None] = mapped_column(index=True)  # profile id (admin_cdb: account id)
    requested_by_name: Mapped[str] = mapped_column(String(250), default="")
    role: Mapped[str] = mapped_column(String(30))
    structure_ids: Mapped[list] = mapped_column(JSON, default=list)  # a structure admin's, when she asked
    list_name: Mapped[str] = mapped_column(String(30))
    format: Mapped[str] = mapped_column(String(10))
    filters: Mapped[dict] = mapped_column(JSON, default=dict)
    label: Mapped[str] = mapped_column(String(250), default="")
    state: Mapped[str] = mapped_column(String(10), default="queued")
    rows_total: Mapped[int | None]
    rows_done: Mapped[int] = mapped_column(default=0)
    object_name: Mapped[str] = mapped_column(String(200), default="")
    filename: Mapped[str] = mapped_column(String(200), default="")
    error: Mapped[str] = mapped_column(Text, default="")
    requested_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]  # a running export's last progress: older than a lease, it restarts
    finished_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_export_job_deployment_requested", "deployment_id", "requested_at"),)


class PilotageSnapshot(Base):
    """How many beneficiaries each structure of a territory had per support status on a day (the dashboards'
    history: the read model only knows today). Taken daily by handlers.pilotage_snapshots."""

    __tablename__ = "pilotage_snapshot"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    day: Mapped[date] = mapped_column(Date)
    deployment_id: Mapped[uuid.UUID]
    structure_id: Mapped[uuid.UUID]  # NO_STRUCTURE for those followed by none (a NULL would escape the unique index)
    support: Mapped[str] = mapped_column(String(20))
    count: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("uq_pilotage_snapshot", "deployment_id", "day", "structure_id", "support", unique=True),)


class PilotageImport(Base):
    """An import or a partner's flux as it ended (import.job.completed.v1, handlers.pilotage_imports): the
    dashboards' « Imports et flux » count them per month and kind, with their rows created, updated, rejected."""

    __tablename__ = "pilotage_import"

    import_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    deployment_id: Mapped[uuid.UUID | None]  # None: a national administrator's own import
    structure_id: Mapped[uuid.UUID | None]  # the structure it was opened for (a structure admin's)
    kind: Mapped[str] = mapped_column(String(40))  # contracts.imports.ImportKind
    state: Mapped[str] = mapped_column(String(20))  # done or failed
    finished_at: Mapped[datetime]
    day: Mapped[date] = mapped_column(Date)  # the Paris day it ended: the period's and the months' key
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    excluded: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_pilotage_import_period", "deployment_id", "day", "structure_id", "kind"),)


NO_STRUCTURE = uuid.UUID(int=0)
# The dashboards' covering index (migration 0017): their GROUP BY read it instead of the rows.
Index("ix_pilotage_notebook_dashboard", PilotageNotebook.deployment_id, PilotageNotebook.structure_id,
      PilotageNotebook.referent_id, PilotageNotebook.support, PilotageNotebook.subject_to_right_and_duty,
      PilotageNotebook.cer_state, PilotageNotebook.cer_end_date, PilotageNotebook.pending_reorientation_since,
      PilotageNotebook.created_at, PilotageNotebook.origin, PilotageNotebook.first_oriented_at,
      PilotageNotebook.first_cer_at)
Index("ix_pilotage_notebook_cohort", PilotageNotebook.deployment_id, PilotageNotebook.created_at,
      PilotageNotebook.structure_id, PilotageNotebook.origin, PilotageNotebook.first_oriented_at,
      PilotageNotebook.first_cer_at)
Index("ix_pilotage_notebook_delays", PilotageNotebook.deployment_id, PilotageNotebook.created_at,
      PilotageNotebook.structure_id, PilotageNotebook.origin, PilotageNotebook.orientation_days,
      PilotageNotebook.cer_days)
Index("ix_pilotage_action_period", PilotageAction.deployment_id, PilotageAction.created_at, PilotageAction.structure_id,
      PilotageAction.theme, PilotageAction.status)


class RightsRequest(Base):
    """A beneficiary's request about her data (issue 21): a rectification (which information, what is wrong, what it
    should be) or an objection to the processing (why); answered once, within a month (``due_on``); the reminder of
    one due soon is sent once a day (``reminded_on``: the day of the last one, set by whoever sends it)."""

    __tablename__ = "rights_request"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    notebook_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("notebook.id"))
    deployment_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(20))  # RightsRequestKind
    field: Mapped[str] = mapped_column(String(200), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    wanted: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    due_on: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(20), default="open")  # RightsRequestState
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_by: Mapped[uuid.UUID | None]
    answered_by_name: Mapped[str] = mapped_column(String(250), default="")
    answered_at: Mapped[datetime | None]
    reminded_on: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (Index("ix_rights_request_notebook", "notebook_id"),
                      Index("ix_rights_request_open_due", "state", "due_on"))


# Retention's tables (issue 21) live beside these, on the same metadata: imported here so that the metadata is whole.
from notebook.adapters import retention_orm  # noqa: E402,F401
# The dashboards' counts (issue 18): their tables, and the flush listener that keeps them with the pilotage rows —
# imported with these so that no writer of those rows can run without it.
from notebook.adapters import pilotage_counts  # noqa: E402,F401
# The lists' narrow search rows (issue 19), kept by the database's triggers (migration 0023).
from notebook.adapters import search_orm  # noqa: E402,F401
