"""four-eyes deploys, sessions and sign-in, e-mail sent one by one

Process versions get a review state (published / pending / rejected) and who reviewed them; existing versions are
published. Users get the session key that ends all their sessions when it changes. Sign-in attempts record
successes (the addresses a user normally signs in from) and are counted per address too. API tokens get an
expiry. Notifications keep the e-mail attempts, error and next try of their copy.

Every column is added in place (SQLite adds a column with a constant default without rebuilding the table).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08 09:00:00
"""
import sqlalchemy as sa
from alembic import op

import engine.db

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('wf_model', sa.Column('status', sa.String(length=16), server_default='published', nullable=False))
    op.add_column('wf_model', sa.Column('reviewed_by', sa.String(length=100), nullable=True))
    op.add_column('wf_model', sa.Column('reviewed_at', engine.db.UTCDateTime(timezone=True), nullable=True))
    op.add_column('wf_model', sa.Column('review_comment', sa.Text(), nullable=True))
    op.create_index('ix_wf_model_status', 'wf_model', ['status'])

    op.add_column('users', sa.Column('session_key', sa.String(length=64), nullable=True))

    op.add_column('login_attempts', sa.Column('ok', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_index('ix_login_attempts_remote_at', 'login_attempts', ['remote', 'at'])

    op.add_column('api_tokens', sa.Column('expires_at', engine.db.UTCDateTime(timezone=True), nullable=True))

    op.add_column('notifications', sa.Column('email_attempts', sa.Integer(), server_default='0', nullable=False))
    op.add_column('notifications', sa.Column('email_error', sa.Text(), nullable=True))
    op.add_column('notifications', sa.Column('email_retry_at', engine.db.UTCDateTime(timezone=True), nullable=True))
    op.add_column('notifications', sa.Column('email_failed_at', engine.db.UTCDateTime(timezone=True),
                                             nullable=True))


def downgrade() -> None:
    for table, column in (('notifications', 'email_failed_at'), ('notifications', 'email_retry_at'),
                          ('notifications', 'email_error'), ('notifications', 'email_attempts'),
                          ('api_tokens', 'expires_at'), ('login_attempts', 'ok'), ('users', 'session_key'),
                          ('wf_model', 'review_comment'), ('wf_model', 'reviewed_at'), ('wf_model', 'reviewed_by'),
                          ('wf_model', 'status')):
        if column == 'ok':
            op.drop_index('ix_login_attempts_remote_at', table_name='login_attempts')
        if column == 'status':
            op.drop_index('ix_wf_model_status', table_name='wf_model')
        with op.batch_alter_table(table) as batch:
            batch.drop_column(column)
