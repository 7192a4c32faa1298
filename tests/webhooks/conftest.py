"""Fixtures for the webhook suite: receiving applications on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import Api
from tests.webhooks.receiver import Receiver
from tests.workspaces import second_workspace


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver().running() as app:
        yield app


@pytest.fixture
def second_receiver() -> Iterator[Receiver]:
    with Receiver().running() as app:
        yield app


@pytest.fixture
def other(api: Api) -> Iterator[Api]:
    """A second workspace on the same server (and database) as `api`."""
    with second_workspace(api) as tenant:
        yield tenant
