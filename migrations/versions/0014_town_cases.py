"""Towns' cases (seed 一(四), 各镇): 一门受理、协同办理 and 救急难

``assistance_cases`` (a citizen's application at a town's window, or an urgent case; the applicant's 身份证号 and
phone are kept here only), ``case_handlings`` (each department's part: 签收, handled within the routing rule's
limit, or returned as 非本部门职责), ``personal_data_views`` (every unmasked view of personal data) and a town's
先行救助 authority on ``units``.

Status values are written out here, not imported (see 0002).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 05:40:00
"""
import sqlalchemy as sa
from alembic import op

import engine.db

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('personal_data_views',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', engine.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('subject', sa.String(length=32), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('subject_number', sa.String(length=64), nullable=False),
    sa.Column('town_code', sa.String(length=32), nullable=True),
    sa.Column('fields', sa.String(length=100), nullable=False),
    sa.Column('purpose', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_personal_data_views'))
    )
    with op.batch_alter_table('personal_data_views', schema=None) as batch_op:
        batch_op.create_index('ix_personal_data_views_at', ['at'], unique=False)

    op.create_table('assistance_cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('town_code', sa.String(length=32), nullable=False),
    sa.Column('applicant_name', sa.String(length=100), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('village', sa.String(length=100), nullable=False),
    sa.Column('household_size', sa.Integer(), nullable=True),
    sa.Column('aid_types', sa.JSON(), nullable=False),
    sa.Column('circumstances', sa.Text(), nullable=False),
    sa.Column('attachment_id', sa.String(length=32), nullable=True),
    sa.Column('missing_materials', sa.Text(), nullable=True),
    sa.Column('materials_due_at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('materials_supplied_at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('routing_version', sa.Integer(), nullable=True),
    sa.Column('reroute_count', sa.Integer(), nullable=False),
    sa.Column('reported_at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('verify_due_at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('escalated_at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('verified_at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('verified_by', sa.String(length=64), nullable=True),
    sa.Column('verified_true', sa.Boolean(), nullable=True),
    sa.Column('findings', sa.Text(), nullable=True),
    sa.Column('advance_amount', sa.Integer(), nullable=True),
    sa.Column('advance_granted_at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('advance_granted_by', sa.String(length=64), nullable=True),
    sa.Column('district_reason', sa.Text(), nullable=True),
    sa.Column('district_route', sa.String(length=16), nullable=True),
    sa.Column('district_note', sa.Text(), nullable=True),
    sa.Column('coordination_id', sa.Integer(), nullable=True),
    sa.Column('topic_id', sa.Integer(), nullable=True),
    sa.Column('informed_on', sa.Date(), nullable=True),
    sa.Column('inform_method', sa.String(length=16), nullable=True),
    sa.Column('inform_summary', sa.Text(), nullable=True),
    sa.Column('visited_on', sa.Date(), nullable=True),
    sa.Column('satisfaction', sa.String(length=16), nullable=True),
    sa.Column('visit_comment', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('instance_id', sa.String(length=64), nullable=True),
    sa.Column('registered_by', sa.String(length=64), nullable=True),
    sa.Column('created_at', engine.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('materials', 'verifying', 'handling', 'rerouting', 'district', 'informing', 'visiting', 'closed', 'lapsed', 'unfounded')", name=op.f('ck_assistance_cases_status')),
    sa.ForeignKeyConstraint(['attachment_id'], ['wf_attachment.id'], name=op.f('fk_assistance_cases_attachment_id_wf_attachment')),
    sa.ForeignKeyConstraint(['coordination_id'], ['coordination_requests.id'], name=op.f('fk_assistance_cases_coordination_id_coordination_requests')),
    sa.ForeignKeyConstraint(['topic_id'], ['topics.id'], name=op.f('fk_assistance_cases_topic_id_topics')),
    sa.ForeignKeyConstraint(['town_code'], ['units.code'], name=op.f('fk_assistance_cases_town_code_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assistance_cases')),
    sa.UniqueConstraint('number', name=op.f('uq_assistance_cases_number'))
    )
    with op.batch_alter_table('assistance_cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assistance_cases_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assistance_cases_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_assistance_cases_status'), ['status'], unique=False)
        batch_op.create_index('ix_assistance_cases_town_created', ['town_code', 'created_at'], unique=False)

    op.create_table('case_handlings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('department', sa.String(length=32), nullable=False),
    sa.Column('aid_type', sa.String(length=32), nullable=False),
    sa.Column('limit_days', sa.Integer(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('routing_version', sa.Integer(), nullable=True),
    sa.Column('sign_due_at', engine.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('due_at', engine.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('signed_at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('signed_by', sa.String(length=64), nullable=True),
    sa.Column('return_reason', sa.Text(), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('amount', sa.Integer(), nullable=True),
    sa.Column('result', sa.Text(), nullable=True),
    sa.Column('done_at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('done_by', sa.String(length=64), nullable=True),
    sa.Column('on_time', sa.Boolean(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', engine.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('signing', 'handling', 'done', 'returned', 'lapsed')", name=op.f('ck_case_handlings_status')),
    sa.ForeignKeyConstraint(['case_id'], ['assistance_cases.id'], name=op.f('fk_case_handlings_case_id_assistance_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_handlings'))
    )
    with op.batch_alter_table('case_handlings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_handlings_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_case_handlings_department_status', ['department', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_handlings_status'), ['status'], unique=False)

    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.add_column(sa.Column('advance_limit', sa.Integer(), nullable=True))




def downgrade() -> None:

    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.drop_column('advance_limit')

    with op.batch_alter_table('case_handlings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_handlings_status'))
        batch_op.drop_index('ix_case_handlings_department_status')
        batch_op.drop_index(batch_op.f('ix_case_handlings_case_id'))

    op.drop_table('case_handlings')
    with op.batch_alter_table('assistance_cases', schema=None) as batch_op:
        batch_op.drop_index('ix_assistance_cases_town_created')
        batch_op.drop_index(batch_op.f('ix_assistance_cases_status'))
        batch_op.drop_index(batch_op.f('ix_assistance_cases_kind'))
        batch_op.drop_index(batch_op.f('ix_assistance_cases_instance_id'))

    op.drop_table('assistance_cases')
    with op.batch_alter_table('personal_data_views', schema=None) as batch_op:
        batch_op.drop_index('ix_personal_data_views_at')

    op.drop_table('personal_data_views')
