"""The Z-Wave JS stack is part of CI: when it cannot start, CI fails and says why."""

from __future__ import annotations

import pytest

from tests.providers.zwavejs.conftest import stack_unavailable


def test_a_stack_that_cannot_start_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="npm ci"):
        stack_unavailable("run `npm ci --prefix emulators/zwave`")


def test_a_stack_that_cannot_start_is_skipped_on_a_workstation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        stack_unavailable("node is missing")
