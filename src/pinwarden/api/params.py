"""Request parameters: one declaration per route, read from a JSON body or a query string.

Seam's SDKs send the same parameters two ways: SDK 1.x as a JSON body on POST, SDK 3.x as a
query string on GET/DELETE (arrays as repeated keys, `null` and `[]` as `key=`, booleans as
`true`/`false`, plus `_strict=true`). A JSON value must already have the right type; a query
value is a string and is coerced. Unknown parameters are ignored, as Seam does.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pinwarden.service.errors import InvalidInput

# ASCII only: `\d` also matches other scripts' digits, and `$` matches before a final newline.
_DIGITS = re.compile(r"[0-9]+")
# Numbers beyond this lose precision in JavaScript and overflow the databases' integers.
_MAX_SAFE_INTEGER = 2**53 - 1


class _Bad(Exception):
    pass


@dataclass(frozen=True)
class P:
    """One parameter: `kind` is str, uuid, bool, int, number, datetime, object, or `<kind>[]`."""

    name: str
    kind: str = "str"
    required: bool = False
    nullable: bool = False
    min_length: int | None = None
    max_length: int | None = None
    digits: bool = False
    choices: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None

    def parse(self, value: Any, from_query: bool) -> Any:
        if self.kind.endswith("[]"):
            return self._parse_list(value, from_query)
        # In a query string `key=` is how Seam's serializer writes null.
        if value is None or (from_query and value == "" and (self.kind != "str" or self.nullable)):
            if self.nullable:
                return None
            raise _Bad("must not be null")
        return self._parse_one(self.kind, value, from_query)

    def _parse_list(self, value: Any, from_query: bool) -> list[Any]:
        item_kind = self.kind[:-2]
        if from_query:
            items = value if isinstance(value, list) else [value]
            # `key=` is the serializer's empty array; comma lists come from older clients.
            flat = [part for item in items for part in str(item).split(",") if part != ""]
            return [self._parse_one(item_kind, v, True) for v in flat]
        if value is None and self.nullable:
            return []
        if not isinstance(value, list):
            raise _Bad("must be an array")
        return [self._parse_one(item_kind, v, False) for v in value]

    def _parse_one(self, kind: str, value: Any, from_query: bool) -> Any:
        return _PARSERS[kind](self, value, from_query)

    def check_str(self, value: Any) -> str:
        if not isinstance(value, str):
            raise _Bad("must be a string")
        if "\x00" in value:
            raise _Bad("must not contain the NUL character")
        if self.min_length is not None and len(value) < self.min_length:
            raise _Bad(f"must be at least {self.min_length} characters")
        if self.max_length is not None and len(value) > self.max_length:
            raise _Bad(f"must be at most {self.max_length} characters")
        if self.digits and not _DIGITS.fullmatch(value):
            raise _Bad("must contain only digits")
        if self.choices is not None and value not in self.choices:
            raise _Bad("must be one of " + ", ".join(self.choices))
        return value


def _str(p: P, value: Any, from_query: bool) -> str:
    return p.check_str(value)


def _uuid(p: P, value: Any, from_query: bool) -> str:
    if not isinstance(value, str):
        raise _Bad("must be a UUID string")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise _Bad("must be a valid UUID") from None


def _bool(p: P, value: Any, from_query: bool) -> bool:
    if isinstance(value, bool):
        return value
    if from_query and value in ("true", "false"):
        return bool(value == "true")
    raise _Bad("must be a boolean")


def _number(p: P, value: Any, from_query: bool) -> float:
    if from_query and isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise _Bad("must be a number") from None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _Bad("must be a finite number")
    if p.minimum is not None and value < p.minimum:
        raise _Bad(f"must be at least {p.minimum:g}")
    if p.maximum is not None and value > p.maximum:
        raise _Bad(f"must be at most {p.maximum:g}")
    return float(value)


def _int(p: P, value: Any, from_query: bool) -> int:
    number = _number(p, value, from_query)
    if number != int(number):
        raise _Bad("must be a whole number")
    if abs(number) > _MAX_SAFE_INTEGER:
        raise _Bad(f"must be between -{_MAX_SAFE_INTEGER} and {_MAX_SAFE_INTEGER}")
    return int(number)


def _datetime(p: P, value: Any, from_query: bool) -> datetime:
    if not isinstance(value, str):
        raise _Bad("must be an ISO 8601 date-time string")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)  # Seam reads a zoneless timestamp as UTC
        return parsed.astimezone(UTC)
    except ValueError:
        raise _Bad("must be an ISO 8601 date-time string") from None
    except OverflowError:  # e.g. 9999-12-31T23:00-14:00 is past year 9999 in UTC
        raise _Bad("must be a date-time between the years 1 and 9999 in UTC") from None


def _object(p: P, value: Any, from_query: bool) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Bad("must be an object")
    return value


_PARSERS: dict[str, Callable[[P, Any, bool], Any]] = {
    "str": _str,
    "uuid": _uuid,
    "bool": _bool,
    "number": _number,
    "int": _int,
    "datetime": _datetime,
    "object": _object,
}


def parse(spec: tuple[P, ...], raw: Mapping[str, Any], from_query: bool) -> dict[str, Any]:
    """Validate `raw` against `spec`; absent optional parameters are left out of the result."""
    out: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for p in spec:
        if p.name not in raw:
            if p.required:
                errors[p.name] = ["Required"]
            continue
        try:
            out[p.name] = p.parse(raw[p.name], from_query)
        except _Bad as bad:
            errors[p.name] = [str(bad)]
    if errors:
        raise InvalidInput(errors)
    return out


def query_to_raw(items: list[tuple[str, str]], spec: tuple[P, ...]) -> dict[str, Any]:
    """Group repeated query keys, accept `key[]` and dot paths for objects."""
    kinds = {p.name: p.kind for p in spec}
    raw: dict[str, Any] = {}
    for key, value in items:
        key = key.removesuffix("[]")
        head, _, rest = key.partition(".")
        if rest and kinds.get(head) == "object":
            raw.setdefault(head, {})[rest] = value
        elif kinds.get(key, "").endswith("[]"):
            raw.setdefault(key, []).append(value)
        else:
            raw[key] = value
    return raw
