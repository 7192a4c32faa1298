"""The sandbox's simulated faults: their names, defaults and accepted values.

Names are public interface (shared/spec/sandbox-contract.md, `/devices/simulate/set_faults`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from pinwarden.catalog.brands import BrandProfile
from pinwarden.providers.sandbox.quirks import SandboxQuirks

FAULT_DEFAULTS: Mapping[str, Any] = MappingProxyType(
    {
        "programming_delay_seconds": 0,
        "fail_next_sets": 0,
        "fail_next_removes": 0,
        "third_party_manager": None,
        "unconfirmable_sets": False,
        "unconfirmable_removes": False,
        "site_user_limit": None,
        "slot_capacity": None,
        # A busy lock drops a command that comes sooner than its brand's minimum interval
        # (`min_command_interval_seconds`) after the one before, as Z-Wave locks do.
        "drop_rushed_commands": False,
    }
)


def _delay(name: str, value: object) -> Any:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not (value == -1 or value >= 0)
    ):
        raise ValueError(f"{name} must be a number of seconds >= 0, or -1 for never; got {value!r}")
    return value


def _count(name: str, value: object) -> Any:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a whole number >= 0; got {value!r}")
    return value


def _flag(name: str, value: object) -> Any:
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false; got {value!r}")
    return value


def _optional_count(minimum: int) -> Callable[[str, object], Any]:
    def check(name: str, value: object) -> Any:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError(f"{name} must be null or a whole number >= {minimum}; got {value!r}")
        return value

    return check


_CHECKS: Mapping[str, Callable[[str, object], Any]] = MappingProxyType(
    {
        "programming_delay_seconds": _delay,
        "fail_next_sets": _count,
        "fail_next_removes": _count,
        "unconfirmable_sets": _flag,
        "unconfirmable_removes": _flag,
        "site_user_limit": _optional_count(0),
        "slot_capacity": _optional_count(1),
        "drop_rushed_commands": _flag,
    }
)


def _third_party_manager(value: object, profile: BrandProfile, quirks: SandboxQuirks) -> Any:
    if value is None:
        return None
    known = [manager for manager, _ in quirks.third_party_apps]
    if not known:
        raise ValueError(f"third_party_manager is not simulated on {profile.brand} locks")
    if value not in known:
        raise ValueError(f"third_party_manager must be null or one of {known}; got {value!r}")
    return value


def validated_faults(
    updates: Mapping[str, object], profile: BrandProfile, quirks: SandboxQuirks
) -> dict[str, Any]:
    """The updates, checked; raises ValueError naming the first bad fault. All or nothing."""
    checked: dict[str, Any] = {}
    for name, value in updates.items():
        if name not in FAULT_DEFAULTS:
            raise ValueError(f"unknown fault {name!r}; known faults: {', '.join(FAULT_DEFAULTS)}")
        if name == "third_party_manager":
            checked[name] = _third_party_manager(value, profile, quirks)
            continue
        if (
            name == "site_user_limit"
            and value is not None
            and not profile.errors.subscription_limit
        ):
            raise ValueError(f"site_user_limit does not apply to {profile.brand} locks")
        checked[name] = _CHECKS[name](name, value)
    return checked
