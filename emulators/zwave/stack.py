"""The real Z-Wave JS stack on loopback: zwave-js's `mock-server` with mock keypad locks
(`locks.cjs`), driven by `zwave-server` (@zwave-js/server), as pinwarden's tests, benchmark and
demo run it.

    stack = ZwaveStack(locks=3)
    stack.start()          # both processes on free 127.0.0.1 ports; every lock interviewed
    stack.url              # ws://127.0.0.1:PORT, what a `zwave_js` connected account points at
    stack.keypad_enter(2, "4821")
    stack.restart_server() # zwave-server goes away and comes back on the same port
    stack.stop()

Everything listens on 127.0.0.1 only and nothing is advertised over mDNS (`preload.cjs` stubs
mock-server's responder; zwave-server runs with `--disable-dns-sd`). The npm packages come from
`npm ci` in this folder (`package-lock.json` pins them).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
MOCK_SERVER = HERE / "node_modules" / "zwave-js" / "bin" / "mock-server.cjs"
ZWAVE_SERVER = HERE / "node_modules" / "@zwave-js" / "server" / "dist-esm" / "bin" / "server.js"
INSTALL_HINT = "run `npm ci --prefix emulators/zwave` (Node 20+) to install the Z-Wave JS stack"


class StackError(RuntimeError):
    """The stack could not be started or driven; the message says why and what to run."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Starts one process in this folder, its output appended to `log`."""
    with log.open("ab") as out:
        return subprocess.Popen(
            args,
            cwd=HERE,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )


