"""督办台账 (/resolutions): filters, sort, columns, saved filters, .xlsx and CSV exports, the JSON API, and the
page of one resolution item."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
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
    stream_with_context,
    url_for,
)
from flask_login import login_required
from sqlalchemy import or_, select
from werkzeug.datastructures import MultiDict

from engine.clock import SHANGHAI
from engine.errors import FormError
from engine.models import Attachment
from meeting import supervision
from meeting.ledger import (
    COLUMNS,
    COMPILER,
    FILTER_STATUSES,
    LEDGER_TITLE,
    LIGHT_FILTERS,
    PAGE_SIZE,
    SORTS,
    SOURCE_FILTERS,
    LedgerFilter,
    LedgerPage,
    filter_choices,
    iter_ledger_rows,
    ledger_page,
    overdue_days_of,
    to_csv,
    xlsx_chunks,
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
from meeting.statuses import ResolutionStatus, SupervisionKind
from web.auth import me, roles_required
from web.paging import first_seq, page_args, page_json, pager_links
from web.params import parse_int
from web.services import database, workflow
from web.views.monitor import MONITOR_ROLES

bp = Blueprint("ledger", __name__)
api_bp = Blueprint("ledger_api", __name__, url_prefix="/api")
# Saved filters can be shared with the groups that may open the ledger.
SHARE_GROUPS = {"office": "联席会议办公室", "convener": "召集人", "district": "区政府领导"}
GROUP_NAMES = {"office": "联席会议办公室", "convener": "召集人", "district": "区政府分管领导"}
REPORT_KINDS = {"result": "落实情况报告", "input": "配合单位意见", "rework": "整改情况", "verify": "核验意见",
                "progress": "阶段进展", "closing": "召集人销号意见"}


def _visible_filters(s: Any) -> Any:
    user = me()
    return select(SavedFilter).where(or_(SavedFilter.owner == user.username,
                                         SavedFilter.shared_with_group.in_(sorted(user.groups))))


def _current_filter(s: Any) -> tuple[LedgerFilter, SavedFilter | None]:
    """The filter of this request: a saved one (``?saved=<id>``, if this user may see it) or the query string."""
    raw = request.args.get("saved", "")
    if raw:
        saved_id = parse_int(raw)
        if saved_id is None:
            abort(404)
        saved = s.scalar(_visible_filters(s).where(SavedFilter.id == saved_id))
        if saved is None:
            exists = s.get(SavedFilter, saved_id)
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
        page, pager = _paged(s, flt)
        choices = filter_choices(s)
        filters = list(s.scalars(_visible_filters(s).order_by(SavedFilter.name)))
        owners = dict(s.execute(select(User.username, User.display_name)).all())
    return render_template(
        "ledger/index.html", flt=flt, page=page, saved=saved, filters=filters, owners=owners, choices=choices,
        columns=COLUMNS, sorts=SORTS, statuses=list(FILTER_STATUSES.items()),
        lights=LIGHT_FILTERS, sources=SOURCE_FILTERS, share_groups=SHARE_GROUPS,
        export_query=flt.query_string(), pager=pager,
    )


def _paged(s: Any, flt: LedgerFilter) -> tuple[LedgerPage, dict[str, str | None]]:
    """The page of the ledger this request asks for (keyset: ``cursor`` / ``before``) and its pager."""
    args, seq = page_args(PAGE_SIZE), first_seq()
    page = ledger_page(s, flt, workflow().now(), args.limit, args.after, args.before, seq)
    return page, pager_links(page, args, seq)


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _export(kind: str, flt: LedgerFilter, compiler: str = COMPILER, title: str = LEDGER_TITLE,
            name: str = "督办台账") -> Any:
    """Stream an export: the rows are read a chunk at a time inside the response, never all at once."""
    now = workflow().now()
    db = database()
    columns = flt.export_columns

    def xlsx() -> Iterator[bytes]:
        with db.sessions() as s:
            yield from xlsx_chunks(iter_ledger_rows(s, flt, now), columns, now, compiler=compiler, title=title)

    def csv_lines() -> Iterator[bytes]:
        with db.sessions() as s:
            yield from to_csv(iter_ledger_rows(s, flt, now), columns)

    stamp = now.astimezone(SHANGHAI).strftime("%Y%m%d-%H%M")
    file_name = f"{name}-{stamp}.{kind}"
    headers = {"Content-Disposition":
               f"attachment; filename=\"ledger-{stamp}.{kind}\"; filename*=UTF-8''{quote(file_name)}"}
    body = xlsx() if kind == "xlsx" else csv_lines()
    return Response(stream_with_context(body), mimetype=XLSX_TYPE if kind == "xlsx" else "text/csv",
                    headers=headers)


def _monitor_export(kind: str) -> Any:
    with database().sessions() as s:
        flt, _saved = _current_filter(s)
    return _export(kind, flt)


@bp.get("/resolutions/export.xlsx")
@roles_required(*MONITOR_ROLES)
def export_xlsx() -> Any:
    return _monitor_export("xlsx")


@bp.get("/resolutions/export.csv")
@roles_required(*MONITOR_ROLES)
def export_csv() -> Any:
    return _monitor_export("csv")


# ---------------------------------------------------------------------------------------------- 本单位议定事项
def _my_unit() -> tuple[str, str]:
    """The signed-in liaison's unit (code, name); 403 for someone who acts for no unit."""
    user = me()
    if not user.unit_code:
        abort(403)
    return user.unit_code, user.unit_name or user.unit_code


