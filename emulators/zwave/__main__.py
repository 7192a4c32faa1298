"""Run the Z-Wave JS emulator by hand (the demo), and act at its locks' keypads.

    python -m emulators.zwave run [--locks 3] [--port 3000]   # until Ctrl-C
    python -m emulators.zwave keypad enter 2 4821             # someone types 4821 at node 2
    python -m emulators.zwave keypad program 2 5 1234         # adds 1234 in slot 5 at the lock
    python -m emulators.zwave keypad delete 2 5
    python -m emulators.zwave show 2                          # what is on node 2 now

`run` writes where it listens to `--state` (default .pinwarden/zwave-emulator.json); the other
commands read it. Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from emulators.zwave.stack import StackError, ZwaveStack, free_port

DEFAULT_STATE = Path(".pinwarden/zwave-emulator.json")


def run(args: argparse.Namespace) -> int:
    stack = ZwaveStack(locks=args.locks, ws_port=args.port or free_port())
    print(f"starting {args.locks} mock Z-Wave locks (about 4 s each to interview)...", flush=True)
    try:
        stack.start(timeout=60 + 15 * args.locks)
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    args.state.parent.mkdir(parents=True, exist_ok=True)
    args.state.write_text(json.dumps({"url": stack.url, "control_port": stack.control_port}))
    nodes = ", ".join(f"{n['node']} ({n['kind']})" for n in stack.nodes())
    print(f"Z-Wave JS server: {stack.url}  (locks: nodes {nodes})")
    print(f"connect pinwarden: pinwarden account add zwave-js {stack.url} --workspace <workspace>")
    print("act at a keypad:   python -m emulators.zwave keypad enter <node> <pin>")
    print("Ctrl-C stops it.", flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
        args.state.unlink(missing_ok=True)
    return 0


def attach(state: Path) -> ZwaveStack:
    """A handle on a running emulator (its control channel), from `run`'s state file."""
    try:
        saved: dict[str, Any] = json.loads(state.read_text())
    except OSError:
        raise SystemExit(
            f"no running emulator: {state} is missing (start one with `run`)"
        ) from None
    stack = ZwaveStack(ws_port=int(saved["url"].rsplit(":", 1)[1]))
    stack.control_port = int(saved["control_port"])
    return stack


def keypad(args: argparse.Namespace) -> int:
    stack = attach(args.state)
    if args.action == "enter":
        print(json.dumps(stack.keypad_enter(args.node, args.values[0])))
    elif args.action == "program":
        print(json.dumps(stack.keypad_program(args.node, int(args.values[0]), args.values[1])))
    else:
        stack.keypad_delete(args.node, int(args.values[0]))
    return 0


def show(args: argparse.Namespace) -> int:
    print(json.dumps(attach(args.state).describe(args.node), indent=2))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m emulators.zwave", description=__doc__)
    parser.add_argument("--state", type=Path, default=DEFAULT_STATE)
    commands = parser.add_subparsers(dest="command", required=True)
    run_cmd = commands.add_parser("run", help="start the emulator and keep it running")
    run_cmd.add_argument("--locks", type=int, default=3)
    run_cmd.add_argument(
        "--port", type=int, default=3000, help="zwave-server's websocket port (0: any free one)"
    )
    run_cmd.set_defaults(handler=run)
    keypad_cmd = commands.add_parser("keypad", help="act at a lock's keypad")
    keypad_cmd.add_argument("action", choices=["enter", "program", "delete"])
    keypad_cmd.add_argument("node", type=int)
    keypad_cmd.add_argument("values", nargs="+", help="enter: PIN; program: SLOT PIN; delete: SLOT")
    keypad_cmd.set_defaults(handler=keypad)
    show_cmd = commands.add_parser("show", help="what is on a lock now")
    show_cmd.add_argument("node", type=int)
    show_cmd.set_defaults(handler=show)
    args = parser.parse_args()
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
