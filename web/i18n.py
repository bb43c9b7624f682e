"""Compile the message catalogs (web/translations/*/LC_MESSAGES/messages.po → .mo) when they are stale."""

from __future__ import annotations

import logging
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
log = logging.getLogger(__name__)


def compile_catalogs() -> int:
    compiled = 0
    for po in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        try:
            with po.open("rb") as fh:
                catalog = read_po(fh)
            with mo.open("wb") as fh:
                write_mo(fh, catalog)
            compiled += 1
        except OSError as exc:  # a read-only install keeps whatever was compiled at set-up
            log.warning("could not compile %s: %s", po, exc)
    return compiled


if __name__ == "__main__":
    print(f"compiled {compile_catalogs()} catalog(s)")