def _unit_filter(code: str) -> LedgerFilter:
    """The same filters as the ledger, with the unit fixed to the user's own (lead or co-operating)."""
    flt = LedgerFilter.parse(request.args)
    return replace(flt, unit=code, lead=flt.lead if flt.lead == code else None,
                   co=flt.co if flt.co == code else None)


@bp.get("/my/resolutions")
@login_required
def mine() -> Any:
    code, name = _my_unit()
    flt = _unit_filter(code)
    with database().sessions() as s:
        page, pager = _paged(s, flt)
        choices = filter_choices(s)
    return render_template(
        "ledger/index.html", flt=flt, page=page, saved=None, filters=[], owners={}, choices=choices,
        columns=COLUMNS, sorts=SORTS, statuses=list(FILTER_STATUSES.items()), lights=LIGHT_FILTERS,
        sources=SOURCE_FILTERS, share_groups={}, export_query=flt.query_string(), unit_view=True, unit_name=name, unit_code=code,
        pager=pager)


@bp.get("/my/resolutions/export.xlsx")
@login_required
def mine_xlsx() -> Any:
    code, name = _my_unit()
    return _export("xlsx", _unit_filter(code), compiler=name, title=f"{LEDGER_TITLE}（{name}）", name="本单位议定事项")


@bp.get("/my/resolutions/export.csv")
@login_required
def mine_csv() -> Any:
    code, name = _my_unit()
    return _export("csv", _unit_filter(code), name="本单位议定事项")


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


def _item_page(item_id: int, errors: dict[str, str] | None = None, form: dict[str, str] | None = None,
               status: int = 200) -> Any:
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
        history = supervision.history(s, item.id)
        counts = supervision.counts(s, item.id)
        letters = supervision.letters(s, item.id)
        # Links to the item's open steps, each only for someone who may read it (a unit sees its own).
        tasks = [t for t in supervision.open_tasks(s, item) if workflow().may_read(t, user.actor)]
        targets = supervision.targets(s, item) if user.has("office", "admin") else []
        files = dict(s.execute(select(Attachment.id, Attachment.file_name).where(Attachment.id.in_(
            [r.attachment for r in reports if r.attachment] + [x.document_id for x in letters if x.document_id]
            + ([item.evidence_id] if item.evidence_id else [])))).all())
    overdue = overdue_days_of(item, now) if item.status in ResolutionStatus.issued() else 0
    return render_template("ledger/item.html", item=item, light=item.light(now), meeting=meeting, names=names,
                           reports=reports, extensions=extensions, people=people, report_kinds=REPORT_KINDS,
                           may_monitor=user.has(*MONITOR_ROLES, "admin"), history=history, counts=counts,
                           letters=letters, tasks=tasks, targets=targets, overdue=overdue, files=files,
                           errors=errors or {}, form=form or {}, group_names=GROUP_NAMES), status


@bp.get("/resolutions/<int:item_id>")
@login_required
def show(item_id: int) -> Any:
    return _item_page(item_id)


def _manual(item_id: int, kind: SupervisionKind) -> Any:
    """The office's 催办 / 督办 by hand: one transaction; a refusal shows the page again with what was typed."""
    user = me()
    form = {"unit": request.form.get("unit", "").strip(), "opinion": request.form.get("opinion", ""),
            "kind": kind.value}
    try:
        with database().transaction() as s:
            item = s.get(ResolutionItem, item_id)
            if item is None:
                abort(404)
            supervision.manual(s, item, kind, form["unit"], form["opinion"], user.username, workflow().now())
            number = item.number
    except FormError as exc:
        return _item_page(item_id, exc.errors, form, 422)
    flash(f"已对议定事项{number}{kind.label}。", "success")
    return redirect(url_for("ledger.show", item_id=item_id) + "#supervision")


@bp.post("/resolutions/<int:item_id>/remind")
@roles_required("office")
def remind(item_id: int) -> Any:
    return _manual(item_id, SupervisionKind.REMIND)


@bp.post("/resolutions/<int:item_id>/supervise")
@roles_required("office")
def supervise(item_id: int) -> Any:
    return _manual(item_id, SupervisionKind.SUPERVISE)


# ---------------------------------------------------------------------------------------------- JSON
@api_bp.get("/resolutions")
@roles_required(*MONITOR_ROLES)
def api_list() -> Any:
    flt = LedgerFilter.parse(request.args)
    if flt.errors:
        return jsonify(error="bad_request", message="筛选条件有误", errors=flt.errors), 400
    now = workflow().now()
    args = page_args(PAGE_SIZE)
    with database().sessions() as s:
        page = ledger_page(s, flt, now, args.limit, args.after, args.before)
        rows = [r.as_json() for r in page.rows]
    return jsonify(count=len(rows), total=None if page.total_over else page.total,
                   total_over=page.total if page.total_over else None, generated_at=now.isoformat(),
                   resolutions=rows, **page_json(page))
