"""Identity's tables (SQLAlchemy 2.0 typed)."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from servicekit.db import new_declarative_base, partial_index

Base = new_declarative_base()
metadata = Base.metadata


class Account(Base):
    __tablename__ = "account"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    # Beneficiaries may have no email (they log in by SMS code): email and phone are each optional, unique.
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    role: Mapped[str] = mapped_column(String(40))
    deployment_id: Mapped[uuid.UUID | None]
    profile_id: Mapped[uuid.UUID | None]
    status: Mapped[str] = mapped_column(String(20), default="active")  # active | pending | deactivated
    created_at: Mapped[datetime]
    phone: Mapped[str | None] = mapped_column(String(20))  # E.164; a beneficiary's is their login (unique)
    firstname: Mapped[str] = mapped_column(String(120), default="")
    lastname: Mapped[str] = mapped_column(String(120), default="")
    position: Mapped[str] = mapped_column(String(200), default="")
    structure_ids: Mapped[list] = mapped_column(JSON, default=list)
    requested_structure: Mapped[str] = mapped_column(String(250), default="")
    cgu_version: Mapped[str | None] = mapped_column(String(20))
    cgu_accepted_at: Mapped[datetime | None]
    onboarded_at: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    updated_at: Mapped[datetime | None]
    # When the profile's owner emitted the state applied last: an older state arriving late is ignored.
    profile_synced_at: Mapped[datetime | None]

    __table_args__ = (
        Index("uq_account_profile", "role", "profile_id", unique=True),
        Index("ix_account_deployment_status", "deployment_id", "status"),
        # Colleagues share an office line; a beneficiary's mobile names one account for SMS login.
        partial_index("uq_account_beneficiary_phone", "phone", unique=True, where=text("role = 'beneficiary'")),
    )


class LoginLink(Base):
    __tablename__ = "login_link"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class RefreshToken(Base):
    __tablename__ = "refresh_token"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    family_id: Mapped[uuid.UUID] = mapped_column(index=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    # Where the session was opened and last renewed, shown on "Mon compte" to spot a session one does not know.
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")


class SigningKey(Base):
    __tablename__ = "signing_key"

    kid: Mapped[str] = mapped_column(String(40), primary_key=True)
    private_key_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    retired_at: Mapped[datetime | None]


class LoginAttempt(Base):
    """Both the rate-limit counter and the login audit; the email is kept hashed."""

    __tablename__ = "login_attempt"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(30))  # link_requested | link_used | link_refused | refreshed …
    email_hash: Mapped[str | None] = mapped_column(String(64))
    account_id: Mapped[uuid.UUID | None]
    ip: Mapped[str] = mapped_column(String(64))
    user_agent: Mapped[str] = mapped_column(String(300))
    success: Mapped[bool]
    at: Mapped[datetime]

    __table_args__ = (
        Index("ix_login_attempt_email_hash_at", "email_hash", "at"),
        Index("ix_login_attempt_ip_at", "ip", "at"),
    )


class SmsCode(Base):
    """A 6-digit code: few bits, so it is peppered (HMAC with the service secret), short-lived and tries are counted."""

    __tablename__ = "sms_code"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    failed_attempts: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[datetime | None]


class EmailChange(Base):
    __tablename__ = "email_change"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id"), index=True)
    new_email: Mapped[str] = mapped_column(String(320))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class OidcLogin(Base):
    """An authorization request in flight: ``state`` names it, the PKCE verifier and nonce wait for the callback."""

    __tablename__ = "oidc_login"

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    code_verifier: Mapped[str] = mapped_column(String(128))
    nonce: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class Deployment(Base):
    """Read model of directory's territories, for the sign-up form."""

    __tablename__ = "deployment"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(200))
    department_code: Mapped[str] = mapped_column(String(3))


class PartnerCredential(Base):
    """A partner's API credential (identity.domain.partners): the secret is kept as its scrypt hash only."""

    __tablename__ = "partner_credential"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    partner: Mapped[str] = mapped_column(String(40), index=True)
    client_id: Mapped[str] = mapped_column(String(80), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(200))
    deployment_ids: Mapped[list] = mapped_column(JSON, default=list)  # the territories it may act in
    created_at: Mapped[datetime]
    created_by: Mapped[uuid.UUID | None]
    rotated_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class PartnerCall(Base):
    """Every call of a partner's API, let through or refused: shown to administrators."""

    __tablename__ = "partner_call"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    credential_id: Mapped[uuid.UUID | None]
    partner: Mapped[str] = mapped_column(String(40))
    client_id: Mapped[str] = mapped_column(String(80))
    route: Mapped[str] = mapped_column(String(200))
    deployment_id: Mapped[uuid.UUID | None]
    result: Mapped[str] = mapped_column(String(20))
    status: Mapped[int | None]
    at: Mapped[datetime] = mapped_column(index=True)


# Retention's table (issue 21) lives beside these, on the same metadata: imported here so that the metadata is whole.
from identity.adapters import retention_orm  # noqa: E402,F401
