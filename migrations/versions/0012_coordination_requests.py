"""协调: cross-department coordination between meetings (seed 五)

Two new tables: ``coordination_requests`` (the problem, the asking unit and the units it needs, the office's way of
handling it: 协调函 with its 文号 and reply deadline, 专题协调会 with participants and a 纪要-style record, or a topic
for the next joint meeting) and ``coordination_replies`` (each named unit's answer to a 协调函, or 未反馈). Items a
专题协调会 agrees on stay in ``resolution_items`` with 来源 ``coordination``.

Status values are written out here, not imported (see 0002).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 06:00:00
"""
import sqlalchemy as sa
from alembic import op

import engine.db

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

STATUSES = ('submitted', 'letter', 'meeting', 'referred', 'concluded')
REPLY_STATUSES = ('pending', 'answered', 'silent')


def _in(values: tuple[str, ...]) -> str:
    return f"status IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table('coordination_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('problem', sa.Text(), nullable=False),
    sa.Column('unit_code', sa.String(length=32), nullable=True),
    sa.Column('units', sa.JSON(), nullable=False),
    sa.Column('attachment_id', sa.String(length=32), nullable=True),
    sa.Column('route', sa.String(length=16), nullable=True),
    sa.Column('office_comment', sa.Text(), nullable=True),
    sa.Column('letter_number', sa.String(length=64), nullable=True),
    sa.Column('reply_due', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('meeting_at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('meeting_place', sa.String(length=200), nullable=True),
    sa.Column('participants', sa.JSON(), nullable=False),
    sa.Column('minutes', sa.Text(), nullable=True),
    sa.Column('minutes_number', sa.String(length=64), nullable=True),
    sa.Column('result', sa.Text(), nullable=True),
    sa.Column('topic_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('instance_id', sa.String(length=64), nullable=True),
    sa.Column('requested_by', sa.String(length=64), nullable=True),
    sa.Column('created_at', engine.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint(_in(STATUSES), name=op.f('ck_coordination_requests_status')),
    sa.ForeignKeyConstraint(['attachment_id'], ['wf_attachment.id'],
                            name=op.f('fk_coordination_requests_attachment_id_wf_attachment')),
    sa.ForeignKeyConstraint(['topic_id'], ['topics.id'], name=op.f('fk_coordination_requests_topic_id_topics')),
    sa.ForeignKeyConstraint(['unit_code'], ['units.code'], name=op.f('fk_coordination_requests_unit_code_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coordination_requests'))
    )
    with op.batch_alter_table('coordination_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coordination_requests_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_coordination_requests_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_coordination_requests_topic_id'), ['topic_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_coordination_requests_unit_code'), ['unit_code'], unique=False)

    op.create_table('coordination_replies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('unit_code', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('answered_by', sa.String(length=64), nullable=True),
    sa.Column('answered_at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint(_in(REPLY_STATUSES), name=op.f('ck_coordination_replies_status')),
    sa.ForeignKeyConstraint(['request_id'], ['coordination_requests.id'],
                            name=op.f('fk_coordination_replies_request_id_coordination_requests')),
    sa.ForeignKeyConstraint(['unit_code'], ['units.code'], name=op.f('fk_coordination_replies_unit_code_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coordination_replies')),
    sa.UniqueConstraint('request_id', 'unit_code', name=op.f('uq_coordination_replies_request_unit'))
    )
    with op.batch_alter_table('coordination_replies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coordination_replies_request_id'), ['request_id'], unique=False)


def downgrade() -> None:
    op.drop_table('coordination_replies')
    op.drop_table('coordination_requests')
