"""Which adapter serves which kind of connected account.

The engine and the services know an adapter only by this table and the interfaces of
`providers/base.py`; they never import an adapter's classes or inspect them. A device's
`provider` column names its kind.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from pinwarden.engine.clock import Clock
from pinwarden.providers import zigbee2mqtt
from pinwarden.providers.base import Account, AccountConfig
from pinwarden.providers.sandbox.account import SandboxAccount
from pinwarden.providers.zwavejs import open_zwave_js
from pinwarden.store.store import Store


@dataclass(frozen=True)
class AccountContext:
    """What an adapter may use besides its account's own settings."""

    clock: Clock
    # The sandbox keeps its simulated locks in the store; real adapters need none.
    store: Store | None = None


# Opens an account of one kind (the adapter connects in `Account.open`, not here).
OpenAccount = Callable[[AccountConfig, AccountContext], Account]

_KINDS: dict[str, OpenAccount] = {
    "sandbox": lambda config, context: SandboxAccount(config, _store(context)),
    "zigbee2mqtt": lambda config, context: zigbee2mqtt.open_account(config, context.clock),
    "zwave_js": lambda config, context: open_zwave_js(config, context.clock),  # url: ws://HOST:3000
}


def _store(context: AccountContext) -> Store:
    if context.store is None:
        raise ValueError("sandbox accounts need the store their locks are kept in")
    return context.store


KINDS: Mapping[str, OpenAccount] = MappingProxyType(_KINDS)


def open_account(config: AccountConfig, context: AccountContext) -> Account:
    """The account for `config`; raises ValueError naming the known kinds."""
    try:
        opener = _KINDS[config.account_type]
    except KeyError:
        known = ", ".join(sorted(_KINDS))
        raise ValueError(
            f"no provider for connected accounts of kind {config.account_type!r}; known: {known}"
        ) from None
    return opener(config, context)
