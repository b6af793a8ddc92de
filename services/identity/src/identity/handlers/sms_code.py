"""Beneficiary login by a 6-digit code sent by SMS: 10 minutes, 5 tries, same answer for unknown numbers."""
from __future__ import annotations

import hmac
import uuid
from datetime import timedelta

from sqlalchemy import select

from contracts.identity import (
    AcceptedReply,
    AccountStatus,
    RequestSmsCodeV1,
    Role,
    SmsCodeIssuedV1,
    TokenPairReply,
    VerifySmsCodeV1,
)
from identity.adapters.orm import Account, SmsCode
from identity.domain.errors import CODE_NOT_VALID, INVALID_PHONE, NOT_A_MOBILE, Invalid, Unauthenticated
from identity.domain.secrets import SMS_CODE_DIGITS, hash_secret, hash_sms_code, is_mobile, new_sms_code, normalise_phone
from identity.handlers.attempts import enforce_rate_limits, record_attempt
from identity.handlers.deps import Deps
from identity.handlers.issue_session import issue_session
from servicekit.metrics import LOGIN_FAILURES
from servicekit.rpc import RpcContext


def _mobile(phone: str) -> str:
    e164 = normalise_phone(phone)
    if e164 is None:
        raise Invalid(INVALID_PHONE, details={"field": "phone"})
    if not is_mobile(e164):
        raise Invalid(NOT_A_MOBILE, details={"field": "phone"})
    return e164


async def request_sms_code(request: RequestSmsCodeV1, _ctx: RpcContext, deps: Deps) -> AcceptedReply:
    phone = _mobile(request.phone)
    phone_hash = hash_secret(phone)  # counted per number like emails, and never stored in clear in the audit
    async with deps.sessions() as session, session.begin():
        await enforce_rate_limits(session, deps, request.client, phone_hash)
        account = (await session.execute(select(Account).where(
            Account.phone == phone, Account.role == Role.beneficiary, Account.status == AccountStatus.active,
        ))).scalar_one_or_none()
        record_attempt(session, deps, request.client, "link_requested", success=account is not None,
                       email_hash=phone_hash, account_id=account.id if account else None)
        if account is None:
            return AcceptedReply()
        now = deps.clock()
        # A new code replaces the previous ones: only the latest SMS received is valid.
        for previous in (await session.execute(select(SmsCode).where(
                SmsCode.account_id == account.id, SmsCode.used_at.is_(None)))).scalars():
            previous.used_at = now
        code, code_id = new_sms_code(), uuid.uuid4()
        sms = SmsCode(id=code_id, account_id=account.id, created_at=now,
                      code_hash=hash_sms_code(code, deps.settings.secret_key.get_secret_value(), str(code_id)),
                      expires_at=now + timedelta(seconds=deps.settings.sms_code_ttl_s))
        session.add(sms)
        await deps.outbox.add(session, SmsCodeIssuedV1(account_id=account.id, phone=phone, code=code,
                                                       expires_at=sms.expires_at))
    return AcceptedReply()


async def verify_sms_code(request: VerifySmsCodeV1, _ctx: RpcContext, deps: Deps) -> TokenPairReply:
    phone = _mobile(request.phone)
    typed = "".join(ch for ch in request.code if ch.isdigit())
    now = deps.clock()
    async with deps.sessions() as session, session.begin():
        await enforce_rate_limits(session, deps, request.client, None)
        account = (await session.execute(select(Account).where(
            Account.phone == phone, Account.role == Role.beneficiary))).scalar_one_or_none()
        sms = None
        if account is not None:
            sms = (await session.execute(
                select(SmsCode).where(SmsCode.account_id == account.id, SmsCode.used_at.is_(None),
                                      SmsCode.expires_at > now)
                .order_by(SmsCode.created_at.desc()).limit(1).with_for_update()
            )).scalar_one_or_none()
        if sms is not None and account.status == AccountStatus.active and len(typed) == SMS_CODE_DIGITS:
            expected = hash_sms_code(typed, deps.settings.secret_key.get_secret_value(), str(sms.id))
            if hmac.compare_digest(expected, sms.code_hash):
                sms.used_at = now
                record_attempt(session, deps, request.client, "code_used", success=True, account_id=account.id)
                return await issue_session(session, deps, account, request.client)
        if sms is not None:
            sms.failed_attempts += 1
            if sms.failed_attempts >= deps.settings.sms_code_max_attempts:
                sms.used_at = now  # burnt: guessing one code in a million gets 5 tries, not more
        record_attempt(session, deps, request.client, "link_refused", success=False,
                       account_id=account.id if account else None)
    LOGIN_FAILURES.labels("sms", "invalid_code").inc()
    raise Unauthenticated(CODE_NOT_VALID)
