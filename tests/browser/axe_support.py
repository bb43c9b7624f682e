"""axe-core in the browser tests: inject the npm package's ``axe.min.js`` into a page and report its serious and
critical violations in words a failing test can print.

The pages run under a Content-Security-Policy without inline scripts, so the context that injects axe is made
with ``bypass_csp=True`` (only the injected script needs it; the page's own scripts are files either way).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "web" / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.0 / 2.1 A and AA and axe's best practices; only serious and critical findings fail a test.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
FAILING = ("serious", "critical")

_RUN = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 4).map((n) => ({target: n.target.join(' '), summary: n.failureSummary || ''})),
    count: v.nodes.length,
  }));
}"""


def axe_available() -> bool:
    return AXE.is_file()


def violations(page: Any) -> list[dict[str, Any]]:
    """The serious and critical axe violations of the page as it is now."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    found = page.evaluate(_RUN, TAGS)
    return [v for v in found if v.get("impact") in FAILING]


def describe(where: str, found: list[dict[str, Any]]) -> list[str]:
    """One line per violation: where, which rule, how bad, and the first elements it names."""
    lines = []
    for v in found:
        nodes = "; ".join(f"{n['target']} ({n['summary'].splitlines()[-1].strip() if n['summary'] else ''})"
                          for n in v["nodes"])
        lines.append(f"{where}: {v['id']} [{v['impact']}] {v['help']} ×{v['count']}: {nodes}")
    return lines
