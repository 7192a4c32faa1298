"""A second workspace on the same server, to check that nothing crosses between tenants."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from pinwarden.service import auth
from pinwarden.service.sandbox import seed_sandbox_devices
from tests.support import Api


@contextmanager
def second_workspace(api: Api) -> Iterator[Api]:
    """Another workspace with its own key and one sandbox lock per brand, behind `api`'s server."""
    deps = api.runtime.deps
    workspace_id = auth.create_workspace(deps, "Other tenant")
    key = auth.create_api_key(deps, workspace_id)
    devices = seed_sandbox_devices(deps, workspace_id)
    headers = {"Authorization": f"Bearer {key.token}"}
    with httpx.Client(base_url=api.url, headers=headers, timeout=30) as http:
        yield Api(api.url, key.token, workspace_id, devices, api.runtime, http)
