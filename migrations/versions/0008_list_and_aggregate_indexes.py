"""indexes for keyset-paged lists and the dashboard's aggregates

Every list is paged by a stable order (engine/paging.py): a page is read by walking the order's index from the
cursor and stopping after it, whatever the history holds. The instance list is newest first; the ledger sorts by
creation date and by lead unit besides the deadline and status that have indexes already. The dashboard groups
all items by lead unit and averages the days to close from covering indexes, without reading the table.

Only indexes are added: on SQLite and PostgreSQL alike, in place (no table is rebuilt).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-10 09:00:00
"""
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

INDEXES = (
    ('ix_wf_instance_started', 'wf_instance', ['started_at', 'id']),
    ('ix_resolution_items_created_status', 'resolution_items', ['created_at', 'status']),
    ('ix_resolution_items_lead_deadline', 'resolution_items', ['lead_unit', 'deadline']),
    ('ix_resolution_items_lead_status_deadline', 'resolution_items', ['lead_unit', 'status', 'deadline']),
    ('ix_resolution_items_status_closed', 'resolution_items', ['status', 'closed_at', 'created_at']),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
