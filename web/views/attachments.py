"""Downloading an attachment: only people who may read a task of its instance, or supervisors."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, abort
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import Attachment, HumanTask
from web.auth import me
from web.services import database, workflow

bp = Blueprint("attachments", __name__)


def load_attachment_or_abort(s: Session, attachment_id: str) -> Attachment:
    """The file, if this user uploaded it, supervises, or may read a task of its instance."""
    service, user = workflow(), me()
    row = s.get(Attachment, attachment_id)
    if row is None:
        abort(404)
    allowed = row.uploaded_by == user.username or bool(user.groups & service.supervisor_groups)
    if not allowed and row.instance_id:
        tasks = s.scalars(select(HumanTask).where(HumanTask.instance_id == row.instance_id))
        allowed = any(service.may_read(t, user.actor) for t in tasks)
    if not allowed:
        abort(403)
    return row


@bp.get("/attachments/<attachment_id>")
@login_required
def download(attachment_id: str) -> Any:
    with database().sessions() as s:
        row = load_attachment_or_abort(s, attachment_id)
        disposition = f"attachment; filename*=UTF-8''{quote(row.file_name)}"
        return Response(row.content, mimetype=row.content_type.split(";")[0],
                        headers={"Content-Disposition": disposition, "X-Content-Type-Options": "nosniff"})
