"""Start-event starter groups with patterns: ``prefix:*`` admits a prefix, a ``*`` segment matches one segment."""

from __future__ import annotations

from engine.access import may_start, starter_matches


def test_a_star_segment_matches_any_one_town() -> None:
    assert starter_matches("town:*:window", "town:wuli:window")
    assert starter_matches("town:*:window", "town:laocheng:window")
    assert not starter_matches("town:*:window", "town:wuli:team")
    assert not starter_matches("town:*:window", "town:wuli:window:extra")
    assert not starter_matches("town:*:window", "town:window")
    assert not starter_matches("town:*:window", "unit:wuli")


def test_a_trailing_star_still_admits_the_prefix() -> None:
    assert starter_matches("unit:*", "unit:caizheng")
    assert not starter_matches("unit:*", "office")
    assert starter_matches("office", "office") and not starter_matches("office", "offices")


def test_may_start_with_the_urgent_starters() -> None:
    starters = ["town:*:window", "town:*:mzb", "town:*:team"]
    assert may_start({"town:wuli:team", "unit:wuli"}, starters)
    assert may_start({"town:jiangbei:mzb"}, starters)
    assert not may_start({"town:wuli:leader", "unit:wuli"}, starters)
    assert not may_start({"office"}, starters)
    assert may_start({"admin"}, starters)
