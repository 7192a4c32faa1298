"""In-process lock simulators, one per brand, driven by `/devices/simulate/*`."""

from __future__ import annotations

from pinwarden.catalog.brands import BRANDS
from pinwarden.providers.sandbox.lock import SandboxLock

__all__ = ["BRANDS", "SandboxLock"]
