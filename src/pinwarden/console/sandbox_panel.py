"""What a tester needs on a sandbox lock's page: how to try each of its brand's rules, the
faults set on it, and what is physically on the lock.

It reads the lock through the sandbox service (`sandbox_lock`, `get_faults_of`,
`list_device_codes`), the same functions the `/devices/simulate/*` routes use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pinwarden.catalog.brands import brand_profile
from pinwarden.domain.model import Capabilities
from pinwarden.planner.types import Policy
from pinwarden.service import sandbox
from pinwarden.service.deps import Deps
from pinwarden.service.devices import capabilities, get_device_row
from pinwarden.service.policy import span

Wire = dict[str, Any]


@dataclass(frozen=True)
class Facts:
    caps: Capabilities
    programming_code: str | None
    policy: Policy


def _lengths(caps: Capabilities) -> str:
    lengths = caps.supported_code_lengths
    if len(lengths) == 1:
        return str(lengths[0])
    return f"{min(lengths)} to {max(lengths)}"


def _wrong_length(caps: Capabilities) -> str:
    """A PIN the API accepts (4 to 12 digits) but this lock does not."""
    longest, shortest = max(caps.supported_code_lengths), min(caps.supported_code_lengths)
    return "1" * (longest + 1 if longest < 12 else shortest - 1)


# (applies?, how to try it): one line per rule the lock enforces, in this order.
RULES: tuple[tuple[Callable[[Facts], bool], Callable[[Facts], str]], ...] = (
    (
        lambda f: f.caps.pin_generated_by_provider,
        lambda f: (
            "The lock system makes up every PIN: create a code without a PIN; "
            "giving one is refused (cannot_specify_pin_code)."
        ),
    ),
    (
        lambda f: not f.caps.pin_generated_by_provider,
        lambda f: (
            f"PINs of {_lengths(f.caps)} digits: a PIN like {_wrong_length(f.caps)} "
            "is reported on the code as the wrong format."
        ),
    ),
    (
        lambda f: f.programming_code is not None,
        lambda f: (
            f"Programming code {f.programming_code}: a PIN starting with "
            f"{(f.programming_code or '')[:4]} is refused (unique_first_four_digits)."
        ),
    ),
    (
        lambda f: f.caps.name_max_length is not None and f.caps.name_max_length < 32,
        lambda f: (
            f"Names of {f.caps.name_min_length or 1} to {f.caps.name_max_length} "
            "characters: pinwarden shortens longer ones it makes; yours are reported."
        ),
    ),
    (
        lambda f: "start_date_in_future" in f.caps.code_constraints,
        lambda f: "A time-bound code must start in the future (start_date_in_future).",
    ),
    (
        lambda f: not f.caps.native_scheduling,
        lambda f: (
            "No schedules on the lock: a code is programmed just in time, "
            f"{span(f.policy.jit_lead.total_seconds())} before it starts, and checked by "
            "preflight until then."
        ),
    ),
    (
        lambda f: f.caps.native_scheduling,
        lambda f: (
            "Schedules on the lock: a code is programmed up to "
            f"{span(f.policy.horizon.total_seconds())} before it starts."
        ),
    ),
    (
        lambda f: f.caps.reserved_slots > 0,
        lambda f: (
            f"{f.caps.reserved_slots} of its {f.caps.slot_count} slots hold the brand's own codes."
        ),
    ),
    (
        lambda f: not f.caps.pins_readable,
        lambda f: (
            "PINs are masked when the lock is read: a PIN changed at the keypad is "
            "found from the lock's own events."
        ),
    ),
    (
        lambda f: not f.caps.supports_backup_pool,
        lambda f: "No backup code pool on this brand.",
    ),
    (
        lambda f: not f.caps.supports_unmanaged_conversion,
        lambda f: "Codes added at the keypad cannot be taken over; delete them instead.",
    ),
)


@dataclass(frozen=True)
class SandboxPanel:
    rules: list[str]
    faults: dict[str, Any]  # the faults that are set (0, false and null are not)
    codes_on_lock: list[Wire]  # slot by slot, as the simulated lock holds them now


def panel(deps: Deps, ws: str, device: Wire, policy: Policy) -> SandboxPanel | None:
    """The panel for a sandbox lock; None for a real one."""
    if device.get("device_provider", {}).get("device_provider_name") != "sandbox":
        return None
    device_id = device["device_id"]
    with deps.store.read() as conn:
        row = get_device_row(conn, ws, device_id)
        with sandbox.sandbox_lock(conn, row) as lock:
            programming_code = lock.programming_code
    facts = Facts(
        capabilities(row, brand_profile(row.brand).capabilities), programming_code, policy
    )
    faults = sandbox.get_faults_of(deps, ws, device_id)
    return SandboxPanel(
        rules=[say(facts) for applies, say in RULES if applies(facts)],
        faults={k: v for k, v in faults.items() if v not in (None, 0, False)},
        codes_on_lock=sandbox.list_device_codes(deps, ws, {"device_id": device_id})["device_codes"],
    )
