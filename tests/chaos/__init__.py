"""Crash-safety harness (issue 8, item 5): real server and worker processes killed under load."""
