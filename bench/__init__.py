"""Benchmarks and the synthetic book-of-business generator (bench/README.md). Not run by CI."""
