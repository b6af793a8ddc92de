"""Partners' messages (issue 16, DESIGN §2.1): what partner software publishes on ``partner.<partner>.>`` with its
own NATS user, read from the stream PARTNER, checked, and sent to the notebook, which applies each exactly once.

Who sent a message is its subject's second token: the server lets a partner's user publish only under its own
name, so the body cannot lie about it. A message is refused, answered on ``partner.<partner>.rejected.v1`` with a
French reason and dead-lettered, when it breaks its contract, names a territory the partner does not serve (its
credentials' territories, from identity), or when the notebook refuses it. A refusal changes nothing; a transient
failure (a service that does not answer) is retried by JetStream, and the notebook's record of applied messages
makes the retry, a second delivery or a replay, one effect."""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

import structlog
from pydantic import ValidationError

from contracts.audit import ImportAuditRecordedV1
from contracts.inputs import field_errors, invalid_message
from contracts.partners import (
    ApplyPartnerAppointmentV1,
    ApplyPartnerNotebookV1,
    GetPartnerScopeV1,
    PartnerAppointmentUpsertV1,
    PartnerMessage,
    PartnerMessageRejectedV1,
    PartnerNotebookUpsertV1,
    PartnerOutcome,
    partner_of,
    partner_subject,
)
from data_import.handlers.deps import Deps
from servicekit.errors import RejectMessage

log = structlog.get_logger("data_import.partners")

NOT_JSON = "Le message n'est pas du JSON valide encodé en UTF-8."
OUT_OF_SCOPE = "Ce partenaire n'est pas habilité sur ce territoire."
UNKNOWN_KIND = "Ce sujet n'est pas un message de partenaire connu."
REJECTION_NAMESPACE = uuid.UUID("0b3f2f77-52c5-4d5e-8d0e-4c3b7f6a9e21")
AUDIT_NAMESPACE = uuid.UUID("5d0c2a7e-8f41-4b6a-9c3e-2f7a1b9d4e60")  # the audit lines of partner calls

MESSAGE_TYPES: dict[str, type[PartnerMessage]] = {
    ".".join(kind.subject.split(".")[2:]): kind for kind in (PartnerNotebookUpsertV1, PartnerAppointmentUpsertV1)}


@dataclass(frozen=True)
class Received:
    subject: str  # as published, e.g. partner.rdvi.notebook.upsert.v1
    body: bytes
    stream_seq: int  # its place in the stream: names the refusal, the same however often it is delivered


class Refused(Exception):
    def __init__(self, reason: str, errors: list[dict] | None = None, event_id: uuid.UUID | None = None):
        super().__init__(reason)
        self.reason, self.errors, self.event_id = reason, errors or [], event_id


def parse(received: Received) -> PartnerMessage:
    kind = MESSAGE_TYPES.get(".".join(received.subject.split(".")[2:]))
    if kind is None:
        raise Refused(UNKNOWN_KIND)
    try:
        data = json.loads(received.body)
    except (ValueError, UnicodeDecodeError):
        raise Refused(NOT_JSON) from None
    try:
        return kind.model_validate(data)
    except ValidationError as error:
        fields = field_errors(error.errors())
        raise Refused(invalid_message(fields), fields, event_id_of(data)) from None


def event_id_of(data) -> uuid.UUID | None:
    """The partner's id of a message refused for its content, when it can be read: the refusal names it."""
    try:
        return uuid.UUID(str(data["event_id"]))
    except (KeyError, TypeError, ValueError):
        return None


async def apply(message: PartnerMessage, partner: str, deps: Deps):
    scope = await deps.bus.call(GetPartnerScopeV1(partner=partner))
    if message.deploymentId not in scope.deployment_ids:
        raise Refused(OUT_OF_SCOPE, event_id=message.event_id)
    common = dict(partner=partner, event_id=message.event_id, deployment_id=message.deploymentId)
    if isinstance(message, PartnerNotebookUpsertV1):
        request = ApplyPartnerNotebookV1(**common, notebook=message.notebook)
    else:
        request = ApplyPartnerAppointmentV1(**common, appointment=message.appointment)
    reply = await deps.bus.call(request)
    if reply.outcome == PartnerOutcome.rejected:
        raise Refused(reply.reason, event_id=message.event_id)
    return reply


async def on_partner_message(received: Received, deps: Deps) -> None:
    partner = partner_of(received.subject)
    message = None
    try:
        message = parse(received)
        reply = await apply(message, partner, deps)
    except Refused as refusal:
        await answer_refusal(received, partner, refusal, deps)
        await audit_partner_call(received, partner, message, deps, outcome="rejected")
        raise RejectMessage(refusal.reason) from None
    await audit_partner_call(received, partner, message, deps, outcome=reply.outcome.value, target_id=reply.target_id)
    log.info("partner_message_applied", partner=partner, subject=received.subject, event_id=str(message.event_id),
             outcome=reply.outcome.value, replayed=reply.replayed)


async def audit_partner_call(received: Received, partner: str, message: PartnerMessage | None, deps: Deps, *,
                             outcome: str, target_id: uuid.UUID | None = None) -> None:
    """Every partner call in the audit trail (issue 21). This consumer writes nothing in its database, so the line is
    published at once, under an id of the message's place in its stream: a redelivery publishes the same line, which
    JetStream (and the audit log, by event id) keeps once."""
    is_notebook = isinstance(message, PartnerNotebookUpsertV1)
    line = ImportAuditRecordedV1(
        event_id=uuid.uuid5(AUDIT_NAMESPACE, f"{received.subject}:{received.stream_seq}"),
        deployment_id=getattr(message, "deploymentId", None), actor_role="partner", action="partner.message",
        target_type="notebook" if is_notebook else "appointment", target_id=str(target_id or ""),
        notebook_id=target_id if is_notebook else None,
        details={"partner": partner, "subject": received.subject, "outcome": outcome})
    await deps.bus.stream_context.publish(line.subject, line.model_dump_json().encode(),
                                          headers={"Nats-Msg-Id": str(line.event_id)})


async def answer_refusal(received: Received, partner: str, refusal: Refused, deps: Deps) -> None:
    """Published before the message is terminated: should it fail, the message is delivered again and the refusal
    sent again, under the same id (JetStream drops the repeat)."""
    rejection = PartnerMessageRejectedV1(
        event_id=uuid.uuid5(REJECTION_NAMESPACE, f"{received.subject}:{received.stream_seq}"),
        rejected_event_id=refusal.event_id, rejected_subject=received.subject, reason=refusal.reason,
        errors=refusal.errors)
    await deps.bus.stream_context.publish(partner_subject(partner, "rejected"), rejection.model_dump_json().encode(),
                                          headers={"Nats-Msg-Id": str(rejection.event_id)})
    log.warning("partner_message_rejected", partner=partner, subject=received.subject, reason=refusal.reason)
