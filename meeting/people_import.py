"""Importing people from an Excel workbook (.xlsx): a template, a dry run that reports every row's problem with
its row number, and an import that creates everyone or nobody.

The first sheet holds one person per row under the header row of the template; columns are found by their
header, so their order does not matter and extra columns are ignored. Each new person gets a one-time password
(shown once to the administrator who imports, changed at the first sign-in).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.errors import FormError
from meeting import admin_audit, people
from meeting.models import Unit, User
from meeting.statuses import UnitKind

MAX_BYTES = 2 * 1024 * 1024
MAX_UNPACKED = 40 * 1024 * 1024
MAX_ROWS = 500  # each new person costs one argon2 hash; larger lists are imported in parts
# header -> field; "*" marks what every row must have.
COLUMNS = {"用户名": "username", "姓名": "display_name", "单位": "unit", "职务": "post", "电话": "phone",
           "电子邮箱": "email", "联络员": "is_liaison"}
REQUIRED = ("username", "display_name")
LABELS = {v: k for k, v in COLUMNS.items()} | {"unit_code": "单位"}
YES, NO = ("是", "y", "yes", "1", "true"), ("否", "n", "no", "0", "false", "")


@dataclass
class ImportRow:
    row: int  # the Excel row number people see
    values: dict[str, str]


@dataclass
class Problem:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"第{self.row}行" if self.row else "文件"
        return f"{where}{('“' + self.column + '”') if self.column else ''}：{self.message}"


@dataclass
class ImportPlan:
    rows: list[ImportRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    ready: list[tuple[ImportRow, dict[str, Any]]] = field(default_factory=list)  # row, clean profile

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.ready)


def _header(text: Any) -> str:
    """``用户名*`` or ``单位（代码或名称）`` → ``用户名`` / ``单位``."""
    name = str(text or "").strip().replace("*", "")
    for bracket in ("（", "("):
        name = name.split(bracket)[0]
    return name.strip()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a phone number typed as a number
    return str(value).strip()


def read_workbook(data: bytes) -> list[ImportRow]:
    """The rows of the first sheet (empty rows skipped); FormError when the file is not a usable workbook."""
    if len(data) > MAX_BYTES:
        raise FormError({"file": f"文件超过 {MAX_BYTES // 1024 // 1024} MB，请分批导入"})
    _check_unpacked_size(data)
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - any parse failure means "not a workbook we can read"
        raise FormError({"file": "无法读取该文件：请上传按模板填写的 Excel 工作簿（.xlsx）"}) from None
    try:
        lines = book.worksheets[0].iter_rows(values_only=True)
        header = [_header(h) for h in next(lines, ())]
        missing = [h for h, f in COLUMNS.items() if f in REQUIRED and h not in header]
        if missing:
            raise FormError({"file": f"第1行缺少表头：{'、'.join(missing)}（请使用导入模板）"})
        index = {COLUMNS[h]: i for i, h in enumerate(header) if h in COLUMNS}
        rows = []
        for number, line in enumerate(lines, start=2):
            values = {f: _cell(line[i]) if i < len(line) else "" for f, i in index.items()}
            if any(values.values()):
                rows.append(ImportRow(number, values))
            if len(rows) > MAX_ROWS:
                raise FormError({"file": f"一次最多导入 {MAX_ROWS} 人，请分批导入"})
        return rows
    finally:
        book.close()


def _check_unpacked_size(data: bytes) -> None:
    """An .xlsx is a zip: refuse one that would unpack to far more than a list of people needs (a zip bomb),
    before openpyxl reads its shared strings into memory."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError):
        raise FormError({"file": "无法读取该文件：请上传按模板填写的 Excel 工作簿（.xlsx）"}) from None
    if unpacked > MAX_UNPACKED:
        raise FormError({"file": "文件解压后过大，不像是人员名单，请检查后分批导入"})


def _units(session: Session) -> dict[str, str]:
    """Code and name of every active unit -> its code."""
    found: dict[str, str] = {}
    for code, name in session.execute(select(Unit.code, Unit.name).where(Unit.active)):
        found[code] = code
        found[name] = code
    return found


