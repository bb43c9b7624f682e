"""Masking personal data (a petitioner's name and phone) wherever it is shown outside the record that keeps it."""

from __future__ import annotations


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
