"""an index on what notifications are about

The history on a task page lists the 催办, 督办, 退回 and 决定 sent about the task's record (its item, topic or
meeting): notifications looked up by their link. Without an index that lookup reads every notification ever sent.

Only an index is added, in place, on SQLite and PostgreSQL alike.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-11 09:00:00
"""
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_notifications_link', 'notifications', ['link'])


def downgrade() -> None:
    op.drop_index('ix_notifications_link', table_name='notifications')
