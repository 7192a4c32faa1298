"""Async tests for the real-lock adapters: each `async def test_...` runs on an event loop of its
own, in a thread of its own.

Not pytest-asyncio: it runs its loop on the main thread, where the browser suite's Playwright
(sync API) keeps a loop running for the whole session, and one xdist worker may run both. So the
fixtures here are synchronous; what needs the loop (an opened account) is an async context
manager the test enters itself.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Coroutine
from typing import Any

import pytest

# A test that has not finished by then is stuck: fail it rather than hang the suite.
TEST_TIMEOUT = 600.0


def run_in_own_loop(coroutine: Coroutine[Any, Any, Any]) -> None:
    """Runs `coroutine` to its end with `asyncio.run` in a new thread; re-raises what it raised."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            asyncio.run(asyncio.wait_for(coroutine, TEST_TIMEOUT))
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - handed back to the test's thread
            outcome.append(exc)

    thread = threading.Thread(target=run, name="async-test", daemon=True)
    thread.start()
    thread.join(TEST_TIMEOUT + 30)
    if not outcome:
        pytest.fail(f"the test's event loop did not stop within {TEST_TIMEOUT:g} s")
    if outcome[0] is not None:
        raise outcome[0]


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    arguments = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    run_in_own_loop(pyfuncitem.obj(**arguments))
    return True
