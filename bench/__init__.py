"""Benchmarks: ``make bench`` runs :mod:`bench.run`; ``--quick`` is the N = 5 smoke mode. :mod:`bench.world`
builds the demo world that the benchmarks and the tests share."""
