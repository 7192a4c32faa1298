"""The `pinwarden` command as an operator uses it: every wrong input is one line and a non-zero
exit, never a traceback."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from tests.cli.demo import Demo
from tests.support import ServerThread, client, free_port

from pinwarden.cli import main
from pinwarden.store.store import Store


def run(
    data_dir: Path, *args: str, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "PINWARDEN_DATA_DIR": str(data_dir), "COLUMNS": "200"}
    full.pop("PINWARDEN_DATABASE_URL", None)
    full.pop("PINWARDEN_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "pinwarden.cli", *args],
        capture_output=True,
        text=True,
        env={**full, **(env or {})},
        check=check,
        timeout=120,
    )


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Result]:
    """`pinwarden ARGS` run in this process through `main()`, as the console script runs it
    (a subprocess per call would spend most of the suite's time starting Python)."""

    def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
        with monkeypatch.context() as patch:
            patch.setenv("PINWARDEN_DATA_DIR", str(tmp_path))
            patch.delenv("PINWARDEN_DATABASE_URL", raising=False)
            patch.delenv("PINWARDEN_DEBUG", raising=False)
            for key, value in (env or {}).items():
                patch.setenv(key, value)
            patch.setattr(sys, "argv", ["pinwarden", *args])
            capsys.readouterr()
            try:
                main()
                code = 0
            except SystemExit as exit_:
                code = exit_.code if isinstance(exit_.code, int) else 1
            out, err = capsys.readouterr()
        return Result(code, out, err)

    return invoke


def one_line_error(result: Result | subprocess.CompletedProcess[str], *words: str) -> str:
    """The single `pinwarden: ...` line a refused command prints on stderr."""
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("pinwarden: "), lines[0]
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


Cli = Callable[..., Result]


@pytest.fixture
def workspace(cli: Cli) -> dict[str, str]:
    cli("db", "upgrade")
    created: dict[str, str] = json.loads(
        cli("workspace", "create", "Hosts", "--sandbox-devices").stdout
    )
    return created


def test_serve_refuses_an_unmigrated_database_and_names_the_fix(tmp_path: Path) -> None:
    result = run(tmp_path, "serve", "--port", str(free_port()), check=False)
    assert result.returncode == 2
    one_line_error(result, "pinwarden db upgrade")


def test_the_distributed_runtime_refuses_sqlite_and_says_what_it_needs(cli: Cli) -> None:
    cli("db", "upgrade")
    for args in (("worker",), ("serve", "--distributed", "--port", str(free_port()))):
        result = cli(*args)
        assert result.returncode == 2
        one_line_error(result, "PINWARDEN_DATABASE_URL")


def test_workspace_and_key_created_on_the_cli_work_over_http(
    cli: Cli, tmp_path: Path, workspace: dict[str, str]
) -> None:
    second = json.loads(cli("api-key", "create", workspace["workspace_id"]).stdout)
    assert second["api_key"].startswith("seam_") and second["api_key"] != workspace["api_key"]
    stored = (tmp_path / "pinwarden.db").read_bytes()
    assert second["api_key"].encode() not in stored  # only a hash is kept

    from pinwarden.server import build

    runtime = build(Store(f"sqlite:///{tmp_path / 'pinwarden.db'}"), embedded=False)
    with ServerThread(runtime.app) as server:
        for key in (workspace["api_key"], second["api_key"]):
            with client(server, key) as http:
                response = http.post("/devices/list", json={})
            assert response.status_code == 200
            assert len(response.json()["devices"]) == 7
    runtime.close()


def test_workspaces_keys_and_locks_are_listed(cli: Cli, workspace: dict[str, str]) -> None:
    ws = workspace["workspace_id"]
    listed = cli("workspace", "list").stdout
    assert ws in listed and "Hosts" in listed
    [row] = json.loads(cli("workspace", "list", "--json").stdout)
    assert (row["devices"], row["active_api_keys"]) == (7, 1)

    keys = cli("api-key", "list", ws).stdout
    assert "default" in keys and workspace["api_key"][:14] in keys
    assert workspace["api_key"] not in keys, "a key is never shown again"

    locks = json.loads(cli("device", "list", ws, "--json").stdout)
    assert sorted(d["display_name"] for d in locks)[0] == "August Front Door 1"
    table = cli("device", "list").stdout
    assert all(d["device_id"] in table for d in locks), "ids are printed whole"


def test_a_revoked_key_is_refused_by_a_running_server(
    tmp_path: Path, workspace: dict[str, str]
) -> None:
    from pinwarden.server import build

    ws = workspace["workspace_id"]
    [key] = json.loads(run(tmp_path, "api-key", "list", ws, "--json").stdout)
    runtime = build(Store(f"sqlite:///{tmp_path / 'pinwarden.db'}"), embedded=False)
    with ServerThread(runtime.app) as server, client(server, workspace["api_key"]) as http:
        assert http.post("/devices/list", json={}).status_code == 200  # cached by the server

        revoked = run(tmp_path, "api-key", "revoke", key["api_key_id"])  # another process
        assert "revoked default" in revoked.stdout

        # The server's key cache may keep the key for up to 5 s (service/deps.py TtlCache).
        deadline = time.monotonic() + 60
        while http.post("/devices/list", json={}).status_code != 401:
            assert time.monotonic() < deadline, "the revoked key still works after 60 s"
            time.sleep(0.2)
    runtime.close()
    [listed] = json.loads(run(tmp_path, "api-key", "list", ws, "--json").stdout)
    assert listed["revoked_at"] is not None


def test_policy_shows_effective_values_and_refuses_bad_ones(
    cli: Cli, workspace: dict[str, str]
) -> None:
    ws = workspace["workspace_id"]
    shown = json.loads(cli("workspace", "policy", ws, "horizon=4d", "--json").stdout)
    assert shown["overrides"] == {"horizon": 345600}
    assert shown["effective"]["horizon"] == 345600
    assert shown["effective"]["deadline"] == 259200, "defaults are shown too"

    for bad, words in (
        ("horizon=abc", ("horizon", "duration")),
        ("horizon=-5", ("horizon", "1 h", "90 d")),
        ("deadline=1000000000", ("deadline", "30 d")),
        ("auto_pull_backup_on_failure=maybe", ("true or false",)),
        ("breaker_threshold=2.5", ("whole number",)),
        ("horizn=1", ("not a policy key", "horizon")),
        ("retry_base=3600", ("retry_base", "retry_max")),
    ):
        one_line_error(cli("workspace", "policy", ws, bad), *words)
    kept = json.loads(cli("workspace", "policy", ws, "--json").stdout)
    assert kept["overrides"] == {"horizon": 345600}, "a refused change stores nothing"

    device = json.loads(cli("device", "list", ws, "--json").stdout)[0]["device_id"]
    lock = cli("device", "policy", device, "deadline=2d").stdout
    assert "deadline" in lock and "2 d" in lock and "lock" in lock
    assert "4 d" in lock and "workspace" in lock, "the workspace's horizon shows through"
    unset = json.loads(cli("workspace", "policy", ws, "--unset", "horizon", "--json").stdout)
    assert unset["overrides"] == {} and unset["effective"]["horizon"] == 9 * 86400


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("api-key", "create", "no-such-workspace"), ("no workspace",)),
        (("api-key", "revoke", "no-such-key"), ("no API key",)),
        (("device", "policy", "no-such-lock", "horizon=1d"), ("no lock",)),
        (("simulate", "--faults", "bogus"), ("--faults", "harsh")),
        (("simulate", "--days", "0"), ("--days",)),
        (("simulate", "--devices", "many"), ("--devices",)),
        (("serve", "--port", "99999"), ("--port",)),
        (("no-such-command",), ("no-such-command",)),
    ],
)
def test_a_wrong_input_is_one_line_and_a_non_zero_exit(
    cli: Cli, args: tuple[str, ...], words: tuple[str, ...]
) -> None:
    cli("db", "upgrade")
    one_line_error(cli(*args), *words)


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("postgres://nobody@127.0.0.1:1/pinwarden", ("cannot use the database", "127.0.0.1")),
        ("mysql://user@db/pinwarden", ("PostgreSQL or SQLite", "mysql")),
        ("not a url", ("not a database URL",)),
        ("postgresql://postgres@127.0.0.1:5432", ("names no database",)),
        ("postgresql://postgres@127.0.0.1:5432/no_such_database_here", ("does not exist",)),
        ("sqlite:////no/such/folder/pinwarden.db", ("cannot use the database",)),
    ],
)
def test_a_bad_database_url_is_one_line(cli: Cli, url: str, words: tuple[str, ...]) -> None:
    one_line_error(cli("workspace", "list", env={"PINWARDEN_DATABASE_URL": url}), *words)


