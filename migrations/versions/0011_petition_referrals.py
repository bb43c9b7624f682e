"""信访转办: petition referrals from 区信访局

One new table, ``petition_referrals``: the 信访件 as referred (编号, 事由, content, the petitioner's contact kept here
and shown masked, received date, the statutory limit), the responsible unit, the supervised item (来源 ``petition``)
or the topic it became, the 请示 to the district and its decision for a major matter, 信访局's review and the reply to the petitioner (date, manner, summary, on time or not).

Status values are written out here, not imported (see 0002).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 05:00:00
"""
import sqlalchemy as sa
from alembic import op

import engine.db

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

STATUSES = ('referred', 'requesting', 'handling', 'review', 'replying', 'answered', 'escalated')


def upgrade() -> None:
    op.create_table('petition_referrals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('petitioner_name', sa.String(length=100), nullable=False),
    sa.Column('petitioner_phone', sa.String(length=32), nullable=True),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('due_at', engine.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('attachment_id', sa.String(length=32), nullable=True),
    sa.Column('lead_unit', sa.String(length=32), nullable=True),
    sa.Column('resolution_id', sa.Integer(), nullable=True),
    sa.Column('topic_id', sa.Integer(), nullable=True),
    sa.Column('request_title', sa.String(length=200), nullable=True),
    sa.Column('request_body', sa.Text(), nullable=True),
    sa.Column('request_number', sa.String(length=64), nullable=True),
    sa.Column('request_signed_by', sa.String(length=64), nullable=True),
    sa.Column('decision', sa.String(length=16), nullable=True),
    sa.Column('decision_text', sa.Text(), nullable=True),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('decided_at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('review_comment', sa.Text(), nullable=True),
    sa.Column('review_count', sa.Integer(), nullable=False),
    sa.Column('reply_on', sa.Date(), nullable=True),
    sa.Column('reply_method', sa.String(length=16), nullable=True),
    sa.Column('reply_summary', sa.Text(), nullable=True),
    sa.Column('on_time', sa.Boolean(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('instance_id', sa.String(length=64), nullable=True),
    sa.Column('referred_by', sa.String(length=64), nullable=True),
    sa.Column('created_at', engine.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint(f"status IN ({', '.join(repr(v) for v in STATUSES)})",
                       name=op.f('ck_petition_referrals_status')),
    sa.ForeignKeyConstraint(['attachment_id'], ['wf_attachment.id'],
                            name=op.f('fk_petition_referrals_attachment_id_wf_attachment')),
    sa.ForeignKeyConstraint(['lead_unit'], ['units.code'], name=op.f('fk_petition_referrals_lead_unit_units')),
    sa.ForeignKeyConstraint(['resolution_id'], ['resolution_items.id'],
                            name=op.f('fk_petition_referrals_resolution_id_resolution_items')),
    sa.ForeignKeyConstraint(['topic_id'], ['topics.id'], name=op.f('fk_petition_referrals_topic_id_topics')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_petition_referrals')),
    sa.UniqueConstraint('number', name=op.f('uq_petition_referrals_number'))
    )
    with op.batch_alter_table('petition_referrals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_petition_referrals_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_petition_referrals_resolution_id'), ['resolution_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_petition_referrals_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_petition_referrals_topic_id'), ['topic_id'], unique=False)


def downgrade() -> None:
    op.drop_table('petition_referrals')
