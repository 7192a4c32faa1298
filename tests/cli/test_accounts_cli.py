"""`pinwarden account add|list|remove` against a running Zigbee2MQTT installation (the
emulator on the real Mosquitto), as an operator would type them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.real_locks.stacks import Zigbee2MQTTStack


def _pinwarden(*args: str, stdin: str = "", data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pinwarden.cli", *args, "--data-dir", str(data_dir)],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PINWARDEN_DATABASE_URL": ""},
    )


@pytest.fixture
def stack() -> Iterator[Zigbee2MQTTStack]:
    stack = Zigbee2MQTTStack()
    yield stack
    stack.close()


def test_an_operator_connects_a_zigbee2mqtt_bridge_and_sees_its_locks(
    stack: Zigbee2MQTTStack, tmp_path: Path
) -> None:
    assert _pinwarden("db", "upgrade", data_dir=tmp_path).returncode == 0
    made = _pinwarden("workspace", "create", "Home", data_dir=tmp_path)
    workspace = json.loads(made.stdout)["workspace_id"]
    added = _pinwarden(
        "account",
        "add",
        "zigbee2mqtt",
        stack.broker,
        "--base-topic",
        stack.base,
        "--username",
        "pinwarden",
        "--password-stdin",
        "--workspace",
        workspace,
        stdin="not-printed-anywhere\n",
        data_dir=tmp_path,
    )
    assert added.returncode == 0, added.stderr
    assert "found 2 locks (2 new)" in added.stdout
    assert "front_door" in added.stdout and "back_door" in added.stdout
    assert "not-printed-anywhere" not in added.stdout + added.stderr
    assert b"not-printed-anywhere" not in (tmp_path / "pinwarden.db").read_bytes()
    listed = _pinwarden("account", "list", "--workspace", workspace, "--json", data_dir=tmp_path)
    (account,) = json.loads(listed.stdout)
    assert account["account_type"] == "zigbee2mqtt" and account["errors"] == []
    locks = _pinwarden("device", "list", workspace, "--json", data_dir=tmp_path)
    assert sorted(d["display_name"] for d in json.loads(locks.stdout)) == [
        "back_door",
        "front_door",
    ]
    removed = _pinwarden(
        "account",
        "remove",
        account["connected_account_id"],
        "--workspace",
        workspace,
        data_dir=tmp_path,
    )
    assert removed.returncode == 0
    assert (
        json.loads(_pinwarden("device", "list", workspace, "--json", data_dir=tmp_path).stdout)
        == []
    )


def test_wrong_account_input_is_one_line(tmp_path: Path) -> None:
    assert _pinwarden("db", "upgrade", data_dir=tmp_path).returncode == 0
    for args in (
        ("account", "add", "nest", "ws://x:1", "--workspace", "w"),
        ("account", "add", "zwave-js", "http://x:1", "--workspace", "w"),
    ):
        result = _pinwarden(*args, data_dir=tmp_path)
        assert result.returncode != 0
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "Traceback" not in result.stderr
