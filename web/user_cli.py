"""``flask --app web user create | passwd | deactivate | reactivate | list | import | template``, and the
administrators ``flask init --admin NAME`` bootstraps.

The command line is the operator on the server: it may grant roles when creating a person and maintain the
accounts of the security and audit administrators, which the browser leaves alone (三员分立). Every change is
audited under ``命令行:<operating-system user>``. One-time passwords are printed once and never stored in clear.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import EngineError, FormError
from meeting import admin_audit, people, people_import, roles, signin
from meeting.models import Unit, User
from web.services import database, workflow


def operator() -> people.Operator:
    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # no user name for this uid (containers)
        name = "unknown"
    return people.Operator.command_line(name)


@contextmanager
def refusals() -> Iterator[None]:
    """A refused change prints its reasons (one line per field) and exits 1, changing nothing."""
    try:
        yield
    except FormError as exc:
        for message in exc.errors.values():
            click.echo(message, err=True)
        sys.exit(1)
    except EngineError as exc:
        click.echo(exc.message, err=True)
        sys.exit(1)


def _user(s: Session, username: str) -> User:
    return people.find(s, username.strip().lower())


def bootstrap_administrators(wanted: dict[str, str | None]) -> None:
    """``init --admin/--secadmin/--auditor``: create the named administrators that do not exist yet."""
    by, now = operator(), workflow().now()
    with refusals(), database().transaction() as s:
        for role, username in wanted.items():
            if not username:
                continue
            user, password = people.bootstrap(s, username, role, by=by, at=now)
            label = roles.ROLE_LABELS[role]
            if password:
                click.echo(f"已创建{label} {user.username}，一次性密码：{password}（首次登录时须修改）")
            else:
                click.echo(f"{label} {user.username} 已存在，未改变其密码")


@click.group("user")
def user_group() -> None:
    """People: create, reset passwords, deactivate, list and import from Excel."""


@user_group.command("create")
@click.argument("username")
@click.option("--name", "display_name", help="姓名 (default: the user name)")
@click.option("--unit", "unit_code", help="unit code, e.g. caizheng")
@click.option("--role", "grant", multiple=True, help="role or group key, repeatable (sysadmin, office, …)")
@click.option("--liaison", is_flag=True, help="the unit's liaison (联络员)")
@click.option("--post", default="", help="职务")
@click.option("--phone", default="")
@click.option("--email", default="")
@click.option("--password", help="set this password (kept to the sign-in policy) instead of a one-time one")
def create_command(username: str, display_name: str | None, unit_code: str | None, grant: tuple[str, ...],
                   liaison: bool, post: str, phone: str, email: str, password: str | None) -> None:
    """Create a person; without --password a one-time password is printed (changed at first sign-in)."""
    profile = {"display_name": display_name or username, "unit_code": unit_code, "is_liaison": liaison,
               "post": post, "phone": phone, "email": email}
    with refusals(), database().transaction() as s:
        user, one_time = people.create(s, username, profile, by=operator(), at=workflow().now(), grant=grant,
                                       password=password)
    click.echo(f"已创建 {user.username}" + (f"，一次性密码：{one_time}（首次登录时须修改）" if one_time else ""))


@user_group.command("passwd")
@click.argument("username")
@click.option("--password", help="set this password instead of printing a one-time one")
def passwd_command(username: str, password: str | None) -> None:
    """Reset a password: a one-time password is printed, unless --password gives one."""
    by, now = operator(), workflow().now()
    with refusals(), database().transaction() as s:
        user = _user(s, username)
        if password is None:
            one_time = people.reset_password(s, user, by=by, at=now)
            click.echo(f"{user.username} 的一次性密码：{one_time}（下次登录时须修改）")
            return
        signin.set_chosen(s, user, password, at=now)
        admin_audit.record(s, "admin.user.password_reset", actor=by.username, at=now, target=f"user:{user.username}",
                           summary=f"在命令行为 {user.username} 设置密码")
    click.echo(f"已为 {username} 设置密码")


@user_group.command("deactivate")
@click.argument("username")
@click.option("--successor", help="a colleague of the same unit who takes over the tasks (and the liaison role)")
@click.option("--to-office", is_flag=True, help="the unit has no other liaison: offer its tasks to the office")
@click.option("--reason", default="")
def deactivate_command(username: str, successor: str | None, to_office: bool, reason: str) -> None:
    """Deactivate an account; tasks it held go to the successor or back to its unit."""
    with refusals(), database().transaction() as s:
        moved = people.deactivate(s, _user(s, username), by=operator(), at=workflow().now(),
                                  successor=successor, to_office=to_office, reason=reason)
    click.echo(f"已停用 {username}（移交或退回待办 {moved} 件）")


@user_group.command("reactivate")
@click.argument("username")
def reactivate_command(username: str) -> None:
    with refusals(), database().transaction() as s:
        people.reactivate(s, _user(s, username), by=operator(), at=workflow().now())
    click.echo(f"已启用 {username}")


@user_group.command("list")
@click.option("--unit", "unit_code", default="")
@click.option("--role", default="")
@click.option("--all", "include_inactive", is_flag=True, help="deactivated accounts too")
def list_command(unit_code: str, role: str, include_inactive: bool) -> None:
    """One line per person: user name, name, unit, roles, liaison, state."""
    query = people.PeopleQuery(unit=unit_code, role=role, status="all" if include_inactive else "active")
    with database().sessions() as s:
        units = {code: name for code, name in s.execute(select(Unit.code, Unit.name))}
        page = 1
        while True:
            rows, total = people.search(s, query, page)
            for u in rows:
                held = "、".join(roles.group_label(r, units) for r in u.role_names)
                flags = ("联络员 " if u.is_liaison else "") + ("" if u.active else "已停用")
                click.echo("\t".join([u.username, u.display_name, units.get(u.unit_code or "", ""), held,
                                      flags.strip()]))
            if page * people.PAGE_SIZE >= total:
                break
            page += 1


@user_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="check every row and report, create nobody")
def import_command(file: Path, dry_run: bool) -> None:
    """Import people from an .xlsx made from the template: every row is checked first; any problem and
    nobody is created. The one-time passwords of the new people are printed once."""
    with refusals(), database().transaction() as s:
        rows = people_import.read_workbook(file.read_bytes())
        plan = people_import.plan(s, rows)
        for problem in plan.problems:
            click.echo(str(problem), err=True)
        if plan.problems:
            click.echo(f"发现 {len(plan.problems)} 处问题，未导入任何人员", err=True)
            sys.exit(1)
        if dry_run:
            click.echo(f"检查通过：可导入 {len(plan.ready)} 人（试运行，未导入）")
            return
        created = people_import.apply(s, rows, by=operator(), at=workflow().now())
    for c in created:
        click.echo("\t".join([c.username, c.display_name, c.unit_name, c.one_time_password]))
    click.echo(f"已导入 {len(created)} 人；以上一次性密码只显示这一次，首次登录时须修改")


@user_group.command("template")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def template_command(file: Path) -> None:
    """Write the import template (.xlsx) with the unit codes of the directory."""
    with database().sessions() as s:
        file.write_bytes(people_import.template(s))
    click.echo(f"已写出导入模板：{file}")
