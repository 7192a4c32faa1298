"""The Z-Wave JS adapter: Z-Wave keypad locks through a Z-Wave JS server's websocket, with
zwave-js-server-python (the client Home Assistant's zwave_js integration uses).

Connected account type `zwave_js`; settings: `url` (ws://HOST:3000). See account.py for the
installation, lock.py for one lock, events.py for what locks push. The client library (with
aiohttp and pydantic) is imported only when an account is opened, so processes that never talk
to a Z-Wave JS server do not pay for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pinwarden.providers.base import Account, AccountConfig

if TYPE_CHECKING:
    from pinwarden.engine.clock import Clock


def open_zwave_js(config: AccountConfig, clock: Clock) -> Account:
    """The registry's opener for `zwave_js` accounts (ValueError on bad settings)."""
    from pinwarden.providers.zwavejs.account import ZwaveJsAccount

    return ZwaveJsAccount(config, clock)


__all__ = ["open_zwave_js"]
