"""``flask --app web init | deploy | demo | worker | schedule`` (worker and schedule: web/worker_cli.py)."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app

from engine.errors import DeployError
from engine.loader import SourceFile
from engine.migrate import upgrade
from meeting import directory
from meeting.mailer import send_pending
from meeting.passwords import hash_password
from meeting.runtime import deploy_default_decisions, deploy_defaults
from web.embedded import smtp_settings
from web.runtime_cli import register_runtime_cli
from web.services import database, workflow
from web.worker_cli import schedule_group, worker_command


def register_cli(app: Flask) -> None:
    app.cli.add_command(init_command)
    app.cli.add_command(deploy_command)
    app.cli.add_command(demo_command)
    app.cli.add_command(worker_command)
    app.cli.add_command(schedule_group)
    app.cli.add_command(token_group)
    app.cli.add_command(mail_command)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    register_runtime_cli(app)  # start, message, signal (web/runtime_cli.py)
    from web.user_cli import user_group

    app.cli.add_command(user_group)


@click.command("init")
@click.option("--demo", is_flag=True, help="Also create the demo users (password in the README).")
@click.option("--admin", "sysadmin", metavar="NAME", help="Create the system administrator NAME (one-time password).")
@click.option("--secadmin", metavar="NAME", help="Create the security administrator NAME (one-time password).")
@click.option("--auditor", metavar="NAME", help="Create the audit administrator NAME (one-time password).")
def init_command(demo: bool, sysadmin: str | None = None, secadmin: str | None = None,
                 auditor: str | None = None) -> None:
    """Create or upgrade the database, seed the directory and deploy processes/ (idempotent)."""
    db = database()
    upgrade(db)
    with db.transaction() as s:
        directory.seed_directory(s)
        created = directory.create_demo_users(s, hash_password) if demo else []
    results = deploy_defaults(workflow(), decisions=False)
    for r in results:
        state = "deployed" if r.created else "unchanged"
        click.echo(f"{state} {r.model.key} v{r.model.version}")
    for d in deploy_default_decisions(workflow()):
        click.echo(f"{'deployed' if d.created else 'unchanged'} decision {d.model.key} v{d.model.version}")
    from meeting.supervision_schedules import ensure_default_schedules

    with db.transaction() as s:
        for name in ensure_default_schedules(s, workflow().now()):
            click.echo(f"scheduled {name}")
    if demo:
        click.echo(f"demo users created: {len(created)}")
    from web.user_cli import bootstrap_administrators

    bootstrap_administrators({"sysadmin": sysadmin, "secadmin": secadmin, "auditor": auditor})
    click.echo("database ready")


@click.command("deploy")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
def deploy_command(files: tuple[Path, ...]) -> None:
    """Check and deploy BPMN and DMN (.dmn) files; problems are printed compiler style and nothing is deployed."""
    sources = []
    for f in files:
        try:
            sources.append(SourceFile(f.name, f.read_bytes()))
        except OSError as exc:
            click.echo(f"{f}:0: -: 无法读取文件：{exc.strerror}", err=True)
            sys.exit(1)
    tables = [src for src in sources if src.name.lower().endswith(".dmn")]
    diagrams = [src for src in sources if src not in tables]
    service = workflow()
    try:
        service.decisions.check(tables)  # every file is checked before anything is stored
        results = service.deploy(diagrams) if diagrams else []
        decisions = service.decisions.deploy(tables) if tables else []
    except DeployError as exc:
        for p in exc.problems:
            click.echo(p.compiler_line(), err=True)
        sys.exit(1)
    for r in results:
        click.echo(f"deployed {r.model.key} v{r.model.version}" + ("" if r.created else " (unchanged)"))
    for d in decisions:
        click.echo(f"deployed decision {d.model.key} v{d.model.version}" + ("" if d.created else " (unchanged)"))


@click.command("demo")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with the figures.")
def demo_command(as_json: bool) -> None:
    """Run a whole joint meeting through the service layer (on a fresh temporary database unless
    DATABASE_URL is set) and report what happened."""
    import os

    from meeting.demo import run_demo

    url = os.environ.get("DATABASE_URL")
    with tempfile.TemporaryDirectory() as tmp:
        summary = run_demo(url or f"sqlite:///{tmp}/demo.db")
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False))
    else:
        for k, v in summary.items():
            click.echo(f"{k}: {v}")


@click.group("token")
def token_group() -> None:
    """Personal API tokens."""


def _token_owner(s: Any, username: str) -> Any:
    from sqlalchemy import select

    from meeting.models import User

    user = s.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        click.echo(f"用户“{username}”不存在或已停用", err=True)
        sys.exit(1)
    return user


@token_group.command("create")
@click.argument("username")
@click.option("--name", default="cli", help="A label for the token.")
@click.option("--days", type=click.IntRange(1, 366), default=90, show_default=True, help="Days until it expires.")
def token_create(username: str, name: str, days: int) -> None:
    """Create a token for USERNAME and print it once (only its hash is stored)."""
    from datetime import timedelta

    from meeting.accounts import create_token

    with database().transaction() as s:
        token = create_token(s, _token_owner(s, username), name, workflow().now(), timedelta(days=days))
    click.echo(token)


@token_group.command("list")
@click.argument("username")
def token_list(username: str) -> None:
    """List USERNAME's tokens: id, name, created, expires, last used, state."""
    from engine.clock import SHANGHAI
    from meeting.accounts import token_expiry, tokens_of

    now = workflow().now()

    def when(at: Any) -> str:
        return at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if at else "-"

    with database().sessions() as s:
        rows = tokens_of(s, _token_owner(s, username))
        for t in rows:
            state = "revoked" if t.revoked else ("expired" if token_expiry(t) <= now else "active")
            click.echo(f"{t.id}\t{t.name}\tcreated {when(t.created_at)}\texpires {when(token_expiry(t))}"
                       f"\tlast used {when(t.last_used_at)}\t{state}")
    if not rows:
        click.echo("no tokens")


