"""Preflight: a dry run of programming a code against the lock's stored model.

It predicts, long before the code is due, what the lock would refuse: a PIN or name breaking
the lock's rules, a duplicate PIN, no slot free for the code's whole window.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from pinwarden.domain.codes import code_violations, name_violations
from pinwarden.domain.model import Issue, ObservedSlot
from pinwarden.planner.issues import brand_code, make, slots_full
from pinwarden.planner.types import CodeState, DeviceState


def preflight(
    device: DeviceState,
    c: CodeState,
    near: Neighbours,
    no_room: bool,
    now: datetime,
    slow_since: datetime | None = None,
) -> list[Issue]:
    """`slow_since`: the lock has held a write it acknowledged, without showing it, since
    then (another code's): this one is likely to be late too."""
    found: list[Issue] = []
    caps = device.capabilities
    pin_rules = code_violations(c.code, caps) if c.code is not None else []
    name_rules = name_violations(c.name, caps) if c.name is not None else []
    if pin_rules or name_rules:
        code = brand_code(device, "bad_format", "failed_to_set_on_device")
        found.append(
            make(
                code,
                now,
                "The lock would refuse this code: " + "; ".join(pin_rules + name_rules) + ".",
                format_rule=True,
                # Only a PIN that breaks the lock's rules is worth a new PIN (a name is not).
                pin_rule=bool(pin_rules),
            )
        )
    duplicate = _duplicate(c, near)
    if duplicate is not None:
        message, extra = duplicate
        found.append(make("duplicate_code_on_device", now, message, **extra))
    if no_room:
        found.append(slots_full(device, now))
    if slow_since is not None:
        since = slow_since.strftime("%Y-%m-%d %H:%M UTC")
        found.append(
            make(
                brand_code(device, "programming_delay", "delay_in_setting_on_device"),
                now,
                f"The lock accepted another code at {since} and does not show it yet, so this "
                "code may be late too. pinwarden programs it as soon as it can.",
                predicted=True,
            )
        )
    gave_up = device.brand_errors.get("repeated_set_failures")
    if device.third_party_detected and gave_up:
        # Predicted, not waited for: with another app fighting over the lock's codes every
        # write fails, so say so now instead of after the retries. Writes still go (up to the
        # policy's attempts; then POST /access_codes/retry), so the moment the app is disabled
        # a write lands and this clears: a name on the lock is only a hint.
        found.append(
            make(
                gave_up,
                now,
                "Another app (RBoy Apps or similar) is managing this lock's codes, so "
                "setting this code will keep failing. Disable that app for this lock.",
                third_party_manager_detected=True,
            )
        )
    return found


@dataclass(frozen=True)
class Neighbours:
    """Every code on a lock by PIN, built once per plan so preflight is linear."""

    by_pin: Mapping[str, tuple[CodeState, ...]]
    stray: Mapping[str, tuple[int, ...]]  # PIN -> observed slots no known code explains

    @classmethod
    def of(cls, codes: Sequence[CodeState], obs: Mapping[int, ObservedSlot]) -> Neighbours:
        by_pin: dict[str, list[CodeState]] = defaultdict(list)
        for code in codes:
            if code.code is not None:
                by_pin[code.code].append(code)
        known = {code.slot for code in codes if code.slot is not None}
        stray: dict[str, list[int]] = defaultdict(list)
        for slot, seen in obs.items():
            if slot not in known and seen.code is not None:
                stray[seen.code].append(slot)
        return cls(
            {k: tuple(v) for k, v in by_pin.items()}, {k: tuple(v) for k, v in stray.items()}
        )


def _duplicate(c: CodeState, near: Neighbours) -> tuple[str, dict[str, str]] | None:
    """The message and wire fields naming the other code with this PIN, if any."""
    if c.code is None:
        return None
    for other in near.by_pin.get(c.code, ()):
        if other.access_code_id == c.access_code_id or other.deleting:
            continue
        if not other.is_managed:
            return (
                f"An unmanaged code in slot {other.slot} already has this PIN; delete it "
                "or convert it to a managed code.",
                {"unmanaged_access_code_id": other.access_code_id},
            )
        if other.window.overlaps(c.window) and other.slot is not None and other.slot != c.slot:
            return (
                "Another managed code on this lock has this PIN at the same time.",
                {"managed_access_code_id": other.access_code_id},
            )
    for slot in near.stray.get(c.code, ()):
        if slot != c.slot:
            return f"A code in slot {slot} already has this PIN.", {}
    return None
