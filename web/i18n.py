"""Compile the message catalogs (web/translations/*/LC_MESSAGES/messages.po → .mo) when they are stale."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import g
from flask_babel import get_translations

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
LANGUAGES = {"zh": "中文", "en": "English"}  # the interface speaks Chinese unless English is chosen
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


def install_request_gettext(app: Any) -> None:
    """``_()`` in templates with the catalog looked up once per request: flask_babel finds the domain, the
    locale and the catalog again on every call (tens of microseconds; a 50-row inbox makes hundreds of calls,
    which the inbox figures of bench/run.py showed). Same catalogs, same locale selector."""
    def translations() -> Any:
        found = g.get("_jm_translations")
        if found is None:
            found = g._jm_translations = get_translations()
        return found

    def data_label(text: str | None) -> str:
        """A label that comes as data (a 来源, a unit's role) in the reader's language, as plain text that the
        template escapes: cheaper per row than ``_()``, which formats its result as markup."""
        if not text:
            return ""
        return str(translations().ugettext(text))

    app.jinja_env.filters["tr"] = data_label
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
    )


if __name__ == "__main__":
    print(f"compiled {compile_catalogs()} catalog(s)")
