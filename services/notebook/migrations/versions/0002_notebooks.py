"""Beneficiaries, notebooks and everything on their page; read models of directory; the referentials (themes,
situations, objectives, actions, ROME job titles) loaded from notebook/referentials/*.csv.

Revision ID: 0002
Revises: 0001
"""
import csv
import uuid
from importlib import resources

import sqlalchemy as sa
from alembic import op

import servicekit.db
from servicekit.contact import search_key

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def referential(name: str) -> list[dict]:
    with resources.files("notebook.referentials").joinpath(f"{name}.csv").open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def load_referentials() -> None:
    op.bulk_insert(sa.table("ref_theme", sa.column("name", sa.String), sa.column("label", sa.String)),
                   referential("ref_theme"))
    for name in ("ref_situation", "ref_target", "ref_action"):
        table = sa.table(name, sa.column("id", sa.Uuid), sa.column("theme", sa.String),
                         sa.column("description", sa.String))
        op.bulk_insert(table, [{**row, "id": uuid.UUID(row["id"])} for row in referential(name)])
    rome = sa.table("rome_code", sa.column("id", sa.Integer), sa.column("code", sa.String),
                    sa.column("label", sa.String), sa.column("search_text", sa.String))
    op.bulk_insert(rome, [{"id": i, "code": row["code"], "label": row["label"], "search_text": search_key(row["label"])}
                          for i, row in enumerate(referential("ref_rome_code"), start=1)])


