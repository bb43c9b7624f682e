"""Uploaded files for attachment fields: size and type checked by content, names cleaned of path tricks."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import datetime

from sqlalchemy.orm import Session

from engine.errors import FormError
from engine.models import Attachment

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
# extension -> (content type, magic prefixes; None = text that must decode as UTF-8)
ALLOWED: dict[str, tuple[str, tuple[bytes, ...] | None]] = {
    "pdf": ("application/pdf", (b"%PDF-",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (b"PK\x03\x04",)),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (b"PK\x03\x04",)),
    "doc": ("application/msword", (b"\xd0\xcf\x11\xe0",)),
    "xls": ("application/vnd.ms-excel", (b"\xd0\xcf\x11\xe0",)),
    "txt": ("text/plain; charset=utf-8", None),
}


def clean_file_name(name: str) -> str:
    """The last path component, without control characters or leading dots, at most 100 characters."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = name.strip().lstrip(".").strip()
    if len(name) > 100:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 100 - len(ext) - 1] + dot + ext) if dot else name[:100]
    return name or "附件"


def check_upload(field_id: str, file_name: str, data: bytes) -> tuple[str, str]:
    """Returns (clean name, content type) or raises FormError for the field."""
    name = clean_file_name(file_name)
    ext = name.rpartition(".")[2].lower() if "." in name else ""
    if ext not in ALLOWED:
        raise FormError({field_id: f"不支持的附件类型“.{ext or '无扩展名'}”（可上传：{', '.join(sorted(ALLOWED))}）"})
    if not data:
        raise FormError({field_id: "附件是空文件"})
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise FormError({field_id: f"附件不能超过 {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB"})
    content_type, magic = ALLOWED[ext]
    if magic is None:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            raise FormError({field_id: "文本附件须为 UTF-8 编码"}) from None
    elif not any(data.startswith(m) for m in magic):
        raise FormError({field_id: f"附件内容与扩展名“.{ext}”不符"})
    return name, content_type


def store_attachment(session: Session, field_id: str, file_name: str, data: bytes, uploaded_by: str,
                     now: datetime, instance_id: str | None = None) -> Attachment:
    name, content_type = check_upload(field_id, file_name, data)
    row = Attachment(file_name=name, content_type=content_type, size=len(data),
                     sha256=hashlib.sha256(data).hexdigest(), content=data, uploaded_by=uploaded_by,
                     uploaded_at=now, instance_id=instance_id)
    session.add(row)
    session.flush()
    return row
