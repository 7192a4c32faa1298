"""A `zwave_js` connected account is opened through the provider registry, by its type alone."""

from __future__ import annotations

import pytest

from pinwarden.engine.clock import VirtualClock
from pinwarden.providers.base import AccountConfig
from pinwarden.providers.registry import KINDS, AccountContext, open_account
from tests.providers.contract import NOW


def test_the_registry_knows_zwave_js() -> None:
    assert "zwave_js" in KINDS


def test_an_account_needs_a_websocket_url() -> None:
    for settings in ({}, {"url": "http://127.0.0.1:3000"}, {"url": 3000}):
        config = AccountConfig("acct", "zwave_js", settings)
        with pytest.raises(ValueError, match="ws://"):
            open_account(config, AccountContext(VirtualClock(NOW)))


async def test_an_account_is_not_connected_until_opened() -> None:
    config = AccountConfig("acct", "zwave_js", {"url": "ws://127.0.0.1:3000"})
    account = open_account(config, AccountContext(VirtualClock(NOW)))
    assert account.connected is False