@token_group.command("revoke")
@click.argument("username")
@click.argument("token_id", type=click.IntRange(1, 2**31 - 1))
def token_revoke(username: str, token_id: int) -> None:
    """Revoke USERNAME's token TOKEN_ID (the id `token list` shows)."""
    from meeting.accounts import revoke_token

    with database().transaction() as s:
        row = revoke_token(s, _token_owner(s, username), token_id)
    if row is None:
        click.echo(f"用户“{username}”没有编号为 {token_id} 的令牌", err=True)
        sys.exit(1)
    click.echo(f"revoked {token_id} {row.name}")


def _send_mail() -> int:
    settings = smtp_settings(current_app)
    if settings is None:
        return 0
    return send_pending(database(), settings, workflow().now())


@click.command("mail")
def mail_command() -> None:
    """Send the e-mail copies of pending notifications once (needs SMTP_HOST)."""
    if smtp_settings(current_app) is None:
        click.echo("SMTP_HOST is not set; nothing sent", err=True)
        sys.exit(1)
    click.echo(f"sent {_send_mail()}")


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(file: Path) -> None:
    """Online backup of the SQLite database into FILE (safe while the app runs)."""
    from engine.backup import BackupError, backup

    try:
        size = backup(database(), file)
    except BackupError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    click.echo(f"backup written: {file} ({size} bytes)")


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Confirm replacing the current database.")
def restore_command(file: Path, yes: bool) -> None:
    """Replace the SQLite database with the backup FILE (stop web processes and workers first)."""
    from engine.backup import BackupError, restore

    if not yes:
        click.echo("恢复会覆盖当前数据库；确认请加 --yes", err=True)
        sys.exit(1)
    try:
        restore(database(), file)
    except BackupError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    click.echo(f"restored from {file}")
