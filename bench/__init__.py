"""Benchmarks (issue 7): ``make bench`` runs :mod:`bench.run`; ``--quick`` is the N = 5 smoke mode."""