@pytest.mark.postgres
def test_a_postgres_url_as_other_tools_write_it_works(cli: Cli, pg_store: Store) -> None:
    url = pg_store.url.replace("postgresql+psycopg://", "postgres://")
    result = cli("workspace", "list", env={"PINWARDEN_DATABASE_URL": url})
    assert result.returncode == 0 and result.stderr == ""


def test_help_names_the_database_setting(tmp_path: Path) -> None:
    for args in ((), ("serve",)):
        assert "PINWARDEN_DATABASE_URL" in run(tmp_path, *args, "--help").stdout


def test_serve_on_a_port_in_use_fails_before_it_prints_or_writes(tmp_path: Path) -> None:
    (tmp_path / "demo.json").write_text('{"kept": true}')
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run(
            tmp_path, "serve", "--demo", "--virtual-clock", "--port", str(port), check=False
        )
    one_line_error(result, f"127.0.0.1:{port}", "--port")
    assert result.stdout == ""
    assert (tmp_path / "demo.json").read_text() == '{"kept": true}'


def test_simulate_prints_a_report(tmp_path: Path) -> None:
    result = run(
        tmp_path, "simulate", "--devices", "7", "--days", "7", "--faults", "none", "--seed", "1"
    )
    assert "on lock by start pct" in result.stdout
    assert "100.0" in result.stdout


def test_demo_says_where_it_listens_and_the_virtual_clocks_time(tmp_path: Path) -> None:
    with Demo(tmp_path) as demo:
        banner = demo.banner
        assert f"Listening on http://127.0.0.1:{demo.port}" in banner
        now = demo.post("/sandbox/clock/get")["now"][:19]
        assert f"Virtual clock: {now}Z" in banner
        facts = json.loads((tmp_path / "demo.json").read_text())
        assert facts["endpoint"] == f"http://127.0.0.1:{demo.port}"
        with httpx.Client(base_url=demo.url) as http:
            assert http.get("/health").status_code == 200
