"""家庭经济状况核对 (seed 一(三)): household checks and the provider departments' answers

``household_batches`` and ``household_batch_rows`` (the monthly 动态复核: one list per provider, a row per household
and provider, changes flagged), ``household_checks`` (a household asked about, with its signed 授权书; members' 身份证号 kept here only) and
``household_check_answers`` (each provider's typed findings, 无记录 / 无法核实, or 未反馈 at its deadline; indexed by
provider for the statistics).

Status values are written out here, not imported (see 0002).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 06:20:00
"""
import sqlalchemy as sa
from alembic import op

import engine.db

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('household_checks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=64), nullable=False),
    sa.Column('town_code', sa.String(length=32), nullable=True),
    sa.Column('requester_group', sa.String(length=64), nullable=False),
    sa.Column('requested_by', sa.String(length=64), nullable=True),
    sa.Column('aid_type', sa.String(length=32), nullable=False),
    sa.Column('applicant_name', sa.String(length=100), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('members', sa.JSON(), nullable=False),
    sa.Column('authorization_id', sa.String(length=32), nullable=False),
    sa.Column('decision_version', sa.Integer(), nullable=True),
    sa.Column('report', sa.JSON(), nullable=True),
    sa.Column('review_comment', sa.Text(), nullable=True),
    sa.Column('reviewed_by', sa.String(length=64), nullable=True),
    sa.Column('reviewed_at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('instance_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', engine.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('checking', 'reviewing', 'returned')", name=op.f('ck_household_checks_status')),
    sa.ForeignKeyConstraint(['authorization_id'], ['wf_attachment.id'], name=op.f('fk_household_checks_authorization_id_wf_attachment')),
    sa.ForeignKeyConstraint(['town_code'], ['units.code'], name=op.f('fk_household_checks_town_code_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_household_checks')),
    sa.UniqueConstraint('number', name=op.f('uq_household_checks_number'))
    )
    with op.batch_alter_table('household_checks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_household_checks_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_household_checks_status'), ['status'], unique=False)
        batch_op.create_index('ix_household_checks_town_created', ['town_code', 'created_at'], unique=False)

    op.create_table('household_check_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('check_id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=32), nullable=False),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('due_at', engine.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('findings', sa.JSON(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('answered_at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('answered_by', sa.String(length=64), nullable=True),
    sa.Column('reminded_at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('on_time', sa.Boolean(), nullable=True),
    sa.Column('workdays', sa.Integer(), nullable=True),
    sa.Column('created_at', engine.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'found', 'no_record', 'unverifiable', 'silent')", name=op.f('ck_household_check_answers_status')),
    sa.ForeignKeyConstraint(['check_id'], ['household_checks.id'], name=op.f('fk_household_check_answers_check_id_household_checks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_household_check_answers'))
    )
    with op.batch_alter_table('household_check_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_household_check_answers_check_id'), ['check_id'], unique=False)
        batch_op.create_index('ix_household_check_answers_provider_created', ['provider', 'created_at'], unique=False)
        batch_op.create_index('ix_household_check_answers_provider_status', ['provider', 'status'], unique=False)

    op.create_table('household_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=64), nullable=False),
    sa.Column('town_code', sa.String(length=32), nullable=True),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('requester_group', sa.String(length=64), nullable=False),
    sa.Column('started_by', sa.String(length=64), nullable=True),
    sa.Column('households', sa.Integer(), nullable=False),
    sa.Column('changed', sa.Integer(), nullable=False),
    sa.Column('review_comment', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('instance_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', engine.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('checking', 'reviewing', 'closed')", name=op.f('ck_household_batches_status')),
    sa.ForeignKeyConstraint(['town_code'], ['units.code'], name=op.f('fk_household_batches_town_code_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_household_batches')),
    sa.UniqueConstraint('number', name=op.f('uq_household_batches_number'))
    )
    with op.batch_alter_table('household_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_household_batches_instance_id'), ['instance_id'], unique=False)

    op.create_table('household_batch_rows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('check_id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=32), nullable=False),
    sa.Column('baseline', sa.Text(), nullable=False),
    sa.Column('value', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('changed', sa.Boolean(), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'found', 'no_record', 'unverifiable', 'silent')", name=op.f('ck_household_batch_rows_status')),
    sa.ForeignKeyConstraint(['batch_id'], ['household_batches.id'], name=op.f('fk_household_batch_rows_batch_id_household_batches')),
    sa.ForeignKeyConstraint(['check_id'], ['household_checks.id'], name=op.f('fk_household_batch_rows_check_id_household_checks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_household_batch_rows'))
    )
    with op.batch_alter_table('household_batch_rows', schema=None) as batch_op:
        batch_op.create_index('ix_household_batch_rows_batch_changed', ['batch_id', 'changed'], unique=False)
        batch_op.create_index('ix_household_batch_rows_batch_provider', ['batch_id', 'provider', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('household_batch_rows', schema=None) as batch_op:
        batch_op.drop_index('ix_household_batch_rows_batch_provider')
        batch_op.drop_index('ix_household_batch_rows_batch_changed')
    op.drop_table('household_batch_rows')
    with op.batch_alter_table('household_batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_household_batches_instance_id'))
    op.drop_table('household_batches')
    with op.batch_alter_table('household_check_answers', schema=None) as batch_op:
        batch_op.drop_index('ix_household_check_answers_provider_status')
        batch_op.drop_index('ix_household_check_answers_provider_created')
        batch_op.drop_index(batch_op.f('ix_household_check_answers_check_id'))
    op.drop_table('household_check_answers')
    with op.batch_alter_table('household_checks', schema=None) as batch_op:
        batch_op.drop_index('ix_household_checks_town_created')
        batch_op.drop_index(batch_op.f('ix_household_checks_status'))
        batch_op.drop_index(batch_op.f('ix_household_checks_instance_id'))
    op.drop_table('household_checks')
