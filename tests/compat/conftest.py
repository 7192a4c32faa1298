"""Seam's official Python SDK, pointed at a pinwarden server, exactly as an application would."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from seam import Seam

from tests.support import Api


@pytest.fixture
def seam(sqlite_api: Api) -> Iterator[Seam]:
    with Seam(api_key=sqlite_api.api_key, endpoint=sqlite_api.url) as client:
        yield client


@pytest.fixture
def seam_on_each_database(api: Api) -> Iterator[Seam]:
    with Seam(api_key=api.api_key, endpoint=api.url) as client:
        yield client
