"""交办事项: matters the district assigns (区委、区政府交办, seed 一(五))

One new table, ``assigned_matters``: the 来文 or 批示件 as logged in (收文号 from the document register, 交办机关,
来文文号, 批示 and its leader, received date, time limit, attachment), the office's proposal (牵头 / 配合, deadline,
whether it needs a meeting), the convener's decision, the supervised item (or the topic) it became, and the
办理情况报告 sent back to the source. The items themselves stay in ``resolution_items`` with 来源 ``assigned``.

Status values are written out here, not imported (see 0002).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 04:00:00
"""
import sqlalchemy as sa
from alembic import op

import engine.db

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

STATUSES = ('registered', 'proposed', 'assigned', 'agenda', 'reporting', 'signed', 'sent', 'closed')


def upgrade() -> None:
    op.create_table('assigned_matters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('source_org', sa.String(length=100), nullable=False),
    sa.Column('source_kind', sa.String(length=16), nullable=False),
    sa.Column('source_number', sa.String(length=100), nullable=True),
    sa.Column('instruction', sa.Text(), nullable=False),
    sa.Column('instruction_leader', sa.String(length=100), nullable=True),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('time_limit', sa.Date(), nullable=False),
    sa.Column('attachment_id', sa.String(length=32), nullable=True),
    sa.Column('proposed_lead', sa.String(length=32), nullable=True),
    sa.Column('proposed_co', sa.JSON(), nullable=False),
    sa.Column('proposed_deadline', sa.Date(), nullable=True),
    sa.Column('needs_meeting', sa.Boolean(), nullable=False),
    sa.Column('proposal_comment', sa.Text(), nullable=True),
    sa.Column('decision', sa.String(length=16), nullable=True),
    sa.Column('decision_comment', sa.Text(), nullable=True),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('decided_at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolution_id', sa.Integer(), nullable=True),
    sa.Column('topic_id', sa.Integer(), nullable=True),
    sa.Column('report_body', sa.Text(), nullable=True),
    sa.Column('report_number', sa.String(length=64), nullable=True),
    sa.Column('report_signed_by', sa.String(length=64), nullable=True),
    sa.Column('report_signed_at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('receipt_comment', sa.Text(), nullable=True),
    sa.Column('received_back_by', sa.String(length=64), nullable=True),
    sa.Column('received_back_at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('instance_id', sa.String(length=64), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=True),
    sa.Column('created_at', engine.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint(f"status IN ({', '.join(repr(v) for v in STATUSES)})",
                       name=op.f('ck_assigned_matters_status')),
    sa.ForeignKeyConstraint(['attachment_id'], ['wf_attachment.id'],
                            name=op.f('fk_assigned_matters_attachment_id_wf_attachment')),
    sa.ForeignKeyConstraint(['proposed_lead'], ['units.code'], name=op.f('fk_assigned_matters_proposed_lead_units')),
    sa.ForeignKeyConstraint(['resolution_id'], ['resolution_items.id'],
                            name=op.f('fk_assigned_matters_resolution_id_resolution_items')),
    sa.ForeignKeyConstraint(['topic_id'], ['topics.id'], name=op.f('fk_assigned_matters_topic_id_topics')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assigned_matters')),
    sa.UniqueConstraint('number', name=op.f('uq_assigned_matters_number'))
    )
    with op.batch_alter_table('assigned_matters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assigned_matters_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assigned_matters_resolution_id'), ['resolution_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assigned_matters_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_assigned_matters_topic_id'), ['topic_id'], unique=False)


def downgrade() -> None:
    op.drop_table('assigned_matters')
