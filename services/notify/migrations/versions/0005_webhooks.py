"""Signed webhooks to partners: subscriptions (secret encrypted), deliveries (one per subscription and event),
their attempts, and the admins told when a subscription pauses itself.

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

import servicekit.db

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def when(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, servicekit.db.UtcDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "webhook_subscription",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("deployment_ids", sa.JSON(), nullable=False),
        sa.Column("event_types", sa.JSON(), nullable=False),
        sa.Column("secret_sealed", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        when("paused_at", nullable=True),
        sa.Column("paused_for_failures", sa.Boolean(), nullable=False),
        when("failing_since", nullable=True),
        when("created_at"),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        when("secret_rotated_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_subscription")),
    )
    op.create_table(
        "webhook_delivery",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("subscription_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.String(length=40), nullable=False),
        sa.Column("deployment_id", sa.Uuid(), nullable=False),
        sa.Column("notebook_id", sa.Uuid(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        when("created_at"),
        when("next_attempt_at"),
        when("sending_since", nullable=True),
        when("delivered_at", nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_delivery")),
    )
    op.create_index("uq_webhook_delivery_subscription_event", "webhook_delivery", ["subscription_id", "event_id"],
                    unique=True)
    op.create_index("ix_webhook_delivery_due", "webhook_delivery", ["status", "next_attempt_at"])
    op.create_index("ix_webhook_delivery_subscription_created", "webhook_delivery", ["subscription_id", "created_at"])
    op.create_table(
        "webhook_attempt",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("delivery_id", sa.Uuid(), nullable=False),
        when("attempted_at"),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_attempt")),
    )
    op.create_index(op.f("ix_webhook_attempt_delivery_id"), "webhook_attempt", ["delivery_id"])
    op.create_table(
        "webhook_admin",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        when("seen_at"),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_webhook_admin")),
    )


def downgrade() -> None:
    op.drop_table("webhook_admin")
    op.drop_table("webhook_attempt")
    op.drop_table("webhook_delivery")
    op.drop_table("webhook_subscription")
