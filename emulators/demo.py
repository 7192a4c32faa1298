"""`make demo-zwave` / `make demo-zigbee`: pinwarden managing emulated real-protocol locks.

    python -m emulators.demo zwave  [--locks 3] [--port 8080] [--data-dir .pinwarden-zwave]
    python -m emulators.demo zigbee [--locks 3] [--broker mqtt://127.0.0.1:1883]

It starts the installation (the real Z-Wave JS stack from npm with mock keypad locks, or the
Zigbee2MQTT emulator on an MQTT broker), then `pinwarden serve --demo` on the system clock,
connects the installation to the demo workspace as a connected account (exactly as
`POST /connected_accounts/create` does), waits until pinwarden has found its locks, and prints
how to use them: the API key and console URL, the locks' ids, and how to act at a keypad.
Ctrl-C stops everything. Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from emulators.zwave.stack import StackError, ZwaveStack, free_port


def _start_zwave(locks: int) -> tuple[Any, dict[str, Any], list[str]]:
    stack = ZwaveStack(locks=locks, ws_port=free_port())
    print(f"starting {locks} mock Z-Wave locks (a few seconds each to interview)...", flush=True)
    stack.start(timeout=60 + 15 * locks)
    state = Path(".pinwarden/zwave-emulator.json")
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text(json.dumps({"url": stack.url, "control_port": stack.control_port}))
    nodes = [str(n["node"]) for n in stack.nodes()]
    hints = [
        f"act at a keypad:  .venv/bin/python -m emulators.zwave keypad enter {nodes[0]} 4821",
        f"add a code there: .venv/bin/python -m emulators.zwave keypad program {nodes[0]} 5 1234",
        f"see the lock:     .venv/bin/python -m emulators.zwave show {nodes[0]}",
    ]
    return stack, {"account_type": "zwave_js", "url": stack.url}, hints


def _start_zigbee(locks: int, broker: str) -> tuple[Any, dict[str, Any], list[str]]:
    base = "pinwarden-demo"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pinwarden.emulators.zigbee2mqtt",
            "--broker",
            broker,
            "--base-topic",
            base,
            "--locks",
            str(locks),
        ],
    )
    time.sleep(1.0)
    if process.poll() is not None:
        raise StackError(f"the Zigbee2MQTT emulator could not reach a broker at {broker}")
    control = f"{base}_emulator/control"
    hints = [
        "act at a keypad (mosquitto_pub from Debian's mosquitto-clients):",
        f"  mosquitto_pub -t {control} "
        '-m \'{"do": "keypad_enter", "lock": "front_door", "pin_code": "4821"}\'',
    ]
    account = {"account_type": "zigbee2mqtt", "url": broker, "base_topic": base}
    return process, account, hints


def _serve(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "PINWARDEN_DATABASE_URL"}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pinwarden.cli",
            "serve",
            "--demo",
            "--data-dir",
            str(data_dir),
            "--port",
            str(port),
        ],
        env=env,
    )


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m emulators.demo", description=__doc__)
    parser.add_argument("kind", choices=("zwave", "zigbee"))
    parser.add_argument("--locks", type=int, default=3)
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--broker", default="mqtt://127.0.0.1:1883")
    args = parser.parse_args()
    data_dir = args.data_dir or Path(f".pinwarden-{args.kind}")
    try:
        if args.kind == "zwave":
            stack, account, hints = _start_zwave(args.locks)
        else:
            stack, account, hints = _start_zigbee(args.locks, args.broker)
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    server = _serve(data_dir, args.port)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        base = f"http://127.0.0.1:{args.port}"
        for _ in range(600):
            if server.poll() is not None:
                print("error: pinwarden serve stopped (see above)", file=sys.stderr)
                return 1
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        demo = json.loads((data_dir / "demo.json").read_text())
        headers = {"Authorization": f"Bearer {demo['api_key']}"}
        with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
            listed = http.post("/connected_accounts/list").json()["connected_accounts"]
            found = [a for a in listed if a["account_type"] == account["account_type"]]
            account_id = (
                found[0]["connected_account_id"]
                if found
                else http.post("/connected_accounts/create", json=account).json()[
                    "connected_account"
                ]["connected_account_id"]
            )
            locks: list[dict[str, Any]] = []
            for _ in range(120):
                locks = http.post(
                    "/devices/list", json={"connected_account_id": account_id}
                ).json()["devices"]
                if len(locks) >= args.locks:
                    break
                time.sleep(0.5)
        print("\npinwarden manages these locks (codes go on them just in time, 60 min ahead):")
        for lock in locks:
            print(f"  {lock['display_name']:<20} device_id {lock['device_id']}")
        print(f"\nAPI key {demo['api_key']}  console {demo['console_url']}")
        print(*hints, sep="\n")
        print("Ctrl-C stops pinwarden and the emulator.", flush=True)
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.terminate()
        server.wait(30)
        if isinstance(stack, ZwaveStack):
            stack.stop()
        else:
            stack.terminate()
            stack.wait(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
