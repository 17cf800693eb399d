"""Benchmarks of the identity service. `python -m bench.http --help` runs the HTTP benchmark."""
