"""administration: people's posts and phones, liaisons, one-time passwords, password history, settings, unit
history and merges, liaison changes; role keys as long as group keys (``town:<code>:window``)

New columns are added in place (SQLite can add a column with a constant default without rebuilding the table,
so no table that others reference is rebuilt). SQLite does not enforce VARCHAR lengths, so the wider role key is
only altered on PostgreSQL.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 09:00:00
"""
import sqlalchemy as sa
from alembic import op

import engine.db

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('users', sa.Column('post', sa.String(length=100), nullable=True))
    op.add_column('users', sa.Column('phone', sa.String(length=32), nullable=True))
    op.add_column('users', sa.Column('is_liaison', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('users', sa.Column('must_change_password', sa.Boolean(), server_default=sa.false(),
                                     nullable=False))
    op.add_column('users', sa.Column('password_changed_at', engine.db.UTCDateTime(timezone=True), nullable=True))
    op.add_column('units', sa.Column('merged_into', sa.String(length=32), nullable=True))
    if op.get_bind().dialect.name == 'postgresql':
        op.alter_column('user_roles', 'role', type_=sa.String(length=64), existing_type=sa.String(length=16),
                        existing_nullable=False)

    op.create_table('unit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_code', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=True),
    sa.Column('change_id', sa.Integer(), nullable=True),
    sa.Column('at', engine.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['change_id'], ['membership_changes.id'],
                            name=op.f('fk_unit_events_change_id_membership_changes')),
    sa.ForeignKeyConstraint(['unit_code'], ['units.code'], name=op.f('fk_unit_events_unit_code_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit_events'))
    )
    op.create_index('ix_unit_events_unit_at', 'unit_events', ['unit_code', 'at'], unique=False)

    op.create_table('liaison_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_code', sa.String(length=32), nullable=False),
    sa.Column('previous_user', sa.String(length=64), nullable=True),
    sa.Column('new_user', sa.String(length=64), nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('handed_over', sa.Integer(), nullable=False),
    sa.Column('recorded_by', sa.String(length=64), nullable=True),
    sa.Column('recorded_at', engine.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['unit_code'], ['units.code'], name=op.f('fk_liaison_changes_unit_code_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_liaison_changes'))
    )
    op.create_index(op.f('ix_liaison_changes_unit_code'), 'liaison_changes', ['unit_code'], unique=False)

    op.create_table('password_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('changed_at', engine.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_password_history_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_password_history'))
    )
    op.create_index('ix_password_history_user_id', 'password_history', ['user_id', 'id'], unique=False)

    op.create_table('settings',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=True),
    sa.Column('updated_at', engine.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_settings'))
    )


def downgrade() -> None:
    op.drop_table('settings')
    op.drop_index('ix_password_history_user_id', table_name='password_history')
    op.drop_table('password_history')
    op.drop_index(op.f('ix_liaison_changes_unit_code'), table_name='liaison_changes')
    op.drop_table('liaison_changes')
    op.drop_index('ix_unit_events_unit_at', table_name='unit_events')
    op.drop_table('unit_events')
    if op.get_bind().dialect.name == 'postgresql':
        op.alter_column('user_roles', 'role', type_=sa.String(length=16), existing_type=sa.String(length=64),
                        existing_nullable=False)
    # ALTER TABLE … DROP COLUMN (SQLite 3.35+) rather than a batch rebuild of tables others reference.
    op.drop_column('units', 'merged_into')
    for column in ('password_changed_at', 'must_change_password', 'is_liaison', 'phone', 'post'):
        op.drop_column('users', column)
