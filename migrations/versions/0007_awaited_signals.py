"""awaited signals next to awaited messages

The projection of the events an instance waits for (wf_message) gets a kind: a message is delivered to one
waiting instance, a signal is broadcast to every one. Existing rows are messages. The column is added in place
(SQLite adds a column with a constant default without rebuilding the table).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-09 09:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('wf_message', sa.Column('kind', sa.String(length=16), server_default='message', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('wf_message') as batch:
        batch.drop_column('kind')
