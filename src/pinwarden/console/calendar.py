"""The next 14 days of every lock: stays as bars, slot use against capacity.

Positions are percentages of the 14 days, so the server-rendered SVG (templates/calendar.html)
fits any screen width without a script or inline style (the console's CSP allows neither).
Days are cut at midnight in the locks' time zone when they all share one, in UTC otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pinwarden.console.templating import local
from pinwarden.console.views import Wire, confirmed, parse_time, zone_of
from pinwarden.planner.types import Policy

DAYS = 14
MAX_LANES = 4  # more overlapping stays than this on one lock are counted, not drawn
_SPAN = timedelta(days=DAYS)

# A stay's colour, first matching rule wins (see the legend in calendar.html).
STATES = {
    "backup": "backup code in use",
    "at-risk": "at risk (an error, or not confirmed by the issue deadline)",
    "warning": "carries a warning",
    "set": "on the lock",
    "scheduled": "scheduled on the lock",
    "waiting": "not programmed yet (nothing wrong)",
}


@dataclass(frozen=True)
class Bar:
    access_code_id: str
    label: str
    title: str
    state: str
    x: float  # percent of the strip
    width: float
    lane: int


@dataclass(frozen=True)
class DayMark:
    x: float
    width: float
    label: str  # `Thu 3`
    short: str  # `3`
    weekend: bool


@dataclass(frozen=True)
class DayUse:
    x: float
    width: float
    used: int  # codes that take a slot on the lock at some time that day
    capacity: int

    @property
    def shade(self) -> float:
        """How strongly the day is tinted: its share of the lock's capacity (at least a hint)."""
        share = 1.0 if self.capacity <= 0 else self.used / self.capacity
        return round(min(1.0, max(share, 0.08)), 2)

    @property
    def over(self) -> bool:
        return self.used > self.capacity


@dataclass(frozen=True)
class Strip:
    device: Wire
    bars: list[Bar]
    lanes: int
    hidden: int  # stays that did not fit in MAX_LANES
    ongoing: int  # codes with no end: they hold a slot all the time, drawn in `use` only
    use: list[DayUse]

    @property
    def peak(self) -> DayUse | None:
        return max(self.use, key=lambda u: u.used, default=None)

    @property
    def height(self) -> int:
        return 6 + max(self.lanes, 1) * 24


@dataclass(frozen=True)
class Calendar:
    start: datetime
    zone: str | None
    days: list[DayMark]
    now_x: float
    strips: list[Strip]


def _x(moment: datetime, start: datetime) -> float:
    share = (moment - start) / _SPAN
    return round(100.0 * min(max(share, 0.0), 1.0), 3)


def _state(code: Wire, now: datetime, deadline: timedelta) -> str:
    starts_at = parse_time(code.get("starts_at"))
    soon = starts_at is None or starts_at <= now + deadline
    rules = (
        ("backup", bool(code.get("pulled_backup_access_code_id"))),
        ("at-risk", bool(code.get("errors")) or (soon and not confirmed(code, now))),
        ("warning", bool(code.get("warnings"))),
        ("set", code.get("status") == "set"),
        ("scheduled", bool(code.get("is_scheduled_on_device"))),
    )
    return next((state for state, holds in rules if holds), "waiting")


def _lanes(stays: list[tuple[datetime, datetime, Wire]]) -> list[tuple[int, Wire]]:
    """Overlapping stays on separate lanes, each in the first lane free at its start."""
    free_at: list[datetime] = []
    placed = []
    for start, end, code in sorted(stays, key=lambda s: (s[0], s[1])):
        lane = next((i for i, t in enumerate(free_at) if t <= start), len(free_at))
        if lane == len(free_at):
            free_at.append(end)
        free_at[lane] = end
        placed.append((lane, code))
    return placed


def _occupancy(code: Wire, policy: Policy, native: bool) -> tuple[datetime, datetime] | None:
    """When a code takes a slot: from when it is programmed until it ends; None: always."""
    starts_at, ends_at = parse_time(code.get("starts_at")), parse_time(code.get("ends_at"))
    if starts_at is None or ends_at is None:
        return None
    lead = policy.horizon if native else policy.jit_lead
    return starts_at - lead, ends_at


