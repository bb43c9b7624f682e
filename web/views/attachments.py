"""Downloading an attachment: only people who may read a task of its instance, or supervisors."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, abort, current_app
from flask_login import login_required
from sqlalchemy import select

from engine.models import Attachment, HumanTask
from web.auth import me

bp = Blueprint("attachments", __name__)


@bp.get("/attachments/<attachment_id>")
@login_required
def download(attachment_id: str) -> Any:
    service, user = current_app.extensions["workflow"], me()
    with current_app.extensions["db"].sessions() as s:
        row = s.get(Attachment, attachment_id)
        if row is None:
            abort(404)
        allowed = row.uploaded_by == user.username or bool(user.groups & service.supervisor_groups)
        if not allowed and row.instance_id:
            tasks = s.scalars(select(HumanTask).where(HumanTask.instance_id == row.instance_id))
            allowed = any(service.may_read(t, user.actor) for t in tasks)
        if not allowed:
            abort(403)
        disposition = f"attachment; filename*=UTF-8''{quote(row.file_name)}"
        return Response(row.content, mimetype=row.content_type.split(";")[0],
                        headers={"Content-Disposition": disposition, "X-Content-Type-Options": "nosniff"})