def _stop(proc: subprocess.Popen[bytes] | None, sig: int, wait: float = 10.0) -> None:
    """Ends one process we started, by its own id: `sig` first, SIGKILL if it lingers."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(wait)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(wait)


class ZwaveStack:
    """mock-server + zwave-server for `locks` mock locks (node ids 2..locks+1) of `slots` user
    code slots each."""

    def __init__(
        self,
        locks: int = 3,
        slots: int = 30,
        workdir: Path | None = None,
        ws_port: int | None = None,
    ) -> None:
        self.locks = locks
        self.slots_per_lock = slots
        self._own_workdir = workdir is None
        self.workdir = (
            Path(tempfile.mkdtemp(prefix="pinwarden-zwave-")) if workdir is None else workdir
        )
        self.serial_port = 0
        self.control_port = 0
        self.ws_port = free_port() if ws_port is None else ws_port
        self._mock: subprocess.Popen[bytes] | None = None
        self._server: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.ws_port}"

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self, timeout: float = 120.0) -> None:
        """Start both processes and wait until every lock is interviewed; StackError if not."""
        if shutil.which("node") is None:
            raise StackError(f"`node` is not on PATH; {INSTALL_HINT}")
        if not (MOCK_SERVER.exists() and ZWAVE_SERVER.exists()):
            raise StackError(f"the Z-Wave JS packages are not installed; {INSTALL_HINT}")
        deadline = time.monotonic() + timeout
        try:
            self._start_mock(deadline)
            self.start_server(deadline - time.monotonic())
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        _stop(self._server, signal.SIGTERM)
        _stop(self._mock, signal.SIGINT)
        self._server = self._mock = None
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def start_server(self, timeout: float = 60.0) -> None:
        """Start zwave-server (again) on the same port and cache; wait until the locks are ready."""
        log = self.workdir / "zwave-server.log"
        args = [
            "node",
            str(ZWAVE_SERVER),
            f"tcp://127.0.0.1:{self.serial_port}",
            "--config",
            str(HERE / "driver.cjs"),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.ws_port),
            "--disable-dns-sd",
        ]
        self._server = _spawn(args, {"ZWAVE_CACHE_DIR": str(self.workdir / "cache")}, log)
        self._wait_ready(time.monotonic() + timeout, log)

    def stop_server(self) -> None:
        """zwave-server goes away (as when Home Assistant's add-on restarts); the locks stay."""
        _stop(self._server, signal.SIGTERM)
        self._server = None

    def restart_server(self, timeout: float = 60.0) -> None:
        self.stop_server()
        self.start_server(timeout)

    def _start_mock(self, deadline: float) -> None:
        log = self.workdir / "mock-server.log"
        (self.workdir / "cache").mkdir(exist_ok=True)
        env = {
            "ZWAVE_MOCK_LOCKS": str(self.locks),
            "ZWAVE_MOCK_SLOTS": str(self.slots_per_lock),
            "ZWAVE_MOCK_CONTROL_PORT": "0",
        }
        args = ["node", "-r", str(HERE / "preload.cjs"), str(MOCK_SERVER)]
        args += ["--interface", "127.0.0.1", "--port", "0", "--config", str(HERE / "locks.cjs")]
        self._mock = _spawn(args, env, log)
        while time.monotonic() < deadline:
            text = log.read_text(errors="replace")
            serial = re.search(r"Server listening on tcp://127\.0\.0\.1:(\d+)", text)
            control = re.search(r"control channel listening on 127\.0\.0\.1:(\d+)", text)
            if serial and control:
                self.serial_port, self.control_port = int(serial[1]), int(control[1])
                return
            if self._mock.poll() is not None:
                break
            time.sleep(0.1)
        raise StackError(f"mock-server did not start; its log ends:\n{_tail(log)}")

    def _wait_ready(self, deadline: float, log: Path) -> None:
        """Until zwave-server answers on its websocket and reports every lock ready."""
        problem = "it never answered"
        while time.monotonic() < deadline:
            if self._server is None or self._server.poll() is not None:
                problem = "it exited"
                break
            if self._mock is None or self._mock.poll() is not None:
                problem = "mock-server exited"
                break
            try:
                waiting = _nodes_not_ready(self.url, timeout=max(deadline - time.monotonic(), 1.0))
            except (OSError, TimeoutError, StackError) as exc:
                problem = f"{type(exc).__name__}: {exc}"
                time.sleep(0.3)
                continue
            if not waiting:
                return
            problem = f"nodes {waiting} were still being interviewed"
        raise StackError(
            f"zwave-server was not ready ({problem}); its log ends:\n{_tail(log)}\n"
            f"mock-server's log ends:\n{_tail(self.workdir / 'mock-server.log')}"
        )

    # -- the control channel (locks.cjs) -----------------------------------------------------

    def control(self, route: str, **body: Any) -> Any:
        """POST `body` to one of the control channel's routes (see locks.cjs)."""
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.control_port}{route}",
            data=json.dumps(body).encode(),
            method="POST",
            headers={"content-type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise StackError(
                f"control {route} {body}: {exc.read().decode(errors='replace')}"
            ) from None

    def nodes(self) -> list[dict[str, Any]]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.control_port}/nodes", timeout=30) as r:
            nodes: list[dict[str, Any]] = json.loads(r.read())
            return nodes

    def nodes_of_kind(self, kind: str) -> list[int]:
        return [n["node"] for n in self.nodes() if n["kind"] == kind]

    def describe(self, node: int) -> dict[str, Any]:
        """What is physically on the lock: `slots` ({slot: PIN}), `locked`, `dead`, ..."""
        described: dict[str, Any] = self.control("/describe", node=node)
        return described

    def slots(self, node: int) -> dict[int, str]:
        return {int(slot): code for slot, code in self.describe(node)["slots"].items()}

    def reset(self, node: int) -> None:
        """Every slot empty, locked, not masked, alive, answering at once."""
        if self.describe(node)["dead"]:
            self.control("/configure", node=node, dead=False)
        self.control("/reset", node=node)

    def configure(self, node: int, **settings: Any) -> None:
        """`masked`, `dead` and `delay_ms` (how long the lock takes to answer a Get)."""
        self.control("/configure", node=node, **settings)

    def keypad_enter(self, node: int, code: str) -> dict[str, Any]:
        entered: dict[str, Any] = self.control("/keypad/enter", node=node, code=code)
        return entered

    def keypad_program(self, node: int, slot: int, code: str) -> dict[str, Any]:
        programmed: dict[str, Any] = self.control(
            "/keypad/program", node=node, slot=slot, code=code
        )
        return programmed

    def keypad_delete(self, node: int, slot: int) -> None:
        self.control("/keypad/delete", node=node, slot=slot)

    def keypad_lock(self, node: int) -> None:
        self.control("/keypad/lock", node=node)


def _nodes_not_ready(url: str, timeout: float) -> list[int]:
    """The node ids zwave-server does not yet report ready (empty: all ready). A thread of its
    own runs the check, so it works from synchronous and asynchronous callers alike."""
    result: list[list[int] | BaseException] = []

    def check() -> None:
        try:
            result.append(asyncio.run(asyncio.wait_for(_ask_ready(url), timeout)))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller below
            result.append(exc)

    thread = threading.Thread(target=check, daemon=True)
    thread.start()
    thread.join(timeout + 5)
    if not result:
        raise TimeoutError("the readiness check did not finish")
    if isinstance(result[0], BaseException):
        raise StackError(str(result[0]) or type(result[0]).__name__)
    return result[0]


async def _ask_ready(url: str) -> list[int]:
    import aiohttp
    from zwave_js_server.client import Client

    async with aiohttp.ClientSession() as session:
        client = Client(url, session)
        await client.connect()
        ready = asyncio.Event()
        listening = asyncio.create_task(client.listen(ready))
        try:
            await ready.wait()
            assert client.driver is not None
            nodes = client.driver.controller.nodes.values()
            while waiting := [n.node_id for n in nodes if not n.is_controller_node and not n.ready]:
                await asyncio.sleep(0.2)
                if listening.done():
                    break
            return waiting
        finally:
            await client.disconnect()
            listening.cancel()
