"""The broker connection: down, restarted mid-write, and never a PIN in a log line.

The restart test runs a Mosquitto of its own on a free loopback port, so the shared broker is
never restarted under other tests.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from pinwarden.engine.clock import SystemClock
from pinwarden.providers.base import AccountUnavailable, Outcome, SetSlot
from pinwarden.providers.registry import AccountContext, open_account
from tests.providers.zigbee2mqtt.support import NOW, account_config, broker_answers, rig, run, until


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivateBroker:
    """A Mosquitto on 127.0.0.1 only, started and stopped by the test."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.config = workdir / "mosquitto.conf"
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
        )
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.process = subprocess.Popen(
            [binary, "-c", str(self.config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    async def started(self) -> None:
        await until(lambda: broker_answers("127.0.0.1", self.port), what="the private broker")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def private_broker(tmp_path: Path, broker: str) -> Iterator[PrivateBroker]:
    if not (shutil.which("mosquitto") or Path("/usr/sbin/mosquitto").exists()):
        pytest.fail("the mosquitto binary is required for the broker restart test")
    private = PrivateBroker(tmp_path)
    private.start()
    yield private
    private.stop()


def test_a_broker_that_is_down_makes_the_account_unavailable(base_topic: str) -> None:
    async def scenario() -> None:
        url = f"mqtt://127.0.0.1:{free_port()}"
        account = open_account(
            account_config(url, base_topic, response_timeout=1.0), AccountContext(SystemClock())
        )
        await account.open(None)
        try:
            assert not account.connected
            with pytest.raises(AccountUnavailable, match="no connection to the MQTT broker"):
                await account.discover()
        finally:
            await account.close()

    run(scenario())


def test_a_broker_restart_mid_write_is_no_failure_and_the_account_reconnects(
    base_topic: str, private_broker: PrivateBroker
) -> None:
    async def scenario() -> None:
        await private_broker.started()
        lock_options = {"front_door": {"no_answer_delay": 30.0}}
        async with rig(base_topic, url=private_broker.url, lock_options=lock_options) as w:
            lock = await w.lock("front_door")
            # The lock stops answering, so the write is in flight when the broker goes.
            await w.emulator.go_offline("front_door", announce=False)
            writing = asyncio.create_task(lock.write(NOW, SetSlot(3, "4821", "Guest", None)))
            await until(lambda: w.account.feeds.feed("front_door").reading, what="the write's read")
            private_broker.stop()
            with pytest.raises(AccountUnavailable):
                await writing
            assert not w.account.connected
            private_broker.start()
            await private_broker.started()
            await until(
                lambda: w.account.connected and w.emulator.connected.is_set(),
                timeout=30,
                what="reconnection",
            )
            await w.emulator.go_online("front_door")
            result = await lock.write(NOW, SetSlot(3, "4821", "Guest", None))
            assert result.outcome is Outcome.CONFIRMED

    run(scenario())


def test_no_pin_reaches_a_log_line(base_topic: str, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        async with rig(base_topic) as w:
            lock = await w.lock("front_door")
            await lock.write(NOW, SetSlot(3, "8642", "Guest", None))
            await w.emulator.keypad_enter("front_door", "8642")
            # Zigbee2MQTT's own error for a lock that does not answer carries the PIN.
            await w.emulator.go_offline("front_door", announce=False)
            await lock.write(NOW, SetSlot(4, "9753", "Guest", None))

    with caplog.at_level(logging.DEBUG):
        run(scenario())
    lines = [r.getMessage() for r in caplog.records]
    assert any("slot 3" in line for line in lines)
    assert not [line for line in lines if "8642" in line or "9753" in line]
