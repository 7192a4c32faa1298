"""/sandbox/clock/*: the virtual clock, only when the server runs with --virtual-clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from pinwarden.api.app import Route
from pinwarden.api.params import P
from pinwarden.engine.clock import VirtualClock
from pinwarden.service import wire
from pinwarden.service.deps import Deps
from pinwarden.service.errors import ServiceError, invalid


def routes(advance_to: Callable[[Any], None]) -> list[Route]:
    """`advance_to(moment)` moves the clock and runs everything that became due, in time order."""

    def _clock(deps: Deps) -> VirtualClock:
        if not isinstance(deps.clock, VirtualClock):
            raise ServiceError(
                "not_found", "the virtual clock is off; start with --virtual-clock", 404
            )
        return deps.clock

    def get(deps: Deps, ws: str, p: dict[str, Any]) -> dict[str, Any]:
        return {"now": wire.iso(_clock(deps).now())}

    def advance(deps: Deps, ws: str, p: dict[str, Any]) -> dict[str, Any]:
        clock = _clock(deps)
        if p["seconds"] < 0:
            raise invalid("seconds", "the clock never goes backwards")
        advance_to(clock.now() + timedelta(seconds=p["seconds"]))
        return {"now": wire.iso(clock.now())}

    def set_(deps: Deps, ws: str, p: dict[str, Any]) -> dict[str, Any]:
        clock = _clock(deps)
        if p["now"] < clock.now():
            raise invalid("now", f"the clock never goes backwards; it is {wire.iso(clock.now())}")
        advance_to(p["now"])
        return {"now": wire.iso(clock.now())}

    return [
        Route("/sandbox/clock/get", ("POST", "GET"), (), get),
        Route(
            "/sandbox/clock/advance",
            ("POST",),
            (P("seconds", "number", required=True, minimum=0, maximum=10 * 365 * 86400),),
            advance,
            slow=True,
        ),
        Route(
            "/sandbox/clock/set", ("POST",), (P("now", "datetime", required=True),), set_, slow=True
        ),
    ]
