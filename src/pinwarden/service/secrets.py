"""An installation's credentials at rest: encrypted, or a reference to an environment variable.

Encryption is Fernet (AES-128-CBC with an HMAC-SHA256, from `cryptography`) with one key per
deployment: `PINWARDEN_SECRET_KEY` (what a deployment of several processes sets on each), or a
key file made on first use beside the SQLite database (`secret.key`, mode 0600). A credential can
also be given as `{"env": "NAME"}`: only the variable's name is stored, and its value is read
when the account is opened, in the process that opens it. Credentials are never returned by the
API, printed by the CLI, or logged.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson
from cryptography.fernet import Fernet, InvalidToken

KEY_ENV = "PINWARDEN_SECRET_KEY"
KEY_FILE = "secret.key"


class SecretsUnavailable(Exception):
    """The credentials cannot be read here (another key, or a variable that is not set)."""


class SecretBox:
    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)
        self.key = key  # handed to the engine's own worker processes, never printed

    @classmethod
    def for_deployment(cls, data_dir: Path) -> SecretBox:
        """The deployment's key: from the environment, else from (or into) the data dir."""
        configured = os.environ.get(KEY_ENV)
        if configured:
            try:
                return cls(configured.encode())
            except ValueError:
                raise SecretsUnavailable(
                    f"{KEY_ENV} is not a valid key (make one with `pinwarden secret-key`)"
                ) from None
        path = data_dir / KEY_FILE
        if not path.exists():
            data_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(Fernet.generate_key())
        return cls(path.read_bytes().strip())

    def seal(self, secrets: Mapping[str, Any]) -> str | None:
        """Literal values encrypted; `{"env": NAME}` references kept as they are."""
        if not secrets:
            return None
        return self._fernet.encrypt(orjson.dumps(dict(secrets))).decode()

    def open(self, sealed: str | None) -> dict[str, str]:
        """The credentials, with environment references resolved."""
        if not sealed:
            return {}
        try:
            stored: dict[str, Any] = orjson.loads(self._fernet.decrypt(sealed.encode()))
        except InvalidToken:
            raise SecretsUnavailable(
                f"the account's credentials were sealed with another key; set {KEY_ENV} to the "
                "key they were made with, or give the credentials again"
            ) from None
        return {name: _resolve(name, value) for name, value in stored.items()}


def _resolve(name: str, value: Any) -> str:
    if isinstance(value, dict):
        variable = str(value.get("env", ""))
        found = os.environ.get(variable)
        if found is None:
            raise SecretsUnavailable(f"{name}: environment variable {variable} is not set")
        return found
    return str(value)


def new_key() -> str:
    return Fernet.generate_key().decode()


__all__ = ["KEY_ENV", "SecretBox", "SecretsUnavailable", "new_key"]
