"""督办台账 (/resolutions): filters, sort, columns, saved filters, .xlsx and CSV exports, the JSON API, and the
page of one resolution item."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, quote

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import login_required
from sqlalchemy import or_, select
from werkzeug.datastructures import MultiDict

from engine.clock import SHANGHAI
from meeting.ledger import (
    COLUMNS,
    FILTER_STATUSES,
    LIGHT_FILTERS,
    SORTS,
    LedgerFilter,
    filter_choices,
    ledger_page,
    ledger_rows,
    to_csv,
    to_xlsx,
)
from meeting.models import (
    ExtensionRequest,
    Meeting,
    ProgressReport,
    ResolutionItem,
    SavedFilter,
    Unit,
    User,
)
from web.auth import me, roles_required
from web.services import database, workflow
from web.views.monitor import MONITOR_ROLES

bp = Blueprint("ledger", __name__)
api_bp = Blueprint("ledger_api", __name__, url_prefix="/api")
# Saved filters can be shared with the groups that may open the ledger.
SHARE_GROUPS = {"office": "联席会议办公室", "convener": "召集人", "district": "区政府领导"}
REPORT_KINDS = {"result": "落实情况报告", "input": "配合单位意见", "rework": "整改情况", "verify": "核验意见"}


def _visible_filters(s: Any) -> Any:
    user = me()
    return select(SavedFilter).where(or_(SavedFilter.owner == user.username,
                                         SavedFilter.shared_with_group.in_(sorted(user.groups))))


def _current_filter(s: Any) -> tuple[LedgerFilter, SavedFilter | None]:
    """The filter of this request: a saved one (``?saved=<id>``, if this user may see it) or the query string."""
    saved_id = request.args.get("saved", "")
    if saved_id:
        if not saved_id.isdigit():
            abort(404)
        saved = s.scalar(_visible_filters(s).where(SavedFilter.id == int(saved_id)))
        if saved is None:
            exists = s.get(SavedFilter, int(saved_id))
            abort(403 if exists is not None else 404)
        args = MultiDict([(k, v) for k, vs in parse_qs(saved.query).items() for v in vs])
        if request.args.get("page"):
            args["page"] = request.args["page"]
        return LedgerFilter.parse(args, columns=list(saved.columns or [])), saved
    return LedgerFilter.parse(request.args), None


@bp.get("/resolutions")
@roles_required(*MONITOR_ROLES)
def index() -> Any:
    with database().sessions() as s:
        flt, saved = _current_filter(s)
        page = ledger_page(s, flt, workflow().now())
        choices = filter_choices(s)
        filters = list(s.scalars(_visible_filters(s).order_by(SavedFilter.name)))
        owners = dict(s.execute(select(User.username, User.display_name)).all())
    return render_template(
        "ledger/index.html", flt=flt, page=page, saved=saved, filters=filters, owners=owners, choices=choices,
        columns=COLUMNS, sorts=SORTS, statuses=list(FILTER_STATUSES.items()),
        lights=LIGHT_FILTERS, share_groups=SHARE_GROUPS,
        export_query=flt.query_string(),
    )


def _export(kind: str) -> Any:
    now = workflow().now()
    with database().sessions() as s:
        flt, _saved = _current_filter(s)
        rows = ledger_rows(s, flt, now)
    stamp = now.astimezone(SHANGHAI).strftime("%Y%m%d-%H%M")
    if kind == "xlsx":
        body = to_xlsx(rows, flt.columns, now)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        body = to_csv(rows, flt.columns)
        mimetype = "text/csv"
    name = f"督办台账-{stamp}.{kind}"
    headers = {"Content-Disposition": f"attachment; filename=\"ledger-{stamp}.{kind}\"; filename*=UTF-8''{quote(name)}",
               "X-Row-Count": str(len(rows))}
    return Response(body, mimetype=mimetype, headers=headers)


@bp.get("/resolutions/export.xlsx")
@roles_required(*MONITOR_ROLES)
def export_xlsx() -> Any:
    return _export("xlsx")


@bp.get("/resolutions/export.csv")
@roles_required(*MONITOR_ROLES)
def export_csv() -> Any:
    return _export("csv")


@bp.post("/resolutions/filters")
@roles_required(*MONITOR_ROLES)
def save_filter() -> Any:
    user = me()
    name = request.form.get("name", "").strip()
    share = request.form.get("share", "").strip() or None
    flt = LedgerFilter.parse(MultiDict(parse_qs(request.form.get("query", ""))),
                             columns=request.form.getlist("col") or None)
    problems = []
    if not name or len(name) > 100:
        problems.append("请填写筛选名称（不超过 100 字）")
    if share is not None and share not in SHARE_GROUPS:
        problems.append("只能共享给联席会议办公室、召集人或区政府领导")
    if flt.errors:
        problems.append("筛选条件有误：" + "；".join(flt.errors.values()))
    if problems:
        flash("；".join(problems), "danger")
        return redirect(url_for("ledger.index") + ("?" + flt.query_string() if flt.query_string() else ""))
    with database().transaction() as s:
        row = s.scalar(select(SavedFilter).where(SavedFilter.owner == user.username, SavedFilter.name == name))
        if row is None:
            row = SavedFilter(owner=user.username, name=name, created_at=workflow().now())
            s.add(row)
        row.query, row.columns, row.shared_with_group = flt.query_string(with_columns=False), list(flt.columns), share
        s.flush()
        saved_id = row.id
    flash(f"已保存筛选“{name}”" + (f"，并共享给{SHARE_GROUPS[share]}" if share else "") + "。", "success")
    return redirect(url_for("ledger.index", saved=saved_id))


@bp.post("/resolutions/filters/<int:filter_id>/delete")
@roles_required(*MONITOR_ROLES)
def delete_filter(filter_id: int) -> Any:
    user = me()
    with database().transaction() as s:
        row = s.get(SavedFilter, filter_id)
        if row is None:
            abort(404)
        if row.owner != user.username and not user.is_admin:
            abort(403)
        s.delete(row)
    flash("已删除筛选。", "info")
    return redirect(url_for("ledger.index"))


def load_item_or_abort(s: Any, item_id: int) -> ResolutionItem:
    """One item: monitors see every item; a unit sees the items it leads or co-operates on (404 for a draft
    outside the monitors, so its existence is not told)."""
    user = me()
    item = s.get(ResolutionItem, item_id)
    if item is None or item.status == "draft" and not user.has(*MONITOR_ROLES, "admin"):
        abort(404)
    involved = {item.lead_unit, *item.co_units}
    if not (user.has(*MONITOR_ROLES, "admin") or (user.unit_code and user.unit_code in involved)):
        abort(403)
    return item


@bp.get("/resolutions/<int:item_id>")
@login_required
def show(item_id: int) -> Any:
    user = me()
    now = workflow().now()
    with database().sessions() as s:
        item = load_item_or_abort(s, item_id)
        meeting = s.get(Meeting, item.meeting_id) if item.meeting_id else None
        names = dict(s.execute(select(Unit.code, Unit.name)).all())
        reports = list(s.scalars(select(ProgressReport).where(ProgressReport.resolution_id == item.id)
                                 .order_by(ProgressReport.created_at, ProgressReport.id)))
        extensions = list(s.scalars(select(ExtensionRequest).where(ExtensionRequest.resolution_id == item.id)
                                    .order_by(ExtensionRequest.requested_at)))
        people = dict(s.execute(select(User.username, User.display_name)).all())
    return render_template("ledger/item.html", item=item, light=item.light(now), meeting=meeting, names=names,
                           reports=reports, extensions=extensions, people=people, report_kinds=REPORT_KINDS,
                           may_monitor=user.has(*MONITOR_ROLES, "admin"))


# ---------------------------------------------------------------------------------------------- JSON
@api_bp.get("/resolutions")
@roles_required(*MONITOR_ROLES)
def api_list() -> Any:
    flt = LedgerFilter.parse(request.args)
    if flt.errors:
        return jsonify(error="bad_request", message="筛选条件有误", errors=flt.errors), 400
    now = workflow().now()
    with database().sessions() as s:
        rows = ledger_rows(s, flt, now)
    return jsonify(count=len(rows), generated_at=now.isoformat(), resolutions=[r.as_json() for r in rows])
