"""督办: co-units, the escalation ladder, progress reports, documents and working days

Resolution items get their 来源 (source, source_ref: 会议纪要 by default; 交办 / 协调 / 信访 later), the 重点事项 mark
with its 佐证材料, the highest rung of the escalation ladder and a 催办 count; each co-unit its own deadline,
status (待反馈 / 已反馈 / 未反馈) and counts; progress reports their round and cut-off date. New tables: the
supervision history (supervision_events), 督办函 (supervision_letters), rounds of 月报 (progress_rounds),
阶段性落实情况报告 (interim_reports), 督办通报 (bulletins), the administrator's working-day corrections
(workday_overrides, workday_years) and the office's 督办 rules (supervision_settings).

Status values are written out here, not imported (see 0002). SQLite rebuilds a table to add a constraint; as in
0002 the rebuild runs with foreign keys off and checks them all afterwards.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 01:00:00
"""
import sqlalchemy as sa
from alembic import op

import engine.db

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

SOURCES = ('minutes', 'assigned', 'coordination', 'petition')
RUNGS = ('none', 'notice', 'letter', 'report')
CO_STATUSES = ('pending', 'answered', 'silent')


def _condition(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _without_sqlite_foreign_keys(change) -> None:
    """Run ``change`` with SQLite's foreign keys off, verify them all, and turn enforcement back on (as 0002)."""
    if op.get_bind().dialect.name != 'sqlite':
        change()
        return
    raw = op.get_bind().connection.driver_connection
    if not raw.execute('PRAGMA foreign_keys').fetchone()[0]:
        change()
        return
    if raw.in_transaction:
        raw.execute('COMMIT')
    raw.execute('PRAGMA foreign_keys=OFF')
    try:
        raw.execute('BEGIN IMMEDIATE')
        change()
        broken = raw.execute('PRAGMA foreign_key_check').fetchall()
        if broken:
            raise RuntimeError(f'foreign keys broken by the table rebuild: {broken[:5]}')
        raw.execute('COMMIT')
    except BaseException:
        if raw.in_transaction:
            raw.execute('ROLLBACK')
        raise
    finally:
        raw.execute('PRAGMA foreign_keys=ON')
        raw.execute('BEGIN IMMEDIATE')


def _columns(table: str) -> set[str]:
    return {c['name'] for c in sa.inspect(op.get_bind()).get_columns(table)}


def _rebuild_existing() -> None:
    """New columns (with defaults for the rows already there) and constraints on existing tables."""
    if 'escalation' in _columns('resolution_items'):  # a rebuild committed before its revision was stamped
        return
    with op.batch_alter_table('resolution_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=16), nullable=False, server_default='minutes'))
        batch_op.add_column(sa.Column('source_ref', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('key_item', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('evidence_id', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('escalation', sa.String(length=16), nullable=False, server_default='none'))
        batch_op.add_column(sa.Column('remind_count', sa.Integer(), nullable=False, server_default='0'))
        batch_op.create_index(batch_op.f('ix_resolution_items_source'), ['source'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_resolution_items_evidence_id_wf_attachment'), 'wf_attachment',
                                    ['evidence_id'], ['id'])
        batch_op.create_check_constraint(op.f('ck_resolution_items_source'), _condition('source', SOURCES))
        batch_op.create_check_constraint(op.f('ck_resolution_items_escalation'), _condition('escalation', RUNGS))
    with op.batch_alter_table('resolution_items', schema=None) as batch_op:
        for column in ('source', 'key_item', 'escalation', 'remind_count'):
            batch_op.alter_column(column, server_default=None)
    with op.batch_alter_table('resolution_co_units', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deadline', engine.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('status', sa.String(length=16), nullable=False, server_default='pending'))
        batch_op.add_column(sa.Column('answered_at', engine.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reminded_at', engine.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('remind_count', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('supervise_count', sa.Integer(), nullable=False, server_default='0'))
        batch_op.create_check_constraint(op.f('ck_resolution_co_units_status'), _condition('status', CO_STATUSES))
    with op.batch_alter_table('resolution_co_units', schema=None) as batch_op:
        for column in ('status', 'remind_count', 'supervise_count'):
            batch_op.alter_column(column, server_default=None)


def upgrade() -> None:
    _without_sqlite_foreign_keys(_rebuild_existing)
    op.create_table('progress_rounds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cutoff', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('due_at', engine.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expected', sa.Integer(), nullable=False),
    sa.Column('reported', sa.Integer(), nullable=False),
    sa.Column('opened_by', sa.String(length=64), nullable=True),
    sa.Column('opened_at', engine.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('instance_id', sa.String(length=64), nullable=True),
    sa.CheckConstraint("status IN ('open', 'closed')", name=op.f('ck_progress_rounds_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_progress_rounds'))
    )
    with op.batch_alter_table('progress_rounds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_progress_rounds_cutoff'), ['cutoff'], unique=False)
        batch_op.create_index(batch_op.f('ix_progress_rounds_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_progress_rounds_status'), ['status'], unique=False)

    op.create_table('supervision_settings',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('rules', sa.JSON(), nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=True),
    sa.Column('updated_at', engine.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision_settings'))
    )
    op.create_table('workday_overrides',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('workday', sa.Boolean(), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=True),
    sa.Column('updated_at', engine.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_workday_overrides'))
    )
    op.create_table('workday_years',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('confirmed_by', sa.String(length=64), nullable=True),
    sa.Column('confirmed_at', engine.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_workday_years'))
    )
    op.create_table('bulletins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('period_from', sa.Date(), nullable=False),
    sa.Column('praise', sa.Text(), nullable=False),
    sa.Column('criticism', sa.Text(), nullable=False),
    sa.Column('requirements', sa.Text(), nullable=False),
    sa.Column('figures', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('review_comment', sa.Text(), nullable=True),
    sa.Column('drafted_by', sa.String(length=64), nullable=True),
    sa.Column('approved_by', sa.String(length=64), nullable=True),
    sa.Column('approved_at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('number', sa.String(length=64), nullable=True),
    sa.Column('issued_at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('document_id', sa.String(length=32), nullable=True),
    sa.Column('instance_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', engine.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('draft', 'returned', 'issued', 'received')", name=op.f('ck_bulletins_status')),
    sa.ForeignKeyConstraint(['document_id'], ['wf_attachment.id'], name=op.f('fk_bulletins_document_id_wf_attachment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bulletins')),
    sa.UniqueConstraint('number', name=op.f('uq_bulletins_number'))
    )
    with op.batch_alter_table('bulletins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bulletins_as_of'), ['as_of'], unique=False)
        batch_op.create_index(batch_op.f('ix_bulletins_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bulletins_status'), ['status'], unique=False)

    op.create_table('interim_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('period_from', sa.Date(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('figures', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('review_comment', sa.Text(), nullable=True),
    sa.Column('drafted_by', sa.String(length=64), nullable=True),
    sa.Column('approved_by', sa.String(length=64), nullable=True),
    sa.Column('approved_at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('number', sa.String(length=64), nullable=True),
    sa.Column('issued_at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('document_id', sa.String(length=32), nullable=True),
    sa.Column('received_by', sa.String(length=64), nullable=True),
    sa.Column('received_at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('receipt_comment', sa.Text(), nullable=True),
    sa.Column('instance_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', engine.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('draft', 'returned', 'issued', 'received')", name=op.f('ck_interim_reports_status')),
    sa.ForeignKeyConstraint(['document_id'], ['wf_attachment.id'], name=op.f('fk_interim_reports_document_id_wf_attachment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interim_reports')),
    sa.UniqueConstraint('number', name=op.f('uq_interim_reports_number'))
    )
    with op.batch_alter_table('interim_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_interim_reports_as_of'), ['as_of'], unique=False)
        batch_op.create_index(batch_op.f('ix_interim_reports_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_interim_reports_status'), ['status'], unique=False)

    op.create_table('supervision_letters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resolution_id', sa.Integer(), nullable=False),
    sa.Column('unit_code', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('overdue_days', sa.Integer(), nullable=False),
    sa.Column('supervise_round', sa.Integer(), nullable=False),
    sa.Column('drafted_at', engine.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sign_due', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('signed_by', sa.String(length=64), nullable=True),
    sa.Column('signed_at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('number', sa.String(length=64), nullable=True),
    sa.Column('issued_at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('document_id', sa.String(length=32), nullable=True),
    sa.CheckConstraint("status IN ('draft', 'issued', 'held', 'lapsed')", name=op.f('ck_supervision_letters_status')),
    sa.ForeignKeyConstraint(['document_id'], ['wf_attachment.id'], name=op.f('fk_supervision_letters_document_id_wf_attachment')),
    sa.ForeignKeyConstraint(['resolution_id'], ['resolution_items.id'], name=op.f('fk_supervision_letters_resolution_id_resolution_items')),
    sa.ForeignKeyConstraint(['unit_code'], ['units.code'], name=op.f('fk_supervision_letters_unit_code_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision_letters')),
    sa.UniqueConstraint('number', name=op.f('uq_supervision_letters_number'))
    )
    with op.batch_alter_table('supervision_letters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supervision_letters_resolution_id'), ['resolution_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_supervision_letters_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_supervision_letters_unit_code'), ['unit_code'], unique=False)

    op.create_table('supervision_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resolution_id', sa.Integer(), nullable=False),
    sa.Column('unit_code', sa.String(length=32), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('rung', sa.String(length=16), nullable=False),
    sa.Column('manual', sa.Boolean(), nullable=False),
    sa.Column('opinion', sa.Text(), nullable=True),
    sa.Column('overdue_days', sa.Integer(), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=True),
    sa.Column('created_at', engine.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('letter_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("kind IN ('remind', 'supervise', 'silent', 'letter', 'report')", name=op.f('ck_supervision_events_kind')),
    sa.CheckConstraint("rung IN ('none', 'notice', 'letter', 'report')", name=op.f('ck_supervision_events_rung')),
    sa.ForeignKeyConstraint(['letter_id'], ['supervision_letters.id'], name=op.f('fk_supervision_events_letter_id_supervision_letters')),
    sa.ForeignKeyConstraint(['resolution_id'], ['resolution_items.id'], name=op.f('fk_supervision_events_resolution_id_resolution_items')),
    sa.ForeignKeyConstraint(['unit_code'], ['units.code'], name=op.f('fk_supervision_events_unit_code_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision_events'))
    )
    with op.batch_alter_table('supervision_events', schema=None) as batch_op:
        batch_op.create_index('ix_supervision_events_item_created', ['resolution_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_supervision_events_unit_code'), ['unit_code'], unique=False)
    with op.batch_alter_table('progress_reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('round_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('as_of', sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f('ix_progress_reports_round_id'), ['round_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_progress_reports_round_id_progress_rounds'), 'progress_rounds',
                                    ['round_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('progress_reports', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_progress_reports_round_id_progress_rounds'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_progress_reports_round_id'))
        batch_op.drop_column('as_of')
        batch_op.drop_column('round_id')
    for table in ('supervision_events', 'supervision_letters', 'interim_reports', 'bulletins', 'workday_years',
                  'workday_overrides', 'supervision_settings', 'progress_rounds'):
        op.drop_table(table)

    def change() -> None:
        with op.batch_alter_table('resolution_co_units', schema=None) as batch_op:
            batch_op.drop_constraint(op.f('ck_resolution_co_units_status'), type_='check')
            for column in ('supervise_count', 'remind_count', 'reminded_at', 'answered_at', 'status', 'deadline'):
                batch_op.drop_column(column)
        with op.batch_alter_table('resolution_items', schema=None) as batch_op:
            batch_op.drop_constraint(op.f('ck_resolution_items_escalation'), type_='check')
            batch_op.drop_constraint(op.f('ck_resolution_items_source'), type_='check')
            batch_op.drop_constraint(batch_op.f('fk_resolution_items_evidence_id_wf_attachment'), type_='foreignkey')
            batch_op.drop_index(batch_op.f('ix_resolution_items_source'))
            for column in ('remind_count', 'escalation', 'evidence_id', 'key_item', 'source_ref', 'source'):
                batch_op.drop_column(column)

    _without_sqlite_foreign_keys(change)
