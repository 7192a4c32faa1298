"""`python -m pinwarden.emulators.zigbee2mqtt --broker mqtt://127.0.0.1:1883 --locks 3`

Runs until interrupted. The locks are named `front_door`, `back_door`, `garage_door`, then
`lock_4`, ...; their models take turns (Kwikset 99100-045, Schlage BE468, Yale YRD226HA2619).
Act at a keypad by publishing to `<base>_emulator/control`, for example:

    mosquitto_pub -t zigbee2mqtt_emulator/control \\
      -m '{"do": "keypad_enter", "lock": "front_door", "pin_code": "4821"}'
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal

from pinwarden.emulators.zigbee2mqtt.bridge import CONTROL_COMMANDS, Zigbee2MQTTEmulator
from pinwarden.emulators.zigbee2mqtt.models import MODELS

NAMES = ("front_door", "back_door", "garage_door")


def lock_name(index: int) -> str:
    return NAMES[index] if index < len(NAMES) else f"lock_{index + 1}"


def build(args: argparse.Namespace) -> Zigbee2MQTTEmulator:
    emulator = Zigbee2MQTTEmulator(args.broker, args.base_topic)
    models = list(MODELS)
    for index in range(args.locks):
        emulator.add(models[index % len(models)], lock_name(index), expose_pin=not args.mask_pins)
    return emulator


async def serve(args: argparse.Namespace) -> None:
    emulator = build(args)
    stopping = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopping.set)
    await emulator.start(timeout=args.connect_timeout)
    print(
        f"Zigbee2MQTT emulator on {args.broker}, base topic {emulator.base!r}: "
        f"{', '.join(emulator.locks)}; control topic {emulator.control_topic!r} "
        f"(commands: {', '.join(CONTROL_COMMANDS)})",
        flush=True,
    )
    try:
        await stopping.wait()
    finally:
        await emulator.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pinwarden.emulators.zigbee2mqtt")
    parser.add_argument("--broker", default="mqtt://127.0.0.1:1883")
    parser.add_argument("--base-topic", default="zigbee2mqtt")
    parser.add_argument("--locks", type=int, default=3)
    parser.add_argument("--mask-pins", action="store_true", help="expose_pin: false on every lock")
    parser.add_argument("--connect-timeout", type=float, default=10.0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        asyncio.run(serve(args))
    except TimeoutError:
        print(f"error: no MQTT broker answered at {args.broker}")
        return 1
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        raise SystemExit(main())
