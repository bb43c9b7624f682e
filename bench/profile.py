"""Where the time of a benchmark goes: ``python -m bench.profile [three_task|lifecycle] [--n N] [--pg]``.

Prints the SQL statements per command and a pyinstrument profile of ``three_task`` (start → three completions
→ end through the service layer), or of one whole joint meeting.
"""

from __future__ import annotations

import argparse
import tempfile
from collections import Counter
from typing import Any

from sqlalchemy import event


def count_statements(db: Any) -> Counter[str]:
    counts: Counter[str] = Counter()

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        counts[" ".join(statement.split())[:90]] += 1

    for engine in {db.engine, db.read_engine}:
        event.listen(engine, "before_cursor_execute", before)
    return counts


def main(argv: list[str] | None = None) -> int:
    from pyinstrument import Profiler

    from bench.run import pg_schema, prepare, run_lifecycle, run_three_task
    from bench.world import PASSWORD, pg_unreachable, postgres_url
    from meeting.passwords import hash_password
    from meeting.runtime import build_service

    parser = argparse.ArgumentParser(prog="python -m bench.profile")
    parser.add_argument("what", nargs="?", default="three_task", choices=("three_task", "lifecycle"))
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--pg", action="store_true", help="three_task on PostgreSQL instead of SQLite")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="jm-profile-") as tmp:
        if args.what == "lifecycle":
            profiler = Profiler(interval=0.0005)
            with profiler:
                run_lifecycle(f"sqlite:///{tmp}/lifecycle.db", 1)
            print(profiler.output_text(unicode=True, color=False, show_all=False))
            return 0
        if args.pg:
            if reason := pg_unreachable(postgres_url()):
                raise SystemExit(reason)
            ctx: Any = pg_schema(postgres_url())
            url = ctx.__enter__()
        else:
            ctx, url = None, f"sqlite:///{tmp}/profile.db"
        try:
            db = prepare(url, hash_password(PASSWORD))
            service = build_service(db)
            run_three_task(db, 20, 0, service)
            counts = count_statements(db)
            run_three_task(db, 10, 0, service)
            total = sum(counts.values())
            print(f"SQL statements per instance (start + 3 completions): {total / 10:.1f}")
            for stmt, n in counts.most_common(40):
                print(f"  {n / 10:5.1f}  {stmt}")
            profiler = Profiler(interval=0.0002)
            with profiler:
                run_three_task(db, args.n, 0, service)
            print(profiler.output_text(unicode=True, color=False, show_all=False))
            db.dispose()
        finally:
            if ctx is not None:
                ctx.__exit__(None, None, None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
