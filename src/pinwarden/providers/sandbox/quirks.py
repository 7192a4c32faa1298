"""How a brand's simulated lock departs from plain behaviour, as data the simulator reads.

Capabilities and error codes live in the catalog's brand profile; this holds only what the
simulator alone needs. Each brand with quirks keeps its value in `<brand>.py` beside this file.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SandboxQuirks:
    # The lock accepts a PIN already used in another slot, acknowledges it, and drops it.
    duplicate_pin_silently_dropped: bool = False
    # Digits in the lock's programming (master) code; None: the lock has none.
    programming_code_length: int | None = None
    # Names of the codes the brand keeps for itself in its reserved slots.
    own_code_names: tuple[str, ...] = ()
    # Third-party apps that can take over the lock's codes: (fault value, the app's name).
    third_party_apps: tuple[tuple[str, str], ...] = ()

    def third_party_app_name(self, manager: str) -> str | None:
        return dict(self.third_party_apps).get(manager)
