"""Kwikset: a PIN already on the lock is acknowledged and silently dropped.

Read-back then never shows the code, which is why Seam's `kwikset_unable_to_confirm_code` is
usually a duplicate PIN set outside the system.
"""

from __future__ import annotations

from pinwarden.providers.sandbox.quirks import SandboxQuirks

QUIRKS = SandboxQuirks(duplicate_pin_silently_dropped=True)
