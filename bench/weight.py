"""Page weight: what a browser with an empty cache downloads to show a page.

Counted: the HTML, every stylesheet and script it links, and the diagram XML its viewers fetch, each as the
server sends it to a browser that accepts brotli and gzip (compressed bytes plus response headers). Font files
that stylesheets name are left out: Chromium fetches only the formats and faces a page uses, and our pages use
the system's fonts (the diagram's icon font is embedded in its stylesheet).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

import requests

ACCEPT = {"Accept-Encoding": "br, gzip"}


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "link" and (a.get("rel") or "") == "stylesheet" and a.get("href"):
            self.urls.append(str(a["href"]))
        elif tag == "script" and a.get("src"):
            self.urls.append(str(a["src"]))
        if a.get("data-bpmn-url"):
            self.urls.append(str(a["data-bpmn-url"]))


@dataclass
class Weight:
    path: str
    bytes_by_url: dict[str, int] = field(default_factory=dict)

    @property
    def kib(self) -> float:
        return sum(self.bytes_by_url.values()) / 1024


def _wire_bytes(r: requests.Response, body: bytes) -> int:
    head = f"HTTP/1.1 {r.status_code} {r.reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in r.headers.items())
    return len(head.encode()) + 2 + len(body)


def _fetch(http: requests.Session, url: str) -> tuple[requests.Response, bytes]:
    r = http.get(url, headers=ACCEPT, stream=True, allow_redirects=False, timeout=60)
    body = r.raw.read(decode_content=False)
    if r.status_code != 200:
        raise RuntimeError(f"GET {url}: {r.status_code}")
    return r, body


def page_weight(http: requests.Session, base: str, path: str) -> Weight:
    """The cold weight of ``base + path`` for the signed-in session ``http``."""
    weight = Weight(path)
    page_url = base + path
    r, body = _fetch(http, page_url)
    weight.bytes_by_url[path] = _wire_bytes(r, body)
    html = http.get(page_url, timeout=60).text  # decoded again for reading its links
    links = _Links()
    links.feed(html)
    for ref in dict.fromkeys(links.urls):
        url = urljoin(page_url, ref)
        if not url.startswith(base):
            continue
        r, body = _fetch(http, url)
        weight.bytes_by_url[re.sub(r"^https?://[^/]+", "", url)] = _wire_bytes(r, body)
    return weight
