"""Start-event starter groups with patterns: ``prefix:*`` admits a prefix, a ``*`` segment matches one segment."""

from __future__ import annotations

from engine.access import may_start


def test_a_star_segment_matches_any_one_town() -> None:
    assert may_start({"town:wuli:window"}, ["town:*:window"])
    assert may_start({"town:laocheng:window"}, ["town:*:window"])
    assert not may_start({"town:wuli:team"}, ["town:*:window"])
    assert not may_start({"town:wuli:window:extra"}, ["town:*:window"])
    assert not may_start({"town:window"}, ["town:*:window"])
    assert not may_start({"unit:wuli"}, ["town:*:window"])


def test_a_trailing_star_still_admits_the_prefix() -> None:
    assert may_start({"unit:caizheng"}, ["unit:*"])
    assert not may_start({"office"}, ["unit:*"])
    assert may_start({"office"}, ["office"]) and not may_start({"offices"}, ["office"])


def test_may_start_with_the_urgent_starters() -> None:
    starters = ["town:*:window", "town:*:mzb", "town:*:team"]
    assert may_start({"town:wuli:team", "unit:wuli"}, starters)
    assert may_start({"town:jiangbei:mzb"}, starters)
    assert not may_start({"town:wuli:leader", "unit:wuli"}, starters)
    assert not may_start({"office"}, starters)
    assert may_start({"admin"}, starters)
