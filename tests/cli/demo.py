"""`pinwarden serve --demo --virtual-clock` in a subprocess, as `make demo` runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from tests.support import free_port


class Demo:
    """The demo server on a free port, its banner, and an API client with its key."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.lines: list[str] = []
        self._listening = threading.Event()

    def __enter__(self) -> Demo:
        env = {**os.environ, "COLUMNS": "200"}
        env.pop("PINWARDEN_DATABASE_URL", None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pinwarden.cli", "serve", "--demo", "--virtual-clock"]
            + ["--data-dir", str(self.data_dir), "--port", str(self.port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + 120
        while not self._listening.wait(0.2):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.__exit__()
                raise RuntimeError("the demo did not start:\n" + "\n".join(self.lines))
        self._wait_for_health(deadline)
        return self

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            if line.startswith("Listening on"):
                self._listening.set()

    def _wait_for_health(self, deadline: float) -> None:
        while True:
            try:
                if httpx.get(f"{self.url}/health", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the demo never answered /health")
            time.sleep(0.2)

    @property
    def banner(self) -> str:
        return "\n".join(self.lines)

    @property
    def api_key(self) -> str:
        key: str = json.loads((self.data_dir / "demo.json").read_text())["api_key"]
        return key

    def post(self, path: str, **body: Any) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.api_key}"}
        response = httpx.post(f"{self.url}{path}", json=body, headers=headers, timeout=60)
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
