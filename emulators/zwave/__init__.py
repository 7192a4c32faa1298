"""The real Z-Wave JS stack for tests, benchmarks and the demo (see stack.py)."""
