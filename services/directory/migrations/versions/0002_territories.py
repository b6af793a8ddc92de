"""Territories, orientation systems, structures, people and the beneficiaries counted per territory.

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
    op.create_table('beneficiary_seen',
    sa.Column('profile_id', sa.Uuid(), nullable=False),
    sa.Column('deployment_id', sa.Uuid(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('profile_id', name=op.f('pk_beneficiary_seen'))
    )
    with op.batch_alter_table('beneficiary_seen', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_beneficiary_seen_deployment_id'), ['deployment_id'], unique=False)

    op.create_table('deployment',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('department_code', sa.String(length=3), nullable=False),
    sa.Column('created_at', servicekit.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deployment')),
    sa.UniqueConstraint('department_code', name=op.f('uq_deployment_department_code'))
    )
    op.create_table('orientation_system',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('deployment_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('name_key', sa.String(length=120), nullable=False),
    sa.Column('orientation_type', sa.String(length=10), nullable=False),
    sa.ForeignKeyConstraint(['deployment_id'], ['deployment.id'], name=op.f('fk_orientation_system_deployment_id_deployment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orientation_system'))
    )
    with op.batch_alter_table('orientation_system', schema=None) as batch_op:
        batch_op.create_index('uq_orientation_system_name', ['deployment_id', 'name_key'], unique=True)

    op.create_table('person',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('role', sa.String(length=30), nullable=False),
    sa.Column('deployment_id', sa.Uuid(), nullable=False),
    sa.Column('firstname', sa.String(length=120), nullable=False),
    sa.Column('lastname', sa.String(length=120), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('position', sa.String(length=200), nullable=False),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('created_at', servicekit.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', servicekit.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('deactivated_at', servicekit.db.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['deployment_id'], ['deployment.id'], name=op.f('fk_person_deployment_id_deployment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person'))
    )
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.create_index('ix_person_deployment_role', ['deployment_id', 'role'], unique=False)
        batch_op.create_index('uq_person_active_email', ['email'], unique=True, sqlite_where=sa.text('deactivated_at IS NULL'), postgresql_where=sa.text('deactivated_at IS NULL'))

    op.create_table('structure',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('deployment_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=250), nullable=False),
    sa.Column('name_key', sa.String(length=250), nullable=False),
    sa.Column('siret', sa.String(length=14), nullable=False),
    sa.Column('short_desc', sa.Text(), nullable=False),
    sa.Column('address1', sa.String(length=250), nullable=False),
    sa.Column('address2', sa.String(length=250), nullable=False),
    sa.Column('postal_code', sa.String(length=10), nullable=False),
    sa.Column('city', sa.String(length=120), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('website', sa.String(length=300), nullable=False),
    sa.Column('sensitive', sa.Boolean(), nullable=False),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', servicekit.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', servicekit.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('deactivated_at', servicekit.db.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['deployment_id'], ['deployment.id'], name=op.f('fk_structure_deployment_id_deployment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_structure'))
    )
    with op.batch_alter_table('structure', schema=None) as batch_op:
        batch_op.create_index('uq_structure_name', ['deployment_id', 'name_key'], unique=True, sqlite_where=sa.text('deactivated_at IS NULL'), postgresql_where=sa.text('deactivated_at IS NULL'))

    op.create_table('person_orientation_system',
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('orientation_system_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['orientation_system_id'], ['orientation_system.id'], name=op.f('fk_person_orientation_system_orientation_system_id_orientation_system')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_person_orientation_system_person_id_person')),
    sa.PrimaryKeyConstraint('person_id', 'orientation_system_id', name=op.f('pk_person_orientation_system'))
    )
    op.create_table('person_structure',
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('structure_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_person_structure_person_id_person')),
    sa.ForeignKeyConstraint(['structure_id'], ['structure.id'], name=op.f('fk_person_structure_structure_id_structure')),
    sa.PrimaryKeyConstraint('person_id', 'structure_id', name=op.f('pk_person_structure'))
    )
    with op.batch_alter_table('person_structure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_structure_structure_id'), ['structure_id'], unique=False)

    op.create_table('structure_orientation_system',
    sa.Column('structure_id', sa.Uuid(), nullable=False),
    sa.Column('orientation_system_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['orientation_system_id'], ['orientation_system.id'], name=op.f('fk_structure_orientation_system_orientation_system_id_orientation_system')),
    sa.ForeignKeyConstraint(['structure_id'], ['structure.id'], name=op.f('fk_structure_orientation_system_structure_id_structure')),
    sa.PrimaryKeyConstraint('structure_id', 'orientation_system_id', name=op.f('pk_structure_orientation_system'))
    )


def downgrade() -> None:
    op.drop_table('structure_orientation_system')
    with op.batch_alter_table('person_structure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_structure_structure_id'))

    op.drop_table('person_structure')
    op.drop_table('person_orientation_system')
    with op.batch_alter_table('structure', schema=None) as batch_op:
        batch_op.drop_index('uq_structure_name', sqlite_where=sa.text('deactivated_at IS NULL'), postgresql_where=sa.text('deactivated_at IS NULL'))

    op.drop_table('structure')
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_index('uq_person_active_email', sqlite_where=sa.text('deactivated_at IS NULL'), postgresql_where=sa.text('deactivated_at IS NULL'))
        batch_op.drop_index('ix_person_deployment_role')

    op.drop_table('person')
    with op.batch_alter_table('orientation_system', schema=None) as batch_op:
        batch_op.drop_index('uq_orientation_system_name')

    op.drop_table('orientation_system')
    op.drop_table('deployment')
    with op.batch_alter_table('beneficiary_seen', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_beneficiary_seen_deployment_id'))

    op.drop_table('beneficiary_seen')
