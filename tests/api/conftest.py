"""Fixtures for the HTTP API suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import Api
from tests.workspaces import second_workspace


@pytest.fixture
def other(api: Api) -> Iterator[Api]:
    """A second workspace on the same server (and database) as `api`."""
    with second_workspace(api) as tenant:
        yield tenant
