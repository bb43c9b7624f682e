"""Crash-safety harness: real server and worker processes killed under load, then the database checked
(tests/test_crash_safety.py, tests/test_races.py)."""
