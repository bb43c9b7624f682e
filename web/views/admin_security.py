"""角色与权限 (/admin/roles) and 登录策略 (/admin/policy): the security administrator's pages; the other two
administrators read them. The audit log (/admin/audit) is the audit administrator's, who changes nothing here:
reading and exporting are all the page offers (an export is itself recorded)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import asdict
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, stream_with_context, url_for
from sqlalchemy import select

from engine.clock import SHANGHAI
from engine.errors import FormError
from engine.models import ProcessModel
from meeting import admin_audit, roles, signin
from meeting.ledger import safe_cell
from meeting.models import Unit, User, UserRole
from web.auth import me
from web.filters import ACTION_LABELS, local_time
from web.paging import page_args, pager_links
from web.services import database, workflow
from web.views.account import forget_policy
from web.views.admin_common import PEOPLE_READERS, POLICY_READERS, duty_required

bp = Blueprint("security", __name__, url_prefix="/admin")
LABELS = {**ACTION_LABELS, **admin_audit.ACTION_LABELS}
SCOPES = {"": "全部", "admin": "管理操作", "business": "业务操作"}


@bp.get("")
@duty_required(*PEOPLE_READERS, "office")
def home() -> Any:
    """/admin: the first page this person's duty opens."""
    user = me()
    if user.has(roles.AUDITOR):
        return redirect(url_for("security.audit"))
    if user.has(roles.SYSADMIN, roles.SECADMIN):
        return redirect(url_for("people.index"))
    return redirect(url_for("liaisons.index_liaisons"))


@bp.get("/roles")
@duty_required(*PEOPLE_READERS)
def role_holders() -> Any:
    """Who holds each role and group (the security administrator's overview)."""
    with database().sessions() as s:
        rows = s.execute(select(UserRole.role, User).join(User, User.id == UserRole.user_id)
                         .order_by(UserRole.role, User.username)).all()
        names = {u.code: u.name for u in s.scalars(select(Unit))}
        holders: dict[str, list[User]] = {}
        for role, user in rows:
            holders.setdefault(role, []).append(user)
        groups = roles.grantable(s)
        known = {g.key for g in groups}
        extra = [roles.GroupDef(k, roles.group_label(k, names), "", "其他") for k in holders if k not in known]
        return render_template("admin/roles.html", groups=groups + extra, holders=holders, names=names,
                               exclusive=[roles.ROLE_LABELS[r] for r in roles.EXCLUSIVE])


@bp.route("/policy", methods=["GET", "POST"])
@duty_required(*POLICY_READERS)
def policy() -> Any:
    errors: dict[str, str] = {}
    values: dict[str, Any] | None = None
    if request.method == "POST":
        if not me().has(roles.SECADMIN):
            return render_template("error.html", status=403, message="登录策略由安全管理员设置。"), 403
        values = dict(request.form)
        try:
            chosen = signin.parse(values)
            with database().transaction() as s:
                signin.save(s, chosen, actor=me().username, at=workflow().now())
        except FormError as exc:
            errors = exc.errors
        else:
            forget_policy()  # this process at once; the others within POLICY_TTL
            flash("登录策略已保存，新的规则立即生效。", "success")
            return redirect(url_for("security.policy"))
    with database().sessions() as s:
        current = asdict(signin.load(s))
    return render_template("admin/policy.html", policy=values or current, labels=signin.LABELS,
                           bounds=signin.BOUNDS, errors=errors, may_edit=me().has(roles.SECADMIN)), \
        422 if errors else 200


# ---------------------------------------------------------------------------------------------- audit log
def _day(name: str) -> date | None:
    try:
        day = date.fromisoformat(request.args.get(name, "").strip())
    except ValueError:
        return None
    return day if date(2000, 1, 1) <= day <= date(2100, 1, 1) else None


def _query() -> admin_audit.AuditQuery:
    since, until = _day("since"), _day("until")
    scope = request.args.get("scope", "")
    action = request.args.get("action", "")
    return admin_audit.AuditQuery(
        scope=scope if scope in SCOPES else "", actor=request.args.get("actor", "").strip()[:100],
        action=action if action in LABELS else "", text=request.args.get("q", "").strip()[:100],
        since=datetime.combine(since, time(), SHANGHAI) if since else None,
        until=datetime.combine(until + timedelta(days=1), time(), SHANGHAI) if until else None)


@bp.get("/audit")
@duty_required(roles.AUDITOR)
def audit() -> Any:
    query = _query()
    paging = page_args(admin_audit.PAGE_SIZE)
    with database().sessions() as s:
        found, total, over = admin_audit.page_after(s, query, paging.limit, paging.after, paging.before)
        return render_template("admin/audit.html", rows=found.rows, total=total, total_over=over, query=query,
                               scopes=SCOPES, labels=LABELS, actors=admin_audit.actors(s), args=request.args,
                               pager=pager_links(found, paging), describe=admin_audit.describe_changes,
                               processes={k: n for k, n in s.execute(select(ProcessModel.key, ProcessModel.name))})


@bp.get("/audit.csv")
@duty_required(roles.AUDITOR)
def audit_csv() -> Any:
    """The filtered log as CSV (UTF-8 with BOM for Excel), streamed; the export itself is recorded."""
    query = _query()
    with database().transaction() as s:
        admin_audit.record(s, "admin.audit.export", actor=me().username, at=workflow().now(),
                           target="audit", summary="导出审计日志", data={"filter": dict(request.args)})
    db = database()

    def lines() -> Iterator[str]:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["序号", "时间", "操作人", "操作", "内容", "变更", "流程", "任务", "实例"])
        yield "\ufeff" + out.getvalue()
        with db.sessions() as s:
            names = {k: n for k, n in s.execute(select(ProcessModel.key, ProcessModel.name))}
            for e in admin_audit.stream(s, query):
                out.seek(0)
                out.truncate()
                writer.writerow([safe_cell(v) for v in (
                    e.id, local_time(e.at, "%Y-%m-%d %H:%M:%S"), e.actor or "", LABELS.get(e.action, e.action),
                    e.comment or "", admin_audit.describe_changes(e.data or {}),
                    names.get(e.process_key or "", e.process_key or ""), e.task_name or "", e.instance_id or "")])
                yield out.getvalue()

    return Response(stream_with_context(lines()), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": "attachment; filename=audit-log.csv"})


