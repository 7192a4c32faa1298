"""The `pinwarden` command as an operator uses it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
from tests.support import ServerThread


def run(data_dir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PINWARDEN_DATA_DIR": str(data_dir), "COLUMNS": "200"}
    env.pop("PINWARDEN_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "pinwarden.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        check=check,
        timeout=120,
    )


def test_serve_refuses_an_unmigrated_database_and_names_the_fix(tmp_path: Path) -> None:
    result = run(tmp_path, "serve", "--port", "1", check=False)
    assert result.returncode == 2
    assert "pinwarden db upgrade" in result.stdout


def test_the_distributed_runtime_refuses_sqlite_and_says_what_it_needs(tmp_path: Path) -> None:
    run(tmp_path, "db", "upgrade")
    for args in (("worker",), ("serve", "--distributed", "--port", "1")):
        result = run(tmp_path, *args, check=False)
        assert result.returncode == 2, result.stdout + result.stderr
        assert "PINWARDEN_DATABASE_URL" in result.stdout
        assert "Traceback" not in result.stdout + result.stderr


def test_workspace_and_key_created_on_the_cli_work_over_http(tmp_path: Path) -> None:
    run(tmp_path, "db", "upgrade")
    created = json.loads(run(tmp_path, "workspace", "create", "Hosts", "--sandbox-devices").stdout)
    second = json.loads(run(tmp_path, "api-key", "create", created["workspace_id"]).stdout)
    assert second["api_key"].startswith("seam_") and second["api_key"] != created["api_key"]
    stored = (tmp_path / "pinwarden.db").read_bytes()
    assert second["api_key"].encode() not in stored  # only a hash is kept

    from pinwarden.server import build
    from pinwarden.store.store import Store

    store = Store(f"sqlite:///{tmp_path / 'pinwarden.db'}")
    runtime = build(store, embedded=False)
    with ServerThread(runtime.app) as server:
        for key in (created["api_key"], second["api_key"]):
            response = httpx.post(
                f"{server.url}/devices/list", headers={"Authorization": f"Bearer {key}"}, json={}
            )
            assert response.status_code == 200
            assert len(response.json()["devices"]) == 7
    runtime.close()


def test_policy_is_validated_and_stored(tmp_path: Path) -> None:
    run(tmp_path, "db", "upgrade")
    workspace = json.loads(run(tmp_path, "workspace", "create", "Hosts").stdout)["workspace_id"]
    shown = run(tmp_path, "workspace", "policy", workspace, "horizon=259200").stdout
    assert json.loads(shown) == {"horizon": "259200"}
    bad = run(tmp_path, "workspace", "policy", workspace, "horizn=1", check=False)
    assert bad.returncode != 0 and "horizon" in bad.stdout + bad.stderr


def test_simulate_prints_a_report(tmp_path: Path) -> None:
    result = run(
        tmp_path, "simulate", "--devices", "7", "--days", "7", "--faults", "none", "--seed", "1"
    )
    assert "on lock by start pct" in result.stdout
    assert "100.0" in result.stdout
