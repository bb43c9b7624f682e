"""来源 by status: the dashboard's open and closed items per source read a covering index, not the table

``ix_resolution_items_source`` becomes ``ix_resolution_items_source_status`` (source, status): the ledger's
来源 filter uses its first column as before.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 13:10:00
"""
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('resolution_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_resolution_items_source'))
        batch_op.create_index('ix_resolution_items_source_status', ['source', 'status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('resolution_items', schema=None) as batch_op:
        batch_op.drop_index('ix_resolution_items_source_status')
        batch_op.create_index(batch_op.f('ix_resolution_items_source'), ['source'], unique=False)
