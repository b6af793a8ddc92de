"""What identity holds about the signed-in beneficiary (RGPD art. 15): her account and consents, her logins and her
sessions; never a secret (tokens, codes and links are stored hashed and left out). Her own account only."""
from __future__ import annotations

from sqlalchemy import func, select

from contracts.identity import Role
from contracts.rights import GetIdentitySubjectDataV1, SubjectDataReply, SubjectDataSection
from identity.adapters.orm import LoginAttempt, RefreshToken
from identity.domain.errors import Forbidden
from identity.handlers.accounts import current_account
from identity.handlers.deps import Deps
from servicekit.rpc import RpcContext

ONLY_THE_PERSON = "Seule la personne concernée peut télécharger ses données, depuis son propre compte."
SERVICE = "identity"
LOGIN_KINDS = {"link_used": "lien de connexion", "sms_verified": "code SMS", "refreshed": "session prolongée"}


def moment(value) -> str | None:
    return value.isoformat() if value else None


async def get_subject_data(_request: GetIdentitySubjectDataV1, ctx: RpcContext, deps: Deps) -> SubjectDataReply:
    async with deps.sessions() as session:
        _principal, account = await current_account(session, deps, ctx)
        if account.role != Role.beneficiary.value:
            raise Forbidden(ONLY_THE_PERSON)
        logins = (await session.execute(select(LoginAttempt).where(LoginAttempt.account_id == account.id)
                                        .order_by(LoginAttempt.at))).scalars().all()
        sessions = (await session.execute(
            select(RefreshToken.family_id, func.min(RefreshToken.created_at), func.max(RefreshToken.created_at),
                   func.max(RefreshToken.ip), func.max(RefreshToken.user_agent))
            .where(RefreshToken.account_id == account.id).group_by(RefreshToken.family_id)
            .order_by(func.min(RefreshToken.created_at)))).all()
    return SubjectDataReply(sections=[
        SubjectDataSection(service=SERVICE, key="account", title="Votre compte", data={
            "email": account.email, "phone": account.phone, "firstname": account.firstname,
            "lastname": account.lastname, "statut": account.status, "created_at": moment(account.created_at),
            "cgu_version": account.cgu_version, "cgu_accepted_at": moment(account.cgu_accepted_at),
            "onboarded_at": moment(account.onboarded_at), "last_login_at": moment(account.last_login_at)}),
        SubjectDataSection(service=SERVICE, key="logins", title="Vos connexions", data=[
            {"date": moment(a.at), "moyen": LOGIN_KINDS.get(a.kind, a.kind.replace("_", " ")), "success": a.success,
             "ip": a.ip, "user_agent": a.user_agent} for a in logins]),
        SubjectDataSection(service=SERVICE, key="sessions", title="Vos sessions", data=[
            {"started_at": moment(started), "derniere_utilisation": moment(last), "ip": ip, "user_agent": agent}
            for _family, started, last, ip, agent in sessions]),
    ])
