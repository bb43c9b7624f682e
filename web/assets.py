"""Static files: content-hashed bundle names, long-lived caching, and compression.

The front-end build (web/frontend/build.mjs) writes every bundle twice, as ``app.js`` and as ``app.1a2b3c4d.js``
(the hash of its content), with gzip and brotli copies next to each text file, and a ``manifest.json`` mapping
the one name to the other. Pages link the hashed name through ``asset_url('app.js')``: such a file never
changes, so it is served with a year-long ``immutable`` lifetime and a new build is fetched at once. Any other
static file is revalidated (ETag) on every use. The compressed copy the browser accepts (brotli, then gzip) is
sent instead of the file, and the HTML pages themselves are gzipped on the way out.
"""

from __future__ import annotations

import gzip
import json
import mimetypes
import re
from pathlib import Path
from typing import Any

from flask import Flask, Response, abort, current_app, request, send_from_directory, url_for
from werkzeug.security import safe_join

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
# app.1a2b3c4d.js, fonts/bpmn-JVOJFP64.eot: a name that changes whenever the content does
_HASHED = re.compile(r"(^|/)[^/]+\.[0-9a-f]{8}\.[a-z0-9]+$|(^|/)fonts/[^/]+-[A-Z0-9]{8}\.[a-z0-9]+$")
_ENCODINGS = (("br", ".br"), ("gzip", ".gz"))
# What the app compresses on the way out: pages, JSON, and the diagrams' XML (sent as text).
COMPRESSED_TYPES = ("text/html", "application/json", "text/plain", "application/xml", "text/xml")
# Below this an HTML page is sent as it is: compressing it would save less than it costs.
GZIP_MIN_BYTES = 1400


class Manifest:
    """dist/manifest.json, read again when the build replaced it (a running server sees a new build)."""

    def __init__(self, dist: Path) -> None:
        self.path = dist / "manifest.json"
        self._stamp: float | None = None
        self._names: dict[str, str] = {}

    def names(self) -> dict[str, str]:
        try:
            stamp = self.path.stat().st_mtime
        except OSError:
            return {}
        if stamp != self._stamp:
            try:
                names = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return self._names
            self._names = {str(k): str(v) for k, v in names.items()} if isinstance(names, dict) else {}
            self._stamp = stamp
        return self._names


def asset_url(name: str) -> str:
    """The URL of a bundle by its plain name (``app.js``): its content-hashed copy when the build made one."""
    manifest: Manifest = current_app.extensions["asset_manifest"]
    return url_for("static", filename="dist/" + manifest.names().get(name, name))


def _accepted(encoding: str) -> bool:
    return encoding in request.headers.get("Accept-Encoding", "").lower()


def send_static(filename: str) -> Response:
    """Flask's static view, plus: a compressed copy when the browser accepts one, and the cache lifetime by name."""
    folder = current_app.static_folder
    if folder is None or safe_join(folder, filename) is None:
        abort(404)
    served, encoding = filename, None
    for name, suffix in _ENCODINGS:
        candidate = safe_join(folder, filename + suffix)
        if candidate and _accepted(name) and Path(candidate).is_file():
            served, encoding = filename + suffix, name
            break
    response = send_from_directory(folder, served, max_age=None)
    if encoding:
        response.headers["Content-Encoding"] = encoding
        response.mimetype = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        if response.mimetype.startswith("text/") or response.mimetype.endswith(("javascript", "json")):
            response.charset = "utf-8"
    response.headers["Vary"] = "Accept-Encoding"
    response.headers["Cache-Control"] = IMMUTABLE if _HASHED.search(filename) else REVALIDATE
    return response


def gzip_page(response: Response) -> Response:
    """Gzip a page, JSON or diagram answer of some size when the browser accepts it (files and streams as they
    are: send_file answers pass through, exports stream)."""
    if (response.direct_passthrough or response.is_streamed or "Content-Encoding" in response.headers
            or response.status_code < 200 or response.status_code in (204, 304) or not _accepted("gzip")
            or response.mimetype not in COMPRESSED_TYPES):
        return response
    body = response.get_data()
    if len(body) < GZIP_MIN_BYTES:
        return response
    response.set_data(gzip.compress(body, compresslevel=6))
    response.headers["Content-Encoding"] = "gzip"
    vary = response.headers.get("Vary")
    response.headers["Vary"] = f"{vary}, Accept-Encoding" if vary else "Accept-Encoding"
    return response


def init_assets(app: Flask) -> None:
    dist = Path(app.static_folder or "static") / "dist"
    app.extensions["asset_manifest"] = Manifest(dist)
    app.jinja_env.globals["asset_url"] = asset_url
    app.view_functions["static"] = send_static

    @app.after_request
    def compress(response: Any) -> Any:
        return gzip_page(response)
