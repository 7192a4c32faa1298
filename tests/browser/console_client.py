"""A browser-like HTTP client of the console, and the fixtures the console tests share."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from pinwarden.service import auth
from pinwarden.service.sandbox import seed_sandbox_devices
from tests.support import Api

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Console:
    """A browser-like HTTP client of the console (it keeps cookies)."""

    http: httpx.Client

    def csrf(self, path: str = "/console") -> str:
        match = _CSRF.search(self.http.get(path).text)
        assert match, "the page carries a CSRF token"
        return match.group(1)

    def sign_in(self, api_key: str) -> httpx.Response:
        return self.http.post(
            "/console/sign-in", data={"csrf_token": self.csrf(), "api_key": api_key}
        )

    def post(self, path: str, **fields: str) -> httpx.Response:
        return self.http.post(path, data={"csrf_token": self.csrf(), **fields})


@pytest.fixture
def console(sqlite_api: Api) -> Iterator[Console]:
    with httpx.Client(base_url=sqlite_api.url, timeout=30) as http:
        yield Console(http)


@pytest.fixture
def signed_in(console: Console, sqlite_api: Api) -> Console:
    assert console.sign_in(sqlite_api.api_key).status_code == 303
    return console


@dataclass
class OtherWorkspace:
    api_key: str
    devices: dict[str, str]


@pytest.fixture
def other(sqlite_api: Api) -> OtherWorkspace:
    deps = sqlite_api.runtime.deps
    workspace_id = auth.create_workspace(deps, "Other tenant")
    key = auth.create_api_key(deps, workspace_id)
    return OtherWorkspace(key.token, seed_sandbox_devices(deps, workspace_id))


def set_cookie_headers(response: httpx.Response, name: str) -> list[str]:
    return [h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}=")]
