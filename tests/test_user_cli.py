"""Bootstrap and the ``user`` commands as an operator runs them on a fresh SQLite file without demo data: ``init``
in a real process, the ``user`` commands through Flask's CLI runner (same commands, without the start-up cost)."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from openpyxl import Workbook

from web import create_app

ROOT = Path(__file__).resolve().parent.parent


def process(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**{k: v for k, v in os.environ.items() if k != "DATABASE_URL"}, "DATABASE_URL": f"sqlite:///{db}"}
    return subprocess.run([sys.executable, "-m", "flask", "--app", "web", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


_apps: dict[Path, Flask] = {}


def flask(db: Path, *args: str) -> Ran:
    app = _apps.get(db)
    if app is None:
        app = _apps[db] = create_app({"DATABASE_URL": f"sqlite:///{db}", "SECRET_KEY": "cli-test"})
    with app.app_context():  # as the flask command gives every command
        result = app.test_cli_runner().invoke(args=list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Ran(result.exit_code, result.stdout, result.stderr)


def test_a_fresh_install_gets_its_three_administrators_and_people(tmp_path: Path) -> None:
    db = tmp_path / "fresh.db"
    first = process(db, "init", "--admin", "wangwei", "--secadmin", "lina", "--auditor", "zhaomin")
    assert first.returncode == 0, first.stderr
    passwords = dict(re.findall(r"已创建\S+ (\w+)，一次性密码：(\S+)（", first.stdout))
    assert set(passwords) == {"wangwei", "lina", "zhaomin"}
    again = flask(db, "init", "--admin", "wangwei")
    assert again.returncode == 0 and "系统管理员 wangwei 已存在，未改变其密码" in again.stdout

    both = flask(db, "user", "create", "zhangsan", "--role", "sysadmin", "--role", "auditor")
    assert both.returncode == 1 and "三员分立" in both.stderr
    made = flask(db, "user", "create", "caizheng.li", "--name", "李财", "--unit", "caizheng", "--liaison",
                 "--phone", "0915-3210000")
    assert made.returncode == 0 and "一次性密码" in made.stdout
    weak = flask(db, "user", "passwd", "caizheng.li", "--password", "weak")
    assert weak.returncode == 1 and "密码至少 8 位" in weak.stderr
    last = flask(db, "user", "deactivate", "caizheng.li")
    assert last.returncode == 1 and "唯一的联络员" in last.stderr
    assert flask(db, "user", "deactivate", "wangwei").stderr.strip() == "不能停用最后一名系统管理员"

    listing = flask(db, "user", "list").stdout.splitlines()
    assert "caizheng.li\t李财\t区财政局\t\t联络员" in listing
    assert "zhaomin\t审计管理员\t\t审计管理员\t" in listing


def test_import_from_excel_reports_every_bad_row_and_creates_nobody_until_fixed(tmp_path: Path) -> None:
    db = tmp_path / "import.db"
    assert flask(db, "init").returncode == 0
    template = tmp_path / "template.xlsx"
    assert flask(db, "user", "template", str(template)).returncode == 0 and template.read_bytes()[:2] == b"PK"

    def sheet(rows: list[list[str]]) -> Path:
        book = Workbook()
        book.active.append(["用户名*", "姓名*", "单位（代码或名称）", "职务", "电话", "电子邮箱", "联络员（是/否）"])
        for row in rows:
            book.active.append(row)
        out = io.BytesIO()
        book.save(out)
        path = tmp_path / "people.xlsx"
        path.write_bytes(out.getvalue())
        return path

    rows = [[f"liaison{i}", f"联络员{i}", "区民政局", "", "", "", "是"] for i in range(3)]
    rows[1][6], rows[2][5] = "不知道", "not-mail"
    bad = flask(db, "user", "import", str(sheet(rows)), "--dry-run")
    assert bad.returncode == 1
    assert "第3行“联络员”：请填写“是”或“否”" in bad.stderr and "第4行“电子邮箱”：电子邮箱格式不正确" in bad.stderr
    rows[1][6], rows[2][5] = "是", ""
    dry = flask(db, "user", "import", str(sheet(rows)), "--dry-run")
    assert dry.returncode == 0 and "可导入 3 人" in dry.stdout
    assert "liaison0" not in flask(db, "user", "list").stdout
    done = flask(db, "user", "import", str(sheet(rows)))
    assert done.returncode == 0 and done.stdout.count("\t区民政局\t") == 3
