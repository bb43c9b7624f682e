"""Diagrams leave the server as data, never as documents of our origin.

A BPMN file is XML a designer (or whoever uploaded it) wrote; served inline as XML, a browser renders embedded
XHTML as a page at our address. Every route that returns BPMN XML answers with this: ``text/plain`` (no browser
renders it as markup), an attachment, ``nosniff`` and a ``sandbox`` CSP with nothing allowed, so even a browser
that did render it would run nothing and reach nothing. The viewer and the modeler read it with ``fetch``,
which does not care.
"""

from __future__ import annotations

from urllib.parse import quote

from flask import Response

SANDBOX_CSP = "sandbox; default-src 'none'; frame-ancestors 'none'"


def diagram_response(xml: str, file_name: str) -> Response:
    ascii_name = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in file_name) or "diagram.bpmn"
    response = Response(xml, mimetype="text/plain")
    response.headers["Content-Disposition"] = (f'attachment; filename="{ascii_name}"; '
                                               f"filename*=UTF-8''{quote(file_name, safe='')}")
    response.headers["Content-Security-Policy"] = SANDBOX_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
