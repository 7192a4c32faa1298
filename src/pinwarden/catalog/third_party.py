"""Names that give away another app managing codes on a lock (Seam's mitigations name RBoy
Apps and Operto). Matched case-insensitively against the names of codes seen on the lock."""

from __future__ import annotations

THIRD_PARTY_CODE_NAMES: tuple[str, ...] = ("rboy", "operto", "lock manager")


def looks_third_party(name: str | None) -> bool:
    lowered = (name or "").lower()
    return any(mark in lowered for mark in THIRD_PARTY_CODE_NAMES)
