"""Seam's error envelope, and the one exception type handlers raise.

    ServiceError(type, message, status)          -> {"error": {"type", "message", ...}, "ok": false}
      InvalidInput        400 invalid_input  (validation_errors: zod format() tree)
      NotFound            404 <thing>_not_found
      ...                 409 duplicate_access_code, 401 unauthorized, 405 method_not_allowed

Raised by services, the CLI and the API alike; api/app.py turns it into the HTTP response.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class ServiceError(Exception):
    def __init__(self, type: str, message: str, status: int = 400, **extra: Any) -> None:
        super().__init__(message)
        self.type = type
        self.message = message
        self.status = status
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"error": {"type": self.type, "message": self.message, **self.extra}, "ok": False}


class InvalidInput(ServiceError):
    def __init__(self, field_errors: dict[str, list[str]], form_errors: Sequence[str] = ()) -> None:
        tree: dict[str, Any] = {"_errors": list(form_errors)}
        for name, messages in field_errors.items():
            tree[name] = {"_errors": messages}
        problems = [f"{name}: {m}" for name, ms in field_errors.items() for m in ms]
        problems += list(form_errors)
        if len(problems) == 1:
            message = problems[0]
        else:
            message = f"{len(problems)} Input Errors: " + ", ".join(problems)
        super().__init__("invalid_input", message, 400, validation_errors=tree)


def not_found(thing: str, message: str | None = None, **data: Any) -> ServiceError:
    extra: dict[str, Any] = {"data": data} if data else {}
    human = thing.replace("_", " ").capitalize()
    return ServiceError(f"{thing}_not_found", message or f"{human} not found", 404, **extra)


def invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput({field: [message]})
