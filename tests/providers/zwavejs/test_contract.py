"""The real-lock contract (tests/providers/contract.py) on a User Code v1 lock and on a v2 lock
under Supervision, through the real Z-Wave JS stack."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from emulators.zwave.stack import ZwaveStack

from tests.providers.contract import ContractTarget, LockContract
from tests.providers.zwavejs.conftest import Opened, ZwaveKeypad

pytestmark = pytest.mark.xdist_group("zwave")


class TestZwaveJsContract(LockContract):
    @pytest_asyncio.fixture(params=["v1", "v2"])
    async def contract_target(
        self, request: pytest.FixtureRequest, zwave_stack: ZwaveStack, opened: Opened
    ) -> AsyncIterator[ContractTarget]:
        node = zwave_stack.nodes_of_kind(request.param)[0]
        await asyncio.to_thread(zwave_stack.reset, node)
        lock = opened.account.lock(str(node), await opened.capabilities(node))
        yield ContractTarget(opened.account, lock, ZwaveKeypad(zwave_stack, node), opened.events)
