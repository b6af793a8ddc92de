"""Partner software (RDV-Insertion and the like, spec §4.5) creating and updating notebooks, so nobody types twice.

Two doors, one set of rules:

- HTTP, ``POST /api/v1/partners/<partner>/notebooks`` on the gateway, with a per-partner credential (client id and
  secret) that an admin_cdb creates, rotates and revokes; identity owns the credentials (``rpc.identity.partner_*``),
  checks them and the territories they are scoped to, records every call, and lends the gateway, for this one call,
  an access token of the manager named in the request (v1's behaviour: the notebook is created as that manager).
- NATS, with the partner's own user, allowed to publish on ``partner.<partner>.>`` only: ``PartnerNotebookUpsertV1``
  and ``PartnerAppointmentUpsertV1`` land in the ``PARTNER`` stream; the import service validates them, checks the
  partner's territories with identity, and has the notebook apply them exactly once per ``event_id`` (the partner's
  own id of the message: sent twice, replayed, one effect). A message refused is answered on
  ``partner.<partner>.rejected.v1`` with a French reason, and dead-lettered.

Partner messages use the partner's words (camelCase, as v1's API), not ours.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import ClassVar

from pydantic import AwareDatetime, Field

from contracts.base import IntegrationEvent, RpcReply, RpcRequest, WireModel
from contracts.identity import AcceptedReply
from contracts.inputs import Line, PostalCode
from contracts.notebook import AppointmentStatus
from contracts.registry import register

# A partner's name is a token of its NATS subjects and of its user: lower-case letters and digits.
PARTNER_NAME = r"^[a-z][a-z0-9]{1,30}$"
PARTNER_PREFIX = "partner"
# The reason a refusal is HTTP 400 rather than 422 (``details.reason``): v1's "bad request" answers.
BAD_REQUEST = "bad_request"


def partner_subject(partner: str, event: str, version: int = 1) -> str:
    """``partner.<partner>.<event>.v<N>``, e.g. ``partner.rdvi.notebook.upsert.v1``."""
    return f"{PARTNER_PREFIX}.{partner}.{event}.v{version}"


def partner_of(subject: str) -> str:
    """The partner a subject belongs to: what its NATS user may publish, so the only trusted source of who sent it."""
    return subject.split(".")[1]


# --- the partner's words --------------------------------------------------------------------------------------

class PartnerNotebook(WireModel):
    """A beneficiary as the partner knows them (spec §4.5): NIR, names and birth date mandatory."""

    nir: Line = Field(min_length=13, max_length=21, description="13 caractères, ou 15 avec la clé")
    externalId: Line = Field(default="", max_length=100)
    firstname: Line = Field(min_length=1, max_length=120)
    lastname: Line = Field(min_length=1, max_length=120)
    dateOfBirth: date
    mobileNumber: Line = Field(default="", max_length=40)
    email: Line = Field(default="", max_length=320)
    address1: Line = Field(default="", max_length=250)
    address2: Line = Field(default="", max_length=250)
    postalCode: PostalCode = ""
    city: Line = Field(default="", max_length=120)
    cafNumber: Line = Field(default="", max_length=20)


class CreatePartnerNotebook(WireModel):
    """The body of ``POST /api/v1/partners/<partner>/notebooks`` (v1's ``POST /api/notebooks``)."""

    rdviUserEmail: Line = Field(max_length=320, description="L'adresse du gestionnaire du territoire au nom de qui le carnet "
                                                "est créé")
    deploymentId: uuid.UUID
    notebook: PartnerNotebook


class PartnerNotebookCreated(WireModel):
    notebookId: uuid.UUID


# --- partner → bus (stream PARTNER) -----------------------------------------------------------------------------

class PartnerMessage(IntegrationEvent):
    """``event_id`` is the partner's own id of the message, mandatory: the same id twice is one effect."""

    event_id: uuid.UUID
    deploymentId: uuid.UUID


@register
class PartnerNotebookUpsertV1(PartnerMessage):
    """A partner creates the notebook of a beneficiary of a territory it serves, or updates it: the beneficiary is
    found by NIR within the territory (one found in another territory is refused, without saying which)."""

    subject: ClassVar[str] = "partner.*.notebook.upsert.v1"

    notebook: PartnerNotebook


class PartnerAppointment(WireModel):
    appointmentId: Line = Field(min_length=1, max_length=100, description="L'identifiant du rendez-vous chez le "
                                                                          "partenaire")
    nir: Line = Field(min_length=13, max_length=21, description="Le NIR du bénéficiaire (son carnet)")
    professionalEmail: Line = Field(max_length=320, description="Le professionnel du groupe de suivi avec qui il a lieu")
    at: AwareDatetime
    status: AppointmentStatus


@register
class PartnerAppointmentUpsertV1(PartnerMessage):
    """A partner records an appointment of a beneficiary with a member of their group, or changes its status; the
    appointment is known by the partner's ``appointmentId``."""

    subject: ClassVar[str] = "partner.*.appointment.upsert.v1"

    appointment: PartnerAppointment


PARTNER_MESSAGES: tuple[type[PartnerMessage], ...] = (PartnerNotebookUpsertV1, PartnerAppointmentUpsertV1)


@register
class PartnerMessageRejectedV1(IntegrationEvent):
    """The answer to a partner's message that was refused (and dead-lettered): nothing of it was applied. Sent by
    the import service on ``partner.<partner>.rejected.v1``, which the partner's user may read."""

    subject: ClassVar[str] = "partner.*.rejected.v1"

    rejected_event_id: uuid.UUID | None = None  # absent when the message had none that could be read
    rejected_subject: str
    reason: str  # French
    errors: list[dict] = Field(default_factory=list)  # the fields refused, each with its French message


# --- gateway → identity: credentials -------------------------------------------------------------------------

class PartnerCallResult(StrEnum):
    pending = "pending"
    created = "created"
    conflict = "conflict"
    refused = "refused"  # a wrong, revoked or unknown credential
    out_of_scope = "out_of_scope"  # a territory the credential is not scoped to
    bad_request = "bad_request"
    invalid = "invalid"
    failed = "failed"


class PartnerAuthenticatedReply(RpcReply):
    call_id: uuid.UUID
    access_token: str  # the named manager's, valid a minute, for this call only


@register
class AuthenticatePartnerV1(RpcRequest):
    """Checks a partner's credential for a call on ``route`` in ``deployment_id`` on behalf of the manager
    ``manager_email``, and records the call. Refused: forbidden (wrong credential, revoked, or territory out of
    its scope), invalid with ``details.reason = bad_request`` (no such manager in the territory)."""

    subject: ClassVar[str] = "rpc.identity.authenticate_partner.v1"
    reply_model: ClassVar = PartnerAuthenticatedReply

    partner: Line = Field(max_length=40)
    client_id: Line = Field(max_length=80)
    secret: str = Field(max_length=200)
    route: Line = Field(max_length=200)
    deployment_id: uuid.UUID
    manager_email: Line = Field(max_length=320)


@register
class FinishPartnerCallV1(RpcRequest):
    """The outcome of a call ``AuthenticatePartnerV1`` let through, for the admin's list of calls."""

    subject: ClassVar[str] = "rpc.identity.finish_partner_call.v1"
    reply_model: ClassVar = AcceptedReply

    call_id: uuid.UUID
    result: PartnerCallResult
    status: int = Field(ge=100, le=599)


class PartnerScopeReply(RpcReply):
    deployment_ids: list[uuid.UUID]


@register
class GetPartnerScopeV1(RpcRequest):
    """The territories a partner serves (its active credentials'): where its NATS messages may act."""

    subject: ClassVar[str] = "rpc.identity.partner_scope.v1"
    reply_model: ClassVar = PartnerScopeReply

    partner: Line = Field(max_length=40)


# --- admin_cdb → identity: the credentials' page ------------------------------------------------------------

class PartnerCredentialView(WireModel):
    credential_id: uuid.UUID
    partner: str
    client_id: str
    deployment_ids: list[uuid.UUID]
    deployment_labels: list[str] = Field(default_factory=list)
    created_at: datetime
    rotated_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


class PartnerCredentialsReply(RpcReply):
    credentials: list[PartnerCredentialView]


class PartnerSecretReply(RpcReply):
    """The only time the secret is readable: identity keeps its hash."""

    credential: PartnerCredentialView
    secret: str


class PartnerCallView(WireModel):
    call_id: uuid.UUID
    partner: str
    client_id: str
    route: str
    result: PartnerCallResult
    status: int | None = None
    at: datetime


class PartnerCallsReply(RpcReply):
    calls: list[PartnerCallView]


@register
class ListPartnerCredentialsV1(RpcRequest):
    subject: ClassVar[str] = "rpc.identity.list_partner_credentials.v1"
    reply_model: ClassVar = PartnerCredentialsReply


@register
class CreatePartnerCredentialV1(RpcRequest):
    subject: ClassVar[str] = "rpc.identity.create_partner_credential.v1"
    reply_model: ClassVar = PartnerSecretReply

    partner: Line = Field(pattern=PARTNER_NAME)
    deployment_ids: list[uuid.UUID] = Field(min_length=1, max_length=200)


@register
class RotatePartnerCredentialV1(RpcRequest):
    """A new secret; the old one is refused from now on."""

    subject: ClassVar[str] = "rpc.identity.rotate_partner_credential.v1"
    reply_model: ClassVar = PartnerSecretReply

    credential_id: uuid.UUID


@register
class RevokePartnerCredentialV1(RpcRequest):
    subject: ClassVar[str] = "rpc.identity.revoke_partner_credential.v1"
    reply_model: ClassVar = PartnerCredentialView

    credential_id: uuid.UUID


@register
class ListPartnerCallsV1(RpcRequest):
    subject: ClassVar[str] = "rpc.identity.list_partner_calls.v1"
    reply_model: ClassVar = PartnerCallsReply

    limit: int = Field(default=100, ge=1, le=500)


# --- gateway / import service → notebook -------------------------------------------------------------------

class PartnerNotebookReply(RpcReply):
    notebook_id: uuid.UUID


@register
class CreatePartnerNotebookV1(RpcRequest):
    """Creates a notebook for a partner, as the manager whose token comes with it (spec §4.5): conflict with
    ``details.notebookId`` when the NIR has a notebook in this territory, invalid with ``details.reason =
    bad_request`` when it has one in another (which one is not said)."""

    subject: ClassVar[str] = "rpc.notebook.create_partner_notebook.v1"
    reply_model: ClassVar = PartnerNotebookReply

    partner: Line = Field(max_length=40)
    deployment_id: uuid.UUID
    notebook: PartnerNotebook


class PartnerOutcome(StrEnum):
    created = "created"
    updated = "updated"
    unchanged = "unchanged"
    rejected = "rejected"


class PartnerAppliedReply(RpcReply):
    outcome: PartnerOutcome
    target_id: uuid.UUID | None = None  # the notebook, or the appointment
    reason: str = ""  # French, when rejected
    replayed: bool = False  # already applied: the recorded outcome, nothing done again


class PartnerApply(RpcRequest):
    """Sent by the import service only (bus permissions): it checked the partner's territory."""

    partner: Line = Field(max_length=40)
    event_id: uuid.UUID
    deployment_id: uuid.UUID


@register
class ApplyPartnerNotebookV1(PartnerApply):
    subject: ClassVar[str] = "rpc.notebook.apply_partner_notebook.v1"
    reply_model: ClassVar = PartnerAppliedReply

    notebook: PartnerNotebook


@register
class ApplyPartnerAppointmentV1(PartnerApply):
    subject: ClassVar[str] = "rpc.notebook.apply_partner_appointment.v1"
    reply_model: ClassVar = PartnerAppliedReply

    appointment: PartnerAppointment


# What the gateway may never send: they trust the partner and territory they carry.
TRUSTED_PARTNER_RPCS: tuple[type[RpcRequest], ...] = (ApplyPartnerNotebookV1, ApplyPartnerAppointmentV1,
                                                      GetPartnerScopeV1)
