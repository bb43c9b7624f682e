"""DMN decision tables, deployed and versioned like process models

One new table ``wf_decision``: one row per version of a decision (key = the DMN decision id), with the file's XML,
the checked table the engine evaluates, and the four-eyes review columns of ``wf_model``.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 05:50:00
"""
import sqlalchemy as sa
from alembic import op

import engine.db

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('wf_decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('file_name', sa.String(length=200), nullable=False),
    sa.Column('xml', sa.Text(), nullable=False),
    sa.Column('table', sa.JSON(), nullable=False),
    sa.Column('table_sha', sa.String(length=64), nullable=False),
    sa.Column('deployed_by', sa.String(length=100), nullable=True),
    sa.Column('deployed_at', engine.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), server_default='published', nullable=False),
    sa.Column('reviewed_by', sa.String(length=100), nullable=True),
    sa.Column('reviewed_at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('review_comment', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wf_decision')),
    sa.UniqueConstraint('key', 'version', name=op.f('uq_wf_decision_key')),
    )
    op.create_index('ix_wf_decision_key_status', 'wf_decision', ['key', 'status', 'version'])


def downgrade() -> None:
    op.drop_index('ix_wf_decision_key_status', table_name='wf_decision')
    op.drop_table('wf_decision')
