"""Masking personal data (a petitioner's name and phone) wherever it is shown outside the record that keeps it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from engine.models import AuditEvent
from meeting.models import PetitionReferral


def mask_phone(phone: str | None) -> str:
    """138****5678: the first three and last four digits of a mobile number; shorter numbers keep only the last
    two characters."""
    text = (phone or "").strip()
    if not text:
        return ""
    if len(text) >= 11:
        return text[:3] + "*" * (len(text) - 7) + text[-4:]
    return "*" * max(len(text) - 2, 1) + text[-2:]


def mask_name(name: str | None) -> str:
    """张* / 欧*** : the family name's first character, the rest starred."""
    text = (name or "").strip()
    if not text:
        return ""
    return text[0] + "*" * max(len(text) - 1, 1)


CONTACT_VIEW = "petition.contact_view"


def may_see_contact(groups: frozenset[str] | set[str], unit: str | None, lead_unit: str | None) -> bool:
    """The case's handlers: the office, 区信访局 (which referred it) and the responsible unit."""
    return "office" in groups or unit is not None and unit in {"xinfang", lead_unit}


def reveal_contact(session: Session, petition: PetitionReferral, actor: str, at: datetime) -> tuple[str, str]:
    """The petitioner's name and phone, unmasked, for a handler; the view is written to the audit log."""
    session.add(AuditEvent(at=at, actor=actor, action=CONTACT_VIEW, instance_id=petition.instance_id,
                           process_key="petition_referral", data={"petition_id": petition.id, "number": petition.number},
                           comment=f"查看信访件{petition.number}的信访人联系方式"))
    return petition.petitioner_name, petition.petitioner_phone or ""