def upgrade() -> None:
    op.create_table('beneficiary',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('deployment_id', sa.Uuid(), nullable=False),
    sa.Column('firstname', sa.String(length=120), nullable=False),
    sa.Column('lastname', sa.String(length=120), nullable=False),
    sa.Column('date_of_birth', sa.Date(), nullable=False),
    sa.Column('place_of_birth', sa.String(length=120), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('mobile_number', sa.String(length=40), nullable=False),
    sa.Column('address1', sa.String(length=250), nullable=False),
    sa.Column('address2', sa.String(length=250), nullable=False),
    sa.Column('postal_code', sa.String(length=10), nullable=False),
    sa.Column('city', sa.String(length=120), nullable=False),
    sa.Column('nir_encrypted', sa.Text(), nullable=False),
    sa.Column('nir_index', sa.String(length=64), nullable=True),
    sa.Column('caf_number_encrypted', sa.Text(), nullable=False),
    sa.Column('caf_number_index', sa.String(length=64), nullable=True),
    sa.Column('pe_number_encrypted', sa.Text(), nullable=False),
    sa.Column('pe_number_index', sa.String(length=64), nullable=True),
    sa.Column('external_id', sa.String(length=100), nullable=False),
    sa.Column('right_rsa', sa.String(length=60), nullable=True),
    sa.Column('right_are', sa.Boolean(), nullable=False),
    sa.Column('right_ass', sa.Boolean(), nullable=False),
    sa.Column('right_bonus', sa.Boolean(), nullable=False),
    sa.Column('rsa_suspension_reason', sa.String(length=60), nullable=False),
    sa.Column('rsa_closure_reason', sa.String(length=60), nullable=False),
    sa.Column('rsa_closure_date', sa.Date(), nullable=True),
    sa.Column('subject_to_right_and_duty', sa.Boolean(), nullable=False),
    sa.Column('mobile_failed_at', servicekit.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('email_failed_at', servicekit.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('identity_key', sa.String(length=260), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', servicekit.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', servicekit.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('updated_by_name', sa.String(length=250), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_beneficiary'))
    )
    with op.batch_alter_table('beneficiary', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_beneficiary_caf_number_index'), ['caf_number_index'], unique=False)
        batch_op.create_index('ix_beneficiary_list_order', ['deployment_id', 'lastname', 'firstname'], unique=False)
        batch_op.create_index(batch_op.f('ix_beneficiary_pe_number_index'), ['pe_number_index'], unique=False)
        batch_op.create_index('uq_beneficiary_identity', ['deployment_id', 'identity_key'], unique=True)
        batch_op.create_index('uq_beneficiary_nir', ['nir_index'], unique=True)

    op.create_table('orientation_system',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('deployment_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('orientation_type', sa.String(length=10), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orientation_system'))
    )
    with op.batch_alter_table('orientation_system', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_orientation_system_deployment_id'), ['deployment_id'], unique=False)

    op.create_table('person',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('role', sa.String(length=30), nullable=False),
    sa.Column('deployment_id', sa.Uuid(), nullable=True),
    sa.Column('firstname', sa.String(length=120), nullable=False),
    sa.Column('lastname', sa.String(length=120), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('structure_ids', sa.JSON(), nullable=False),
    sa.Column('orientation_system_ids', sa.JSON(), nullable=False),
    sa.Column('occurred_at', servicekit.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('deactivated_at', servicekit.db.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person'))
    )
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_deployment_id'), ['deployment_id'], unique=False)

    op.create_table('ref_action',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('theme', sa.String(length=60), nullable=False),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ref_action'))
    )
    op.create_table('ref_situation',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('theme', sa.String(length=60), nullable=False),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ref_situation'))
    )
    op.create_table('ref_target',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('theme', sa.String(length=60), nullable=False),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ref_target'))
    )
    op.create_table('ref_theme',
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('label', sa.String(length=120), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_ref_theme'))
    )
    op.create_table('rome_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=5), nullable=False),
    sa.Column('label', sa.String(length=250), nullable=False),
    sa.Column('search_text', sa.String(length=250), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rome_code'))
    )
    with op.batch_alter_table('rome_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rome_code_code'), ['code'], unique=False)

    op.create_table('structure',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('deployment_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=250), nullable=False),
    sa.Column('city', sa.String(length=120), nullable=False),
    sa.Column('postal_code', sa.String(length=10), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('occurred_at', servicekit.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_structure'))
    )
    with op.batch_alter_table('structure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_structure_deployment_id'), ['deployment_id'], unique=False)

    op.create_table('notebook',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('beneficiary_id', sa.Uuid(), nullable=False),
    sa.Column('deployment_id', sa.Uuid(), nullable=False),
    sa.Column('work_situation', sa.String(length=40), nullable=True),
    sa.Column('work_situation_date', sa.Date(), nullable=True),
    sa.Column('work_situation_end_date', sa.Date(), nullable=True),
    sa.Column('right_rqth', sa.Boolean(), nullable=False),
    sa.Column('education_level', sa.String(length=5), nullable=True),
    sa.Column('last_job_ended_at', sa.Date(), nullable=True),
    sa.Column('diagnostic_version', sa.Integer(), nullable=False),
    sa.Column('diagnostic_updated_at', servicekit.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('diagnostic_updated_by_name', sa.String(length=250), nullable=False),
    sa.Column('orientation_system_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', servicekit.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', servicekit.db.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['beneficiary_id'], ['beneficiary.id'], name=op.f('fk_notebook_beneficiary_id_beneficiary')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notebook')),
    sa.UniqueConstraint('beneficiary_id', name=op.f('uq_notebook_beneficiary_id'))
    )
    with op.batch_alter_table('notebook', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notebook_deployment_id'), ['deployment_id'], unique=False)

    op.create_table('appointment',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('notebook_id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('at', servicekit.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', servicekit.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['notebook_id'], ['notebook.id'], name=op.f('fk_appointment_notebook_id_notebook')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appointment'))
    )
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appointment_notebook_id'), ['notebook_id'], unique=False)

    op.create_table('beneficiary_structure',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('notebook_id', sa.Uuid(), nullable=False),
    sa.Column('structure_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('started_at', servicekit.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', servicekit.db.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['notebook_id'], ['notebook.id'], name=op.f('fk_beneficiary_structure_notebook_id_notebook')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_beneficiary_structure'))
    )
    with op.batch_alter_table('beneficiary_structure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_beneficiary_structure_notebook_id'), ['notebook_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_beneficiary_structure_structure_id'), ['structure_id'], unique=False)

    op.create_table('focus',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('notebook_id', sa.Uuid(), nullable=False),
    sa.Column('theme', sa.String(length=60), nullable=False),
    sa.Column('created_at', servicekit.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('created_by_name', sa.String(length=250), nullable=False),
    sa.Column('deleted_at', servicekit.db.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['notebook_id'], ['notebook.id'], name=op.f('fk_focus_notebook_id_notebook')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_focus'))
    )
    with op.batch_alter_table('focus', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_focus_notebook_id'), ['notebook_id'], unique=False)

    op.create_table('member',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('notebook_id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('member_type', sa.String(length=30), nullable=False),
    sa.Column('orientation_system_id', sa.Uuid(), nullable=True),
    sa.Column('started_at', servicekit.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', servicekit.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sa.String(length=20), nullable=True),
    sa.Column('last_contact_at', servicekit.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('last_visited_at', servicekit.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('last_modified_at', servicekit.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['notebook_id'], ['notebook.id'], name=op.f('fk_member_notebook_id_notebook')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member'))
    )
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_member_notebook_id'), ['notebook_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_member_person_id'), ['person_id'], unique=False)
        batch_op.create_index('uq_member_active', ['notebook_id', 'person_id'], unique=True, sqlite_where=sa.text('ended_at IS NULL'), postgresql_where=sa.text('ended_at IS NULL'))
        batch_op.create_index('uq_member_one_referent', ['notebook_id'], unique=True, sqlite_where=sa.text("ended_at IS NULL AND member_type = 'referent'"), postgresql_where=sa.text("ended_at IS NULL AND member_type = 'referent'"))

    op.create_table('notebook_situation',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('notebook_id', sa.Uuid(), nullable=False),
    sa.Column('situation_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', servicekit.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('created_by_name', sa.String(length=250), nullable=False),
    sa.Column('deleted_at', servicekit.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('deleted_by_name', sa.String(length=250), nullable=False),
    sa.ForeignKeyConstraint(['notebook_id'], ['notebook.id'], name=op.f('fk_notebook_situation_notebook_id_notebook')),
    sa.ForeignKeyConstraint(['situation_id'], ['ref_situation.id'], name=op.f('fk_notebook_situation_situation_id_ref_situation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notebook_situation'))
    )
    with op.batch_alter_table('notebook_situation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notebook_situation_notebook_id'), ['notebook_id'], unique=False)

    op.create_table('notebook_visit',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('notebook_id', sa.Uuid(), nullable=False),
    sa.Column('account_id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=True),
    sa.Column('role', sa.String(length=30), nullable=False),
    sa.Column('person_name', sa.String(length=250), nullable=False),
    sa.Column('structure_name', sa.String(length=250), nullable=False),
    sa.Column('visited_at', servicekit.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['notebook_id'], ['notebook.id'], name=op.f('fk_notebook_visit_notebook_id_notebook')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notebook_visit'))
    )
    with op.batch_alter_table('notebook_visit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notebook_visit_person_id'), ['person_id'], unique=False)
        batch_op.create_index('ix_visit_notebook_time', ['notebook_id', 'visited_at'], unique=False)

    op.create_table('professional_project',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('notebook_id', sa.Uuid(), nullable=False),
    sa.Column('rome_code', sa.String(length=250), nullable=True),
    sa.Column('mobility_radius_km', sa.Integer(), nullable=True),
    sa.Column('hourly_rate_cents', sa.Integer(), nullable=True),
    sa.Column('contract_type', sa.String(length=40), nullable=True),
    sa.Column('employment_type', sa.String(length=20), nullable=True),
    sa.Column('updated_at', servicekit.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_by_name', sa.String(length=250), nullable=False),
    sa.ForeignKeyConstraint(['notebook_id'], ['notebook.id'], name=op.f('fk_professional_project_notebook_id_notebook')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_professional_project'))
    )
    with op.batch_alter_table('professional_project', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_professional_project_notebook_id'), ['notebook_id'], unique=False)

    op.create_table('timeline_event',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('notebook_id', sa.Uuid(), nullable=False),
    sa.Column('occurred_at', servicekit.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('subject_id', sa.Uuid(), nullable=True),
    sa.Column('author_id', sa.Uuid(), nullable=True),
    sa.Column('author_name', sa.String(length=250), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('hidden', sa.Boolean(), nullable=False),
    sa.Column('redacted_at', servicekit.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('redacted_by_name', sa.String(length=250), nullable=False),
    sa.Column('redaction_reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['notebook_id'], ['notebook.id'], name=op.f('fk_timeline_event_notebook_id_notebook')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_timeline_event'))
    )
    with op.batch_alter_table('timeline_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_timeline_event_subject_id'), ['subject_id'], unique=False)
        batch_op.create_index('ix_timeline_notebook_time', ['notebook_id', 'occurred_at'], unique=False)

    op.create_table('target',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('focus_id', sa.Uuid(), nullable=False),
    sa.Column('target', sa.String(length=300), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('linked_to', sa.String(length=10), nullable=False),
    sa.Column('user_consent', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', servicekit.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('created_by_name', sa.String(length=250), nullable=False),
    sa.Column('deleted_at', servicekit.db.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['focus_id'], ['focus.id'], name=op.f('fk_target_focus_id_focus')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_target'))
    )
    with op.batch_alter_table('target', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_target_focus_id'), ['focus_id'], unique=False)

    op.create_table('action',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('target_id', sa.Uuid(), nullable=False),
    sa.Column('action', sa.String(length=300), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('starting_at', sa.Date(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', servicekit.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('created_by_name', sa.String(length=250), nullable=False),
    sa.Column('deleted_at', servicekit.db.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['target_id'], ['target.id'], name=op.f('fk_action_target_id_target')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_action'))
    )
    with op.batch_alter_table('action', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_action_target_id'), ['target_id'], unique=False)

    load_referentials()


def downgrade() -> None:
    with op.batch_alter_table('action', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_action_target_id'))

    op.drop_table('action')
    with op.batch_alter_table('target', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_target_focus_id'))

    op.drop_table('target')
    with op.batch_alter_table('timeline_event', schema=None) as batch_op:
        batch_op.drop_index('ix_timeline_notebook_time')
        batch_op.drop_index(batch_op.f('ix_timeline_event_subject_id'))

    op.drop_table('timeline_event')
    with op.batch_alter_table('professional_project', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_professional_project_notebook_id'))

    op.drop_table('professional_project')
    with op.batch_alter_table('notebook_visit', schema=None) as batch_op:
        batch_op.drop_index('ix_visit_notebook_time')
        batch_op.drop_index(batch_op.f('ix_notebook_visit_person_id'))

    op.drop_table('notebook_visit')
    with op.batch_alter_table('notebook_situation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notebook_situation_notebook_id'))

    op.drop_table('notebook_situation')
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_index('uq_member_one_referent', sqlite_where=sa.text("ended_at IS NULL AND member_type = 'referent'"), postgresql_where=sa.text("ended_at IS NULL AND member_type = 'referent'"))
        batch_op.drop_index('uq_member_active', sqlite_where=sa.text('ended_at IS NULL'), postgresql_where=sa.text('ended_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_member_person_id'))
        batch_op.drop_index(batch_op.f('ix_member_notebook_id'))

    op.drop_table('member')
    with op.batch_alter_table('focus', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_focus_notebook_id'))

    op.drop_table('focus')
    with op.batch_alter_table('beneficiary_structure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_beneficiary_structure_structure_id'))
        batch_op.drop_index(batch_op.f('ix_beneficiary_structure_notebook_id'))

    op.drop_table('beneficiary_structure')
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appointment_notebook_id'))

    op.drop_table('appointment')
    with op.batch_alter_table('notebook', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notebook_deployment_id'))

    op.drop_table('notebook')
    with op.batch_alter_table('structure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_structure_deployment_id'))

    op.drop_table('structure')
    with op.batch_alter_table('rome_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rome_code_code'))

    op.drop_table('rome_code')
    op.drop_table('ref_theme')
    op.drop_table('ref_target')
    op.drop_table('ref_situation')
    op.drop_table('ref_action')
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_deployment_id'))

    op.drop_table('person')
    with op.batch_alter_table('orientation_system', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_orientation_system_deployment_id'))

    op.drop_table('orientation_system')
    with op.batch_alter_table('beneficiary', schema=None) as batch_op:
        batch_op.drop_index('uq_beneficiary_nir')
        batch_op.drop_index('uq_beneficiary_identity')
        batch_op.drop_index(batch_op.f('ix_beneficiary_pe_number_index'))
        batch_op.drop_index('ix_beneficiary_list_order')
        batch_op.drop_index(batch_op.f('ix_beneficiary_caf_number_index'))

    op.drop_table('beneficiary')
