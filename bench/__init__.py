"""Benchmarks of Upgradeflow (`make bench`); the HTTP driver here is shared with the process tests."""
