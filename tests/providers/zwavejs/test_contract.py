"""The real-lock contract (tests/providers/contract.py) on a User Code v1 lock and on a v2 lock
under Supervision, through the real Z-Wave JS stack."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

import pytest
from emulators.zwave.stack import ZwaveStack

from tests.providers.contract import ContractTarget, LockContract
from tests.providers.zwavejs.conftest import zwave_contract_target

pytestmark = pytest.mark.xdist_group("zwave")


class TestZwaveJsContract(LockContract):
    @pytest.fixture(params=["v1", "v2"], name="contract_target")
    def target(
        self, request: pytest.FixtureRequest, zwave_stack: ZwaveStack
    ) -> AbstractAsyncContextManager[ContractTarget]:
        return zwave_contract_target(zwave_stack, request.param)
