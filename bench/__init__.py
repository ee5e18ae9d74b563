"""Benchmarks (issue 11): ``python -m bench.run [--quick]``. Not part of the test suite."""
