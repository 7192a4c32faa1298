"""Emulated lock installations pinwarden connects to in tests, benchmarks and demos."""
