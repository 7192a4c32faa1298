"""SmartThings: three codes of its own on every lock; RBoy Apps can fight over the codes."""

from __future__ import annotations

from pinwarden.providers.sandbox.quirks import SandboxQuirks

QUIRKS = SandboxQuirks(
    own_code_names=("SmartThings Code 1", "SmartThings Code 2", "SmartThings Code 3"),
    third_party_apps=(("rboy", "RBoy Apps Lock Manager"),),
)
