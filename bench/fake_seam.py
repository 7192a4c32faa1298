"""Seam's own fake server, `@seamapi/fake-seam-connect`, as the yardstick for bench/api.py.

The fake is Seam's in-memory Node server (it loses everything on restart). It is installed with
npm into a cache folder outside the repository (`$PINWARDEN_BENCH_CACHE`, by default
`~/.cache/pinwarden-bench`) the first time it is needed, and started with `--seed`, which gives
it a workspace, an API key and a few locks.

Two of its quirks shape how the benchmark uses it (both read in its bundled source,
`dist/chunk-*.js`, `src/pages/api/access_codes/list.ts`):

- `/access_codes/list` ignores `limit` and, through an operator-precedence slip, `device_id`:
  it answers with every non-backup code it holds. So a "list of 500" on the fake is measured on
  a second fake instance that holds exactly 500 codes: the same 500 codes on the wire, and the
  fake filters 500 codes instead of 5,000 (in its favour).
- Its duplicate check is a PIN on the same lock, whatever the times.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from api import stop, wait_until_healthy

PACKAGE = "@seamapi/fake-seam-connect"
VERSION = "1.86.0"
# What `--seed` creates (src/lib/database/seed.ts).
API_KEY = "seam_apikey1_token"
LOCKS = ("august_device_1", "august_device_2", "schlage_device_id")


def cache_dir() -> Path:
    root = os.environ.get("PINWARDEN_BENCH_CACHE") or Path.home() / ".cache" / "pinwarden-bench"
    return Path(root) / f"fake-seam-connect-{VERSION}"


def install() -> Path:
    """The fake's server script, installed with npm on first use."""
    folder = cache_dir()
    script = folder / "node_modules" / "@seamapi" / "fake-seam-connect" / "dist" / "server.js"
    if script.exists():
        return script
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("--vs-fake needs Node.js and npm on PATH (the fake is a Node server)")
    folder.mkdir(parents=True, exist_ok=True)
    print(f"installing {PACKAGE}@{VERSION} into {folder}", flush=True)
    subprocess.run(
        [npm, "install", "--prefix", str(folder), "--no-audit", "--no-fund", "--silent"]
        + [f"{PACKAGE}@{VERSION}"],
        check=True,
    )
    if not script.exists():
        raise SystemExit(f"npm installed {PACKAGE} but {script} is missing")
    return script


class FakeServer:
    """One seeded fake on a loopback port, as a child process."""

    def __init__(self, script: Path, port: int, log_path: Path) -> None:
        self.script = script
        self.port = port
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        node = shutil.which("node") or "node"
        env = {**os.environ, "PORT": str(self.port)}
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [node, str(self.script), "--seed"], stdout=log, stderr=subprocess.STDOUT, env=env
            )
        wait_until_healthy(self.url, self.proc, timeout, self.log_path)

    def stop(self) -> None:
        stop(self.proc)
