"""The Z-Wave JS adapter: Z-Wave keypad locks through a Z-Wave JS server's websocket, with
zwave-js-server-python (the client Home Assistant's zwave_js integration uses).

Connected account type `zwave_js`; settings: `url` (ws://HOST:3000). See account.py for the
installation, lock.py for one lock, events.py for what locks push.
"""

from __future__ import annotations

from pinwarden.engine.clock import Clock
from pinwarden.providers.base import Account, AccountConfig
from pinwarden.providers.zwavejs.account import ZwaveJsAccount
from pinwarden.providers.zwavejs.lock import ZwaveJsLock


def open_zwave_js(config: AccountConfig, clock: Clock) -> Account:
    """The registry's opener for `zwave_js` accounts (ValueError on bad settings)."""
    return ZwaveJsAccount(config, clock)


__all__ = ["ZwaveJsAccount", "ZwaveJsLock", "open_zwave_js"]
