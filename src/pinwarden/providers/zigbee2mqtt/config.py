"""A Zigbee2MQTT account's settings: which broker, which base topic, TLS, how long to wait.

Settings (`AccountConfig.settings`):

- `url`: `mqtt://host[:1883]` or `mqtts://host[:8883]` (required).
- `base_topic`: Zigbee2MQTT's `mqtt.base_topic` (default `zigbee2mqtt`; may have several levels).
- `tls_ca_file`, `tls_cert_file`, `tls_key_file`: PEM files for `mqtts://` (the system's CAs
  when `tls_ca_file` is absent); `tls_insecure: true` skips the host name check.
- `response_timeout`: seconds to wait for the lock to answer a read (default 10: a sleepy
  Zigbee lock answers within its poll interval, herdsman gives up after 10 s).
- `client_id`: the MQTT client id (default: one of pinwarden's own per process).

Secrets (`AccountConfig.secrets`): `username`, `password`. They go to the broker and nowhere
else: `BrokerSettings.__repr__` leaves them out, so no log line or error can carry them.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from pinwarden.providers.base import AccountConfig

_DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}


class ConfigError(ValueError):
    """The account's settings cannot describe a broker; the message says which one and why."""


@dataclass(frozen=True, slots=True)
class BrokerSettings:
    host: str
    port: int
    tls: bool
    base_topic: str
    response_timeout: float = 10.0
    client_id: str | None = None
    tls_ca_file: str | None = None
    tls_cert_file: str | None = None
    tls_key_file: str | None = None
    tls_insecure: bool = False
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)

    @property
    def where(self) -> str:
        """The broker and base topic, for messages a person reads (never a credential)."""
        scheme = "mqtts" if self.tls else "mqtt"
        return f"{scheme}://{self.host}:{self.port} (base topic {self.base_topic!r})"

    def tls_context(self) -> ssl.SSLContext | None:
        if not self.tls:
            return None
        context = ssl.create_default_context(cafile=self.tls_ca_file)
        if self.tls_cert_file:
            context.load_cert_chain(self.tls_cert_file, self.tls_key_file)
        if self.tls_insecure:
            context.check_hostname = False
        return context


def parse_url(url: str) -> tuple[str, int, bool]:
    """`mqtt://host:port` → (host, port, tls); raises ConfigError naming what is wrong."""
    parts = urlsplit(url)
    if parts.scheme not in _DEFAULT_PORTS:
        raise ConfigError(f"broker url must start with mqtt:// or mqtts://, got {parts.scheme!r}")
    if not parts.hostname:
        raise ConfigError("broker url has no host")
    try:
        port = parts.port or _DEFAULT_PORTS[parts.scheme]
    except ValueError:
        raise ConfigError("broker url has a port that is not a number") from None
    return parts.hostname, port, parts.scheme == "mqtts"


def broker_settings(config: AccountConfig) -> BrokerSettings:
    """The broker an account's settings and secrets describe."""
    settings: Mapping[str, Any] = config.settings
    if not isinstance(settings.get("url"), str):
        raise ConfigError("a zigbee2mqtt account needs a `url` setting (mqtt://host:1883)")
    host, port, tls = parse_url(settings["url"])
    base_topic = str(settings.get("base_topic") or "zigbee2mqtt").strip("/")
    if not base_topic or any(c in base_topic for c in "+#"):
        raise ConfigError("base_topic must be a topic without wildcards (+, #)")
    return BrokerSettings(
        host=host,
        port=port,
        tls=tls,
        base_topic=base_topic,
        response_timeout=float(settings.get("response_timeout", 10.0)),
        client_id=settings.get("client_id"),
        tls_ca_file=settings.get("tls_ca_file"),
        tls_cert_file=settings.get("tls_cert_file"),
        tls_key_file=settings.get("tls_key_file"),
        tls_insecure=bool(settings.get("tls_insecure", False)),
        username=config.secrets.get("username"),
        password=config.secrets.get("password"),
    )
