"""The emulator publishes what Zigbee2MQTT publishes: its messages on the real broker equal the
sample payloads in tests/fixtures/zigbee2mqtt/ (SOURCES.md says where each comes from)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiomqtt

from pinwarden.emulators.zigbee2mqtt import Zigbee2MQTTEmulator
from tests.providers.zigbee2mqtt.support import (
    BROKER,
    BROKER_HOST,
    BROKER_PORT,
    EmulatorKeypad,
    run,
    spy,
    until,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "zigbee2mqtt"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


async def started(base_topic: str, **options: Any) -> Zigbee2MQTTEmulator:
    emulator = Zigbee2MQTTEmulator(BROKER, base_topic, clear_on_stop=True)
    emulator.add("99100-045", "front_door", **options)
    await emulator.start()
    return emulator


async def send(topic: str, payload: Any) -> None:
    async with aiomqtt.Client(BROKER_HOST, BROKER_PORT) as client:
        await client.publish(topic, json.dumps(payload))


def test_bridge_topics_equal_zigbee2mqtts(base_topic: str) -> None:
    async def scenario() -> None:
        async with spy(base_topic) as seen:
            emulator = await started(base_topic)
            try:
                await until(lambda: seen.on(f"{base_topic}/front_door/availability"))
                assert seen.on(f"{base_topic}/bridge/state")[0] == fixture(
                    "bridge_state_online.json"
                )
                devices = seen.on(f"{base_topic}/bridge/devices")[0]
                assert devices[0]["type"] == "Coordinator" and "definition" not in devices[0]
                assert devices[1] == fixture("bridge_devices_kwikset_99100-045.json")
                assert seen.on(f"{base_topic}/front_door/availability") == [
                    fixture("availability_online.json")
                ]
            finally:
                await emulator.stop()

    run(scenario())


def test_pin_reads_events_and_reports_equal_zigbee2mqtts(base_topic: str) -> None:
    async def scenario() -> None:
        state = f"{base_topic}/front_door"
        async with spy(base_topic) as seen:
            emulator = await started(base_topic)
            try:
                await emulator.keypad_program("front_door", 5, "2222")
                await until(
                    lambda: fixture("state_programming_event_keypad.json") in seen.on(state)
                )
                await emulator.keypad_delete("front_door", 5)
                await send(
                    f"{state}/set",
                    {"pin_code": {"user": 3, "user_enabled": True, "pin_code": "4821"}},
                )
                await send(f"{state}/get", {"pin_code": {"user": 3}})
                await until(lambda: fixture("state_pin_code_response.json") in seen.on(state))
                await emulator.keypad_enter("front_door", "4821")
                await until(lambda: fixture("state_lock_report_unlocked.json") in seen.on(state))
                assert fixture("state_operation_event_keypad_unlock.json") in seen.on(state)
                await send(f"{state}/set", {"state": "LOCK"})
                await send(f"{state}/set", {"pin_code": {"user": 3, "pin_code": None}})
                await emulator.set_expose_pin("front_door", False)
                await send(f"{state}/get", {"pin_code": {"user": 3}})
                await until(
                    lambda: fixture("state_cleared_slot_keeps_old_pin.json") in seen.on(state)
                )
                await emulator.go_offline("front_door")
                await until(
                    lambda: fixture("availability_offline.json") in seen.on(f"{state}/availability")
                )
            finally:
                await emulator.stop()

    run(scenario())


def test_a_masked_read_equals_zigbee2mqtts(base_topic: str) -> None:
    async def scenario() -> None:
        state = f"{base_topic}/front_door"
        async with spy(base_topic) as seen:
            emulator = await started(base_topic, expose_pin=False)
            try:
                await emulator.keypad_program("front_door", 3, "4821")
                await send(f"{state}/get", {"pin_code": {"user": 3}})
                await until(
                    lambda: fixture("state_pin_code_response_masked.json") in seen.on(state)
                )
            finally:
                await emulator.stop()

    run(scenario())


def test_refusals_are_zigbee2mqtts_errors_and_nothing_reaches_the_lock(base_topic: str) -> None:
    async def scenario() -> None:
        state, logging_topic = f"{base_topic}/front_door", f"{base_topic}/bridge/logging"
        async with spy(base_topic) as seen:
            emulator = await started(base_topic)
            try:
                await send(f"{state}/set", {"pin_code": {"user": 30, "pin_code": "1234"}})
                await send(f"{state}/set", {"pin_code": {"user": 3, "pin_code": "12ab"}})
                await send(f"{state}/set", {"user_status": {"user": 3, "status": "disabled"}})
                expected = [
                    fixture("bridge_logging_user_out_of_range.json"),
                    fixture("bridge_logging_pin_not_a_number.json"),
                    fixture("bridge_logging_no_converter.json"),
                ]
                await until(lambda: seen.on(logging_topic) == expected, what="three refusals")
                assert emulator.lock("front_door").physical_codes() == {}
            finally:
                await emulator.stop()

    run(scenario())


def test_the_control_topic_acts_at_the_keypad(base_topic: str) -> None:
    async def scenario() -> None:
        emulator = await started(base_topic)
        try:
            control = f"{base_topic}_emulator/control"
            await send(
                control,
                {"do": "keypad_program", "lock": "front_door", "user": 4, "pin_code": "7070"},
            )
            await until(lambda: emulator.lock("front_door").physical_codes() == {4: "7070"})
            async with spy(base_topic) as seen:
                await send(control, {"do": "open_sesame"})
                await until(
                    lambda: seen.on(f"{base_topic}_emulator/error"),
                    what="an error for a bad command",
                )
        finally:
            await emulator.stop()

    run(scenario())


def test_the_emulator_runs_as_a_command(base_topic: str) -> None:
    """What `make demo-zigbee` runs: three locks on the broker until it is stopped."""

    async def scenario() -> None:
        async with spy(base_topic) as seen:
            command = [sys.executable, "-m", "pinwarden.emulators.zigbee2mqtt"]
            command += ["--broker", BROKER, "--base-topic", base_topic, "--locks", "3"]
            process = subprocess.Popen(
                command, stdout=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"}
            )
            try:
                assert process.stdout is not None
                banner = await asyncio.to_thread(process.stdout.readline)
                assert b"front_door, back_door, garage_door" in banner
                await until(lambda: seen.on(f"{base_topic}/bridge/devices"), what="bridge/devices")
                names = [d["friendly_name"] for d in seen.on(f"{base_topic}/bridge/devices")[0][1:]]
                assert names == ["front_door", "back_door", "garage_door"]
            finally:
                process.terminate()
                assert await asyncio.to_thread(process.wait, 10) == 0
            # Stopped, it says so as Zigbee2MQTT does.
            await until(lambda: {"state": "offline"} in seen.on(f"{base_topic}/bridge/state"))
            await _clear_retained(base_topic, seen.messages)

    run(scenario())


async def _clear_retained(base_topic: str, messages: list[tuple[str, Any]]) -> None:
    """The command leaves its retained topics, as Zigbee2MQTT does; the test removes them."""
    async with aiomqtt.Client(BROKER_HOST, BROKER_PORT) as client:
        for topic in {t for t, _ in messages if t.startswith(base_topic + "/")}:
            await client.publish(topic, b"", retain=True)


def test_the_keypad_of_the_contract_acts_on_the_emulated_lock(base_topic: str) -> None:
    async def scenario() -> None:
        emulator = await started(base_topic)
        try:
            keypad = EmulatorKeypad(emulator, "front_door")
            await keypad.program(3, "4821")
            await keypad.program(4, "5555")
            await keypad.delete(4)
            await keypad.enter("4821")
            assert await keypad.slots() == {3: "4821"}
            assert not emulator.lock("front_door").locked
        finally:
            await emulator.stop()

    run(scenario())
