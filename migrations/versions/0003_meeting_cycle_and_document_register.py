"""meeting cycle and document register

The meeting cycle as an office runs it: 征集议题 (topic_calls, topic_call_replies), replies with post, phone and
substitutes and the 签到 of the meeting day (attendance), 会议材料 (meeting_topics), 主持人 and deadlines
(meetings), the 征求意见 round on draft minutes (minutes_comments), recipients chosen per document and a 文号 given
at 审签 (minutes), the 请示's 文号 and drafter (major_issues), guest departments with a contact (units); and the
document register: kinds with their 文号 pattern (document_kinds) and every number given (document_numbers).

Status values are written out here, not imported (see 0002). SQLite rebuilds a table to change a constraint or a
column's nullability; as in 0002 the rebuild runs with foreign keys off and checks them all afterwards.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 23:52:54
"""
import sqlalchemy as sa
from alembic import op

import engine.db

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

OLD_REPLIES = ('pending', 'attend', 'leave')
NEW_REPLIES = ('pending', 'attend', 'substitute', 'leave', 'unanswered')
SIGN_INS = ('present', 'substitute', 'absent')
OLD_MINUTES = ('draft', 'returned', 'approved', 'issued')
NEW_MINUTES = ('commenting', 'draft', 'returned', 'approved', 'issued')


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
    """New columns and constraints on tables that already hold rows."""
    if 'sign_in' in _columns('attendance'):  # a rebuild committed before its revision was stamped
        return
    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attendee_post', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('attendee_phone', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('sign_in', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('signed_name', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('signed_post', sa.String(length=100), nullable=True))
        batch_op.drop_constraint(op.f('ck_attendance_reply'), type_='check')
        batch_op.create_check_constraint(op.f('ck_attendance_reply'), _condition('reply', NEW_REPLIES))
        batch_op.create_check_constraint(op.f('ck_attendance_sign_in'), _condition('sign_in', SIGN_INS))
    with op.batch_alter_table('minutes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('report_to', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
        batch_op.add_column(sa.Column('distribute_to', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
        batch_op.add_column(sa.Column('copy_to', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
        batch_op.add_column(sa.Column('comment_deadline', engine.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('comment_rounds', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('approved_at', engine.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.alter_column('number', existing_type=sa.VARCHAR(length=64), nullable=True)
        batch_op.drop_constraint(op.f('ck_minutes_status'), type_='check')
        batch_op.create_check_constraint(op.f('ck_minutes_status'), _condition('status', NEW_MINUTES))
    with op.batch_alter_table('minutes', schema=None) as batch_op:
        for column in ('report_to', 'distribute_to', 'copy_to', 'comment_rounds'):
            batch_op.alter_column(column, server_default=None)
    with op.batch_alter_table('major_issues', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_number', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('drafted_by', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('drafted_at', engine.db.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('meeting_topics', schema=None) as batch_op:
        batch_op.add_column(sa.Column('material_id', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('material_note', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('material_by', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('material_at', engine.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_meeting_topics_material_id_wf_attachment'), 'wf_attachment',
                                    ['material_id'], ['id'])
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('materials_due', engine.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('presider_name', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('presider_post', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('attendance_closed_at', engine.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('signed_in_at', engine.db.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_name', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('contact_phone', sa.String(length=40), nullable=True))


def upgrade() -> None:
    _without_sqlite_foreign_keys(_rebuild_existing)
    op.create_table('document_kinds',
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('label', sa.String(length=32), nullable=False),
    sa.Column('pattern', sa.String(length=100), nullable=False),
    sa.Column('updated_at', engine.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('kind', name=op.f('pk_document_kinds'))
    )
    op.create_table('topic_calls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('deadline', engine.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=True),
    sa.Column('created_at', engine.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('screen_comment', sa.Text(), nullable=True),
    sa.Column('instance_id', sa.String(length=64), nullable=True),
    sa.CheckConstraint("status IN ('open', 'closed', 'screened')", name=op.f('ck_topic_calls_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_topic_calls'))
    )
    with op.batch_alter_table('topic_calls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_topic_calls_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_topic_calls_status'), ['status'], unique=False)

    op.create_table('document_numbers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=64), nullable=False),
    sa.Column('subject', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('taken_by', sa.String(length=64), nullable=True),
    sa.Column('taken_at', engine.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('void_reason', sa.Text(), nullable=True),
    sa.Column('voided_by', sa.String(length=64), nullable=True),
    sa.Column('voided_at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('used', 'void')", name=op.f('ck_document_numbers_status')),
    sa.ForeignKeyConstraint(['kind'], ['document_kinds.kind'], name=op.f('fk_document_numbers_kind_document_kinds')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_numbers')),
    sa.UniqueConstraint('kind', 'year', 'seq', name='uq_document_numbers_kind_year_seq'),
    sa.UniqueConstraint('number', name=op.f('uq_document_numbers_number'))
    )
    with op.batch_alter_table('document_numbers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_numbers_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_document_numbers_subject'), ['subject'], unique=False)

    op.create_table('minutes_comments',
    sa.Column('minutes_id', sa.Integer(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('unit_code', sa.String(length=32), nullable=False),
    sa.Column('answer', sa.String(length=16), nullable=False),
    sa.Column('opinion', sa.Text(), nullable=True),
    sa.Column('answered_by', sa.String(length=64), nullable=True),
    sa.Column('answered_at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("answer IN ('pending', 'opinion', 'none', 'silent')", name=op.f('ck_minutes_comments_answer')),
    sa.ForeignKeyConstraint(['minutes_id'], ['minutes.id'], name=op.f('fk_minutes_comments_minutes_id_minutes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_code'], ['units.code'], name=op.f('fk_minutes_comments_unit_code_units')),
    sa.PrimaryKeyConstraint('minutes_id', 'round', 'unit_code', name=op.f('pk_minutes_comments'))
    )
    with op.batch_alter_table('minutes_comments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_minutes_comments_unit_code'), ['unit_code'], unique=False)

    op.create_table('topic_call_replies',
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('unit_code', sa.String(length=32), nullable=False),
    sa.Column('answer', sa.String(length=16), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=True),
    sa.Column('answered_by', sa.String(length=64), nullable=True),
    sa.Column('answered_at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("answer IN ('pending', 'topic', 'none', 'silent')", name=op.f('ck_topic_call_replies_answer')),
    sa.ForeignKeyConstraint(['call_id'], ['topic_calls.id'], name=op.f('fk_topic_call_replies_call_id_topic_calls'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['topic_id'], ['topics.id'], name=op.f('fk_topic_call_replies_topic_id_topics')),
    sa.ForeignKeyConstraint(['unit_code'], ['units.code'], name=op.f('fk_topic_call_replies_unit_code_units')),
    sa.PrimaryKeyConstraint('call_id', 'unit_code', name=op.f('pk_topic_call_replies'))
    )
    with op.batch_alter_table('topic_call_replies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_topic_call_replies_unit_code'), ['unit_code'], unique=False)


def _restore_existing() -> None:
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.drop_column('contact_phone')
        batch_op.drop_column('contact_name')
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        for column in ('signed_in_at', 'attendance_closed_at', 'presider_post', 'presider_name', 'materials_due'):
            batch_op.drop_column(column)
    with op.batch_alter_table('meeting_topics', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_meeting_topics_material_id_wf_attachment'), type_='foreignkey')
        for column in ('material_at', 'material_by', 'material_note', 'material_id'):
            batch_op.drop_column(column)
    with op.batch_alter_table('major_issues', schema=None) as batch_op:
        for column in ('drafted_at', 'drafted_by', 'request_number'):
            batch_op.drop_column(column)
    op.execute("UPDATE minutes SET status = 'draft' WHERE status = 'commenting'")
    op.execute("UPDATE attendance SET reply = 'pending' WHERE reply = 'unanswered'")
    op.execute("UPDATE attendance SET reply = 'attend' WHERE reply = 'substitute'")
    with op.batch_alter_table('minutes', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_minutes_status'), type_='check')
        batch_op.create_check_constraint(op.f('ck_minutes_status'), _condition('status', OLD_MINUTES))
        batch_op.alter_column('number', existing_type=sa.VARCHAR(length=64), nullable=False)
        for column in ('approved_at', 'comment_rounds', 'comment_deadline', 'copy_to', 'distribute_to', 'report_to'):
            batch_op.drop_column(column)
    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_attendance_sign_in'), type_='check')
        batch_op.drop_constraint(op.f('ck_attendance_reply'), type_='check')
        batch_op.create_check_constraint(op.f('ck_attendance_reply'), _condition('reply', OLD_REPLIES))
        for column in ('signed_post', 'signed_name', 'sign_in', 'attendee_phone', 'attendee_post'):
            batch_op.drop_column(column)


def downgrade() -> None:
    _without_sqlite_foreign_keys(_restore_existing)

    with op.batch_alter_table('topic_call_replies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_topic_call_replies_unit_code'))

    op.drop_table('topic_call_replies')
    with op.batch_alter_table('minutes_comments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_minutes_comments_unit_code'))

    op.drop_table('minutes_comments')
    with op.batch_alter_table('document_numbers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_numbers_subject'))
        batch_op.drop_index(batch_op.f('ix_document_numbers_kind'))

    op.drop_table('document_numbers')
    with op.batch_alter_table('topic_calls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_topic_calls_status'))
        batch_op.drop_index(batch_op.f('ix_topic_calls_instance_id'))

    op.drop_table('topic_calls')
    op.drop_table('document_kinds')
