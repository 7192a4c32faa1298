"""The README's curl and SDK snippets, run as printed against `pinwarden serve --demo`: one
after the other on a fresh demo, and again on a demo whose virtual clock has moved on."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tests.cli.demo import Demo

README = Path(__file__).resolve().parents[2] / "README.md"


def snippet(language: str, after: str) -> str:
    """The first ```language block of the README after the line containing `after`."""
    text = README.read_text()
    start = text.index(after)
    match = re.compile(rf"```{language}\n(.*?)```", re.S).search(text, start)
    assert match, f"no {language} block after {after!r}"
    return match.group(1)


CURL = snippet("sh", "Try it with curl")
SDK = snippet("python", "## Using it from Seam's Python SDK")


def _json_values(text: str) -> list[dict[str, Any]]:
    """The JSON objects curl printed one after the other."""
    decoder, values, at = json.JSONDecoder(), [], 0
    while at < len(text.rstrip()):
        value, at = decoder.raw_decode(text, at)
        values.append(value)
    return values


def run_snippets(folder: Path) -> None:
    curl = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", CURL],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert curl.returncode == 0, curl.stderr
    answers = _json_values(curl.stdout)
    assert len(answers) == 3 and all(a.get("ok") is True for a in answers), curl.stdout
    listed = answers[-1]["access_codes"]
    assert [(c["code"], c["status"]) for c in listed] == [("4821", "set")]

    sdk = subprocess.run(
        [sys.executable, "-c", SDK], cwd=folder, capture_output=True, text=True, timeout=120
    )
    assert sdk.returncode == 0, sdk.stderr
    assert " time_bound unset" in sdk.stdout.splitlines()[0]
    assert "Yale Front Door 1" in sdk.stdout


@pytest.mark.parametrize("clock_moved_days", [0, 40])
def test_the_readme_snippets_run_one_after_the_other(tmp_path: Path, clock_moved_days: int) -> None:
    with Demo(tmp_path / ".pinwarden") as demo:
        if clock_moved_days:
            demo.post("/sandbox/clock/advance", seconds=clock_moved_days * 86400)
        run_snippets(tmp_path)
