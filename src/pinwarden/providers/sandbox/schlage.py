"""Schlage: every lock has a 6-digit programming code; user codes must not share its first four."""

from __future__ import annotations

from pinwarden.providers.sandbox.quirks import SandboxQuirks

QUIRKS = SandboxQuirks(programming_code_length=6)
