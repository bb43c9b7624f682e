"""Item counts per lead unit, 来源 and status, kept by triggers: the dashboard stops counting the whole history

``resolution_tallies`` holds, per (lead unit, source, status), the number of items and the days the closed ones
took; triggers on ``resolution_items`` keep it (meeting/tallies.py), and it is filled from the items here.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 16:30:00
"""
import sqlalchemy as sa
from alembic import op

from meeting import tallies

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'resolution_tallies',
        sa.Column('lead_unit', sa.String(length=64), nullable=False),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('items', sa.Integer(), nullable=False),
        sa.Column('closed_days', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('lead_unit', 'source', 'status'),
    )
    with op.batch_alter_table('resolution_items', schema=None) as batch_op:
        batch_op.drop_index('ix_resolution_items_status_deadline')
        batch_op.create_index('ix_resolution_items_status_deadline_lead', ['status', 'deadline', 'lead_unit'],
                              unique=False)
    tallies.install(op.get_bind())  # after the batch operation, which copies the table on SQLite


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS resolution_tally ON resolution_items')
        op.execute('DROP FUNCTION IF EXISTS resolution_tally()')
    else:
        for name in ('insert', 'delete', 'update'):
            op.execute(f'DROP TRIGGER IF EXISTS resolution_tally_{name}')
    with op.batch_alter_table('resolution_items', schema=None) as batch_op:
        batch_op.drop_index('ix_resolution_items_status_deadline_lead')
        batch_op.create_index('ix_resolution_items_status_deadline', ['status', 'deadline'], unique=False)
    op.drop_table('resolution_tallies')
