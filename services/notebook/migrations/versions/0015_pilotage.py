"""Pilotage (issue 18): the read model of the beneficiaries' filter builder, dashboards and exports (one row of
facts per notebook, and its actions), kept by notebook.notebook.changed.v1; and the saved queries.

Revision ID: 0015
Revises: 0014
"""
import sqlalchemy as sa
import servicekit.db
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pilotage_notebook",
        sa.Column("notebook_id", sa.Uuid(), nullable=False),
        sa.Column("deployment_id", sa.Uuid(), nullable=False),
        sa.Column("lastname", sa.String(length=120), nullable=False),
        sa.Column("firstname", sa.String(length=120), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("structure_id", sa.Uuid(), nullable=True),
        sa.Column("referent_id", sa.Uuid(), nullable=True),
        sa.Column("orientation_system_id", sa.Uuid(), nullable=True),
        sa.Column("support", sa.String(length=20), nullable=False),
        sa.Column("rsa_right", sa.String(length=60), nullable=True),
        sa.Column("subject_to_right_and_duty", sa.Boolean(), nullable=False),
        sa.Column("cer_state", sa.String(length=10), nullable=False),
        sa.Column("cer_end_date", sa.Date(), nullable=True),
        sa.Column("last_activity_at", servicekit.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_at", servicekit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("first_oriented_at", servicekit.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("first_cer_at", servicekit.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("origin", sa.String(length=20), nullable=False),
        sa.Column("themes", sa.Text(), nullable=False),
        sa.Column("pending_reorientation_since", servicekit.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("refreshed_at", servicekit.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("notebook_id"),
    )
    op.create_index("ix_pilotage_notebook_order", "pilotage_notebook",
                    ["deployment_id", "lastname", "firstname", "notebook_id"])
    op.create_index("ix_pilotage_notebook_structure", "pilotage_notebook", ["deployment_id", "structure_id"])
    op.create_index("ix_pilotage_notebook_referent", "pilotage_notebook", ["deployment_id", "referent_id"])
    op.create_index("ix_pilotage_notebook_created", "pilotage_notebook", ["deployment_id", "created_at"])
    op.create_table(
        "pilotage_action",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("notebook_id", sa.Uuid(), nullable=False),
        sa.Column("deployment_id", sa.Uuid(), nullable=False),
        sa.Column("structure_id", sa.Uuid(), nullable=True),
        sa.Column("theme", sa.String(length=60), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", servicekit.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_pilotage_action_notebook", "pilotage_action", ["notebook_id"])
    op.create_index("ix_pilotage_action_deployment", "pilotage_action", ["deployment_id", "theme", "status"])
    op.create_table(
        "saved_query",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("deployment_id", sa.Uuid(), nullable=True),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("owner_name", sa.String(length=250), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("created_at", servicekit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", servicekit.db.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("uq_saved_query_owner_name", "saved_query", ["owner_id", "name"], unique=True)
    op.create_index("ix_saved_query_deployment", "saved_query", ["deployment_id", "shared"])


def downgrade() -> None:
    op.drop_index("ix_saved_query_deployment", table_name="saved_query")
    op.drop_index("uq_saved_query_owner_name", table_name="saved_query")
    op.drop_table("saved_query")
    op.drop_index("ix_pilotage_action_deployment", table_name="pilotage_action")
    op.drop_index("ix_pilotage_action_notebook", table_name="pilotage_action")
    op.drop_table("pilotage_action")
    op.drop_index("ix_pilotage_notebook_created", table_name="pilotage_notebook")
    op.drop_index("ix_pilotage_notebook_referent", table_name="pilotage_notebook")
    op.drop_index("ix_pilotage_notebook_structure", table_name="pilotage_notebook")
    op.drop_index("ix_pilotage_notebook_order", table_name="pilotage_notebook")
    op.drop_table("pilotage_notebook")
