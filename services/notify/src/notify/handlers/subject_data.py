"""The messages sent to the signed-in beneficiary (RGPD art. 15): date, channel, subject and state of each, never
their body (a login link or a code may be in it). Addressed by email or phone: identity says which are hers, from her
own token, as for the preferences."""
from __future__ import annotations

from sqlalchemy import select

from contracts.identity import GetMeV1, Role
from contracts.rights import GetNotifySubjectDataV1, SubjectDataReply, SubjectDataSection
from notify.adapters.orm import OutgoingMessage
from notify.handlers.deps import Deps
from servicekit.errors import Forbidden
from servicekit.rpc import RpcContext

ONLY_THE_PERSON = "Seule la personne concernée peut télécharger ses données, depuis son propre compte."
STATES = {"sent": "envoyé", "kept": "envoyé", "failed": "échec", "pending": "en attente", "sending": "en cours",
          "held": "en attente", "digested": "regroupé", "uncertain": "incertain"}


async def get_subject_data(_request: GetNotifySubjectDataV1, ctx: RpcContext, deps: Deps) -> SubjectDataReply:
    principal = await deps.verifier.verify(ctx.bearer_token)
    if principal.role != Role.beneficiary:
        raise Forbidden(ONLY_THE_PERSON)
    me = await deps.call(GetMeV1(), headers={"Authorization": f"Bearer {ctx.bearer_token}"})
    addresses = [a for a in (me.email, me.phone) if a]
    rows = []
    if addresses:
        async with deps.sessions() as session:
            rows = (await session.execute(select(OutgoingMessage).where(OutgoingMessage.recipient.in_(addresses))
                                          .order_by(OutgoingMessage.created_at))).scalars().all()
    return SubjectDataReply(sections=[SubjectDataSection(
        service="notify", key="messages", title="Messages qui vous ont été envoyés", data=[
            {"date": (m.sent_at or m.created_at).isoformat(), "channel": m.channel, "recipient": m.recipient,
             "subject": m.subject, "status": STATES.get(m.status, m.status)} for m in rows])])
