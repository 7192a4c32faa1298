"""Which adapter serves which kind of connected account.

The engine and the services know an adapter only by this table and the interfaces of
`providers/base.py`; they never import an adapter's module or inspect its classes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from pinwarden.engine.clock import Clock
from pinwarden.providers.base import Account, AccountConfig
from pinwarden.providers.zwavejs import open_zwave_js

# Opens an account of one type (the adapter connects in `Account.open`, not here).
OpenAccount = Callable[[AccountConfig, Clock], Account]

# Filled in as adapters are added: `sandbox`, `zwave_js`, `zigbee2mqtt`.
_KINDS: dict[str, OpenAccount] = {
    "zwave_js": open_zwave_js,  # settings: url (ws://HOST:3000)
}

KINDS: Mapping[str, OpenAccount] = MappingProxyType(_KINDS)


def open_account(config: AccountConfig, clock: Clock) -> Account:
    """The account for `config`; raises ValueError naming the known account types."""
    try:
        opener = _KINDS[config.account_type]
    except KeyError:
        known = ", ".join(sorted(_KINDS)) or "none"
        raise ValueError(
            f"no provider for connected account type {config.account_type!r}; known: {known}"
        ) from None
    return opener(config, clock)
