"""Which quirks each brand's simulator has; brands not listed behave plainly."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from pinwarden.providers.sandbox import kwikset, schlage, smartthings
from pinwarden.providers.sandbox.quirks import SandboxQuirks

_QUIRKS: Mapping[str, SandboxQuirks] = MappingProxyType(
    {
        "kwikset": kwikset.QUIRKS,
        "schlage": schlage.QUIRKS,
        "smartthings": smartthings.QUIRKS,
    }
)

PLAIN = SandboxQuirks()


def quirks_for(brand: str) -> SandboxQuirks:
    return _QUIRKS.get(brand, PLAIN)
