"""`pinwarden serve` sends each response in one write (api/transport.py): responses still
arrive whole, in order, on a kept-alive connection and on one the client closes."""

from __future__ import annotations

import socket
from urllib.parse import urlparse

from tests.support import Api


def _request(path: str, token: str, close: bool = False) -> bytes:
    head = f"GET {path} HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {token}\r\n"
    return (head + ("Connection: close\r\n" if close else "") + "\r\n").encode()


def _responses(data: bytes) -> list[tuple[int, bytes]]:
    """(status, body) of each HTTP/1.1 response in `data`, by Content-Length."""
    out = []
    while data:
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        length = next(
            int(line.split(":", 1)[1])
            for line in lines
            if line.lower().startswith("content-length")
        )
        out.append((int(lines[0].split()[1]), rest[:length]))
        data = rest[length:]
    return out


def test_pipelined_responses_arrive_whole_and_the_last_before_the_close(sqlite_api: Api) -> None:
    api = sqlite_api
    for n in range(30):
        api.ok("/access_codes/create", device_id=api.devices["yale"], code=f"{5000 + n}")
    url = urlparse(api.url)
    listing = f"/access_codes/list?device_id={api.devices['yale']}"
    with socket.create_connection((url.hostname, url.port), timeout=30) as sock:
        sock.sendall(
            _request(listing, api.api_key)
            + _request("/access_codes/get", api.api_key)  # no id: a 400 in Seam's envelope
            + _request(listing, api.api_key, close=True)
        )
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    responses = _responses(data)
    assert [status for status, _ in responses] == [200, 400, 200]
    assert responses[0][1] == responses[2][1]
    assert responses[0][1].count(b'"access_code_id"') == 30