def plan(session: Session, rows: list[ImportRow]) -> ImportPlan:
    """Check every row against the directory, the other rows and the people already there."""
    result = ImportPlan(rows=rows)
    units = _units(session)
    names = [r.values.get("username", "").lower() for r in rows]
    taken = set(session.scalars(select(func.lower(User.username)).where(func.lower(User.username).in_(names))))
    seen: dict[str, int] = {}
    for row in rows:
        problems = _row_problems(row, units, taken, seen)
        if problems:
            result.problems += problems
            continue
        try:
            profile = people.clean_profile(session, {**row.values, "unit_code": units.get(row.values.get("unit", ""))})
        except FormError as exc:
            result.problems += [Problem(row.row, LABELS.get(k, k), m) for k, m in exc.errors.items()]
            continue
        result.ready.append((row, profile))
    if not rows:
        result.problems.append(Problem(0, "", "文件中没有人员数据"))
    return result


def _row_problems(row: ImportRow, units: dict[str, str], taken: set[str], seen: dict[str, int]) -> list[Problem]:
    v, found = row.values, []
    for key in REQUIRED:
        if not v.get(key):
            found.append(Problem(row.row, LABELS[key], "必填"))
    username = v.get("username", "").lower()
    if username:
        if not people.USERNAME.match(username):
            found.append(Problem(row.row, "用户名", "为2–64位小写字母、数字或 . _ -，以字母或数字开头"))
        elif username in taken:
            found.append(Problem(row.row, "用户名", f"“{username}”已被使用"))
        elif username in seen:
            found.append(Problem(row.row, "用户名", f"与第{seen[username]}行重复"))
        seen.setdefault(username, row.row)
    unit = v.get("unit", "")
    if unit and unit not in units:
        found.append(Problem(row.row, "单位", f"名录中没有在用的“{unit}”"))
    liaison = v.get("is_liaison", "").strip().lower()
    if liaison not in YES + NO:
        found.append(Problem(row.row, "联络员", "请填写“是”或“否”"))
    elif liaison in YES and not unit:
        found.append(Problem(row.row, "联络员", "联络员须填写所在单位"))
    v["is_liaison"] = "1" if liaison in YES else ""
    return found


@dataclass(frozen=True)
class Created:
    username: str
    display_name: str
    unit_name: str
    one_time_password: str


def apply(session: Session, rows: list[ImportRow], *, by: people.Operator, at: datetime) -> list[Created]:
    """Create everyone of a plan without problems (checked again here), or nobody."""
    checked = plan(session, rows)
    if not checked.ok:
        raise FormError({"file": "；".join(str(p) for p in checked.problems[:20])})
    created = []
    for row, profile in checked.ready:
        user, password = people.create(session, row.values["username"], profile, by=by, at=at)
        unit = session.get(Unit, user.unit_code) if user.unit_code else None
        created.append(Created(user.username, user.display_name, unit.name if unit else "", password or ""))
    admin_audit.record(session, "admin.user.import", actor=by.username, at=at, target="users",
                       summary=f"从 Excel 导入人员 {len(created)} 名",
                       data={"users": [c.username for c in created]})
    return created


def template(session: Session) -> bytes:
    """The import template: the header row, how to fill it in, and the unit codes of the directory."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "人员"
    sheet.append(["用户名*", "姓名*", "单位（代码或名称）", "职务", "电话", "电子邮箱", "联络员（是/否）"])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for column, width in zip("ABCDEFG", (16, 12, 20, 16, 16, 24, 14), strict=True):
        sheet.column_dimensions[column].width = width
    notes = book.create_sheet("填写说明")
    for line in ("每行一人，从第2行起填写；带 * 的列必填。",
                 "用户名：2–64位小写字母、数字或 . _ -，登录时使用，不能与已有用户重复。",
                 "单位：填写单位代码或名称（见“单位代码”表）；联络员须填写单位。",
                 "联络员：填“是”表示该人员为本单位联络员，其余填“否”或留空。",
                 "导入前系统先检查全部行；任何一行有问题，都不会导入任何人员。",
                 "导入后每人获得一次性密码，首次登录时须修改。"):
        notes.append([line])
    notes.column_dimensions["A"].width = 80
    codes = book.create_sheet("单位代码")
    codes.append(["单位代码", "单位名称", "类别"])
    for unit in session.scalars(select(Unit).where(Unit.active).order_by(Unit.kind, Unit.sort)):
        codes.append([unit.code, unit.name, UnitKind.label_of(unit.kind)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
