"""Benchmarks with their recorded baselines (bench/README.md). Not part of `make test`."""
