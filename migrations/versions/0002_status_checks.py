"""status check constraints

Every status column admits only the values of its enum in meeting/statuses.py; the models declare the same
constraints (meeting.models.status_check). The values are written out here, not imported, so that this revision
keeps meaning what it meant when a later one changes an enum.

SQLite cannot add a constraint to a table, so batch mode rebuilds each table (copy, drop, rename). Dropping a table
that other tables reference counts as deleting its rows for their foreign keys, which fails on a database with
data while foreign keys are enforced (the engine turns them on for every connection); the rebuild therefore runs
with enforcement off and checks every foreign key afterwards. PostgreSQL adds the constraints in place.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 09:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

# (table, column, allowed values)
CHECKS = (
    ('meetings', 'status', ('planned', 'approved', 'convened', 'held', 'minutes_issued', 'reported', 'closed')),
    ('topics', 'status', ('submitted', 'returned', 'accepted', 'rejected', 'scheduled', 'resolved', 'deferred',
                          'escalated')),
    ('attendance', 'reply', ('pending', 'attend', 'leave')),
    ('major_issues', 'status', ('raised', 'drafted', 'signed', 'decided')),
    ('resolution_items', 'status', ('draft', 'in_progress', 'reported', 'returned', 'closed')),
    ('extension_requests', 'status', ('pending', 'approved', 'refused')),
    ('minutes', 'status', ('draft', 'returned', 'approved', 'issued')),
    ('implementation_reports', 'status', ('draft', 'returned', 'approved', 'submitted', 'received')),
    ('membership_changes', 'status', ('submitted', 'returned', 'forwarded', 'reported', 'approved', 'rejected',
                                      'applied')),
)


def _condition(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _has_check(table: str, name: str) -> bool:
    return name in {c['name'] for c in sa.inspect(op.get_bind()).get_check_constraints(table)}


def _without_sqlite_foreign_keys(change) -> None:
    """Run ``change`` with SQLite's foreign keys off, verify them all, and turn enforcement back on.

    The pragma only takes effect outside a transaction, so the work done so far (earlier revisions) is
    committed first and the rebuild commits on its own; a new transaction is then open again for Alembic to
    stamp this revision in, as it expects."""
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


def upgrade() -> None:
    def change() -> None:
        for table, column, values in CHECKS:
            name = f'ck_{table}_{column}'
            if _has_check(table, name):  # a rebuild committed before its revision was stamped
                continue
            with op.batch_alter_table(table, schema=None) as batch_op:
                batch_op.create_check_constraint(op.f(name), _condition(column, values))

    if op.get_bind().dialect.name == 'sqlite':
        _without_sqlite_foreign_keys(change)
    else:
        change()


def downgrade() -> None:
    def change() -> None:
        for table, column, _values in reversed(CHECKS):
            name = f'ck_{table}_{column}'
            if not _has_check(table, name):
                continue
            with op.batch_alter_table(table, schema=None) as batch_op:
                batch_op.drop_constraint(op.f(name), type_='check')

    if op.get_bind().dialect.name == 'sqlite':
        _without_sqlite_foreign_keys(change)
    else:
        change()
