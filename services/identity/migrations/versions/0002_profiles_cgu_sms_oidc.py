"""Profiles on accounts, CGU and onboarding state, SMS codes, email changes, OIDC logins, deployments read model.

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

import servicekit.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deployment",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("department_code", sa.String(length=3), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deployment")),
    )
    op.create_table(
        "oidc_login",
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("code_verifier", sa.String(length=128), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("created_at", servicekit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", servicekit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("used_at", servicekit.db.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("state_hash", name=op.f("pk_oidc_login")),
    )
    op.create_table(
        "email_change",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("new_email", sa.String(length=320), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", servicekit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", servicekit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("used_at", servicekit.db.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], name=op.f("fk_email_change_account_id_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_change")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_email_change_token_hash")),
    )
    with op.batch_alter_table("email_change") as batch_op:
        batch_op.create_index(batch_op.f("ix_email_change_account_id"), ["account_id"], unique=False)
    op.create_table(
        "sms_code",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", servicekit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", servicekit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("used_at", servicekit.db.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], name=op.f("fk_sms_code_account_id_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_code")),
    )
    with op.batch_alter_table("sms_code") as batch_op:
        batch_op.create_index(batch_op.f("ix_sms_code_account_id"), ["account_id"], unique=False)
    empty = sa.text("''")
    with op.batch_alter_table("account") as batch_op:
        batch_op.add_column(sa.Column("phone", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("firstname", sa.String(length=120), nullable=False, server_default=empty))
        batch_op.add_column(sa.Column("lastname", sa.String(length=120), nullable=False, server_default=empty))
        batch_op.add_column(sa.Column("position", sa.String(length=200), nullable=False, server_default=empty))
        batch_op.add_column(sa.Column("structure_ids", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
        batch_op.add_column(sa.Column("requested_structure", sa.String(length=250), nullable=False,
                                      server_default=empty))
        batch_op.add_column(sa.Column("cgu_version", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("cgu_accepted_at", servicekit.db.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("onboarded_at", servicekit.db.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("last_login_at", servicekit.db.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("updated_at", servicekit.db.UtcDateTime(timezone=True), nullable=True))
        batch_op.alter_column("email", existing_type=sa.String(length=320), nullable=True)
        batch_op.create_index("ix_account_deployment_status", ["deployment_id", "status"], unique=False)
        batch_op.create_index("uq_account_beneficiary_phone", ["phone"], unique=True,
                              sqlite_where=sa.text("role = 'beneficiary'"),
                              postgresql_where=sa.text("role = 'beneficiary'"))
        batch_op.create_index("uq_account_profile", ["role", "profile_id"], unique=True)
    with op.batch_alter_table("refresh_token") as batch_op:
        batch_op.add_column(sa.Column("ip", sa.String(length=64), nullable=False, server_default=empty))
        batch_op.add_column(sa.Column("user_agent", sa.String(length=300), nullable=False, server_default=empty))


def downgrade() -> None:
    with op.batch_alter_table("refresh_token") as batch_op:
        batch_op.drop_column("user_agent")
        batch_op.drop_column("ip")
    with op.batch_alter_table("account") as batch_op:
        batch_op.drop_index("uq_account_profile")
        batch_op.drop_index("uq_account_beneficiary_phone")
        batch_op.drop_index("ix_account_deployment_status")
        batch_op.alter_column("email", existing_type=sa.String(length=320), nullable=False)
        for column in ("updated_at", "last_login_at", "onboarded_at", "cgu_accepted_at", "cgu_version",
                       "requested_structure", "structure_ids", "position", "lastname", "firstname", "phone"):
            batch_op.drop_column(column)
    for table in ("sms_code", "email_change", "oidc_login", "deployment"):
        op.drop_table(table)
