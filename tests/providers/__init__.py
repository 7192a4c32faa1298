"""Adapter-level tests of the real-lock providers, each on its real stack."""
