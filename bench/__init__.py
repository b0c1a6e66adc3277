"""Benchmarks, run by `make bench`; their numbers are kept in docs/benchmarks.md."""