def _use(
    device: Wire,
    codes: list[Wire],
    unmanaged: int,
    days: list[tuple[datetime, datetime]],
    start: datetime,
    policy: Policy,
) -> list[DayUse]:
    native = bool(device["properties"].get("native_scheduling_supported", True))
    capacity = int(device["properties"].get("max_active_codes_supported") or 0)
    spans = [_occupancy(c, policy, native) for c in codes]
    always = unmanaged + sum(1 for s in spans if s is None)
    use = []
    for day_start, day_end in days:
        held = sum(1 for s in spans if s is not None and s[0] < day_end and s[1] > day_start)
        x = _x(day_start, start)
        use.append(DayUse(x, _x(day_end, start) - x, always + held, capacity))
    return use


def _title(code: Wire, zone: str | None, state: str) -> str:
    name = code.get("name") or "Unnamed code"
    return f"{name}: {local(code.get('starts_at'), zone)} → {local(code.get('ends_at'), zone)}, {STATES[state]}"


def _strip(
    device: Wire,
    codes: list[Wire],
    unmanaged: int,
    cal_start: datetime,
    now: datetime,
    days: list[tuple[datetime, datetime]],
    policy: Policy,
) -> Strip:
    end = cal_start + _SPAN
    live = [c for c in codes if c.get("status") != "removing"]
    stays = []
    for code in live:
        starts_at, ends_at = parse_time(code.get("starts_at")), parse_time(code.get("ends_at"))
        if (
            starts_at is not None
            and ends_at is not None
            and starts_at < end
            and ends_at > cal_start
        ):
            stays.append((starts_at, ends_at, code))
    bars, hidden = [], 0
    for lane, code in _lanes(stays):
        if lane >= MAX_LANES:
            hidden += 1
            continue
        state = _state(code, now, policy.deadline)
        x = _x(parse_time(code["starts_at"]) or cal_start, cal_start)
        width = max(_x(parse_time(code["ends_at"]) or end, cal_start) - x, 0.4)
        label = code.get("name") or "Unnamed code"
        title = _title(code, zone_of(device), state)
        bars.append(Bar(code["access_code_id"], label, title, state, x, width, lane))
    ongoing = sum(1 for c in live if c.get("ends_at") is None)
    lanes = min(max((b.lane for b in bars), default=-1) + 1, MAX_LANES)
    use = _use(device, live, unmanaged, days, cal_start, policy)
    return Strip(device, bars, lanes, hidden, ongoing, use)


def _common_zone(devices: list[Wire]) -> str | None:
    """The locks' time zone when they all have the same one."""
    zones = {zone_of(d) for d in devices}
    return zones.pop() if len(zones) == 1 else None


def _days(start: datetime, zone: str | None) -> list[tuple[datetime, datetime]]:
    here = ZoneInfo(zone) if zone else UTC
    first = start.astimezone(here)
    midnights = [
        datetime.combine(first.date() + timedelta(days=i), time(0), tzinfo=here).astimezone(UTC)
        for i in range(DAYS + 1)
    ]
    return list(zip(midnights, midnights[1:], strict=False))


def build_calendar(
    now: datetime,
    devices: list[Wire],
    managed: list[Wire],
    unmanaged: list[Wire],
    policies: Mapping[str, Policy],
) -> Calendar:
    zone = _common_zone(devices)
    here = ZoneInfo(zone) if zone else UTC
    local_now = now.astimezone(here)
    start = local_now.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)
    days = _days(start, zone)
    marks = []
    for day_start, day_end in days:
        local = day_start.astimezone(here)
        x = _x(day_start, start)
        marks.append(
            DayMark(
                x,
                _x(day_end, start) - x,
                f"{local:%a} {local.day}",
                str(local.day),
                local.weekday() >= 5,
            )
        )
    by_device: dict[str, list[Wire]] = {}
    for code in managed:
        by_device.setdefault(code["device_id"], []).append(code)
    foreign: dict[str, int] = {}
    for code in unmanaged:
        foreign[code["device_id"]] = foreign.get(code["device_id"], 0) + 1
    strips = [
        _strip(
            d,
            by_device.get(d["device_id"], []),
            foreign.get(d["device_id"], 0),
            start,
            now,
            days,
            policies[d["device_id"]],
        )
        for d in devices
    ]
    return Calendar(start, zone, marks, _x(now, start), strips)
