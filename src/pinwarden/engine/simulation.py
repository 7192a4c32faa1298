"""A whole booking calendar on the virtual clock, with faults injected into some locks.

Everything goes through the same services and engine the server uses; only time is virtual.
The report answers: were codes on the lock by check-in, were problems flagged 3 days ahead,
were codes removed at check-out, was anything lost or written twice.
"""

from __future__ import annotations

import contextlib
import heapq
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from pinwarden.catalog.brands import BRANDS
from pinwarden.engine.clock import VirtualClock
from pinwarden.engine.reconcile import Engine
from pinwarden.engine.runner import ManualRunner
from pinwarden.planner.types import Policy
from pinwarden.service import access_codes, auth, sandbox
from pinwarden.service.deps import Deps
from pinwarden.service.errors import ServiceError
from pinwarden.store.schema import access_codes as codes_table
from pinwarden.store.store import Store

START = datetime(2027, 1, 1, tzinfo=UTC)
CHECK_IN_HOUR, CHECK_OUT_HOUR = 15, 11
_CONFIRM_WINDOW = timedelta(minutes=15)

# Share of locks that get a fault, and which faults.
FAULT_PROFILES: dict[str, tuple[float, tuple[str, ...]]] = {
    "none": (0.0, ()),
    "mild": (0.2, ("offline", "delay", "flaky")),
    "harsh": (0.5, ("offline", "outage", "delay", "flaky", "full", "duplicate", "keypad_change")),
}


@dataclass
class Booking:
    device_id: str
    starts_at: datetime
    ends_at: datetime
    created_at: datetime
    access_code_id: str | None = None
    code: str | None = None
    flagged_by_deadline: bool = False
    on_lock_at_start: bool | None = None
    left_after_end: bool | None = None
    opens_after_end: bool | None = None
    lost: bool = False


@dataclass
class Report:
    devices: int
    days: int
    faults: str
    seed: int
    bookings: int = 0
    on_lock_by_start_pct: float = 0.0
    problem_codes: int = 0
    problems_flagged_by_deadline_pct: float = 100.0
    false_alarms: int = 0
    codes_lost: int = 0
    codes_left_after_end: int = 0  # still in a slot an hour after check-out
    codes_opening_after_end: int = 0  # ... and still opening the door
    duplicate_slot_incidents: int = 0
    reconciles: int = 0
    faulty_locks: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Simulation:
    def __init__(self, store: Store, devices: int, days: int, faults: str, seed: int) -> None:
        if faults not in FAULT_PROFILES:
            raise ValueError(
                f"unknown fault profile {faults!r}; use one of {', '.join(FAULT_PROFILES)}"
            )
        self.rng = random.Random(seed)
        self.clock = VirtualClock(START)
        self.deps = Deps(store=store, clock=self.clock, rng=random.Random(seed + 1))
        self.engine = Engine(self.deps)
        self.reconciles = 0
        self.runner = ManualRunner(store, self.clock, self._reconcile)
        self.deps.runner = self.runner
        self.report = Report(devices, days, faults, seed)
        self.days = days
        self.queue: list[tuple[datetime, int, Callable[[], None]]] = []
        self._order = 0
        self.bookings: list[Booking] = []
        self.workspace = auth.create_workspace(self.deps, "Simulation")
        self.devices = self._make_devices(devices)
        self.deadline = Policy().deadline

    def _reconcile(self, device_ids: list[str]) -> None:
        self.reconciles += len(device_ids)
        self.engine.reconcile_devices(device_ids)

    def _make_devices(self, count: int) -> list[str]:
        brands = list(BRANDS)
        out = []
        with self.deps.store.begin() as conn:
            accounts = {
                b: sandbox.add_sandbox_account(conn, self.workspace, b, START) for b in brands
            }
            for n in range(count):
                brand = brands[n % len(brands)]
                out.append(
                    sandbox.add_sandbox_device(
                        self.deps,
                        conn,
                        self.workspace,
                        brand,
                        f"{brand} {n}",
                        accounts[brand],
                        START,
                    )
                )
        return out

    def at(self, moment: datetime, action: Callable[[], None]) -> None:
        self._order += 1
        heapq.heappush(self.queue, (moment, self._order, action))

    # -- the calendar ------------------------------------------------------------------------

    def plan_calendar(self) -> None:
        end = START + timedelta(days=self.days)
        for device_id in self.devices:
            day = START.replace(hour=CHECK_IN_HOUR) + timedelta(days=self.rng.randint(0, 3))
            while True:
                nights = self.rng.randint(1, 7)
                starts = day
                ends = (starts + timedelta(days=nights)).replace(hour=CHECK_OUT_HOUR)
                if ends > end:
                    break
                created = max(START, starts - timedelta(days=self.rng.uniform(0, 30)))
                booking = Booking(device_id, starts, ends, created)
                self.bookings.append(booking)
                self.at(created, lambda b=booking: self._create(b))
                # A booking made inside the deadline is judged once its first write could be
                # confirmed (P2: "evaluated at once").
                judged = min(starts, max(created + _CONFIRM_WINDOW, starts - self.deadline))
                self.at(judged, lambda b=booking: self._at_deadline(b))
                self.at(starts + timedelta(minutes=1), lambda b=booking: self._at_start(b))
                self.at(ends + timedelta(hours=1), lambda b=booking: self._after_end(b))
                day = (ends + timedelta(days=self.rng.randint(0, 3))).replace(hour=CHECK_IN_HOUR)
        for moment in (START + timedelta(days=d) for d in range(1, self.days + 1)):
            self.at(moment, self._check_slots)

    def plan_faults(self) -> None:
        share, kinds = FAULT_PROFILES[self.report.faults]
        for device_id in self.devices:
            if not kinds or self.rng.random() >= share:
                continue
            kind = self.rng.choice(kinds)
            self.report.faulty_locks.append(kind)
            moment = START + timedelta(hours=self.rng.uniform(0, 24 * max(self.days - 2, 1)))
            self.at(moment, lambda d=device_id, k=kind: self._inject(d, k))

    def _inject(self, device_id: str, kind: str) -> None:
        p: dict[str, Any] = {"device_id": device_id}
        hours = timedelta(hours=self.rng.uniform(2, 48))
        ws = self.workspace
        if kind == "offline":
            sandbox.disconnect(self.deps, ws, p)
            self.at(self.clock.now() + hours, lambda: sandbox.connect(self.deps, ws, p))
        elif kind == "outage":  # days, not hours: some stays will start while it lasts
            sandbox.disconnect(self.deps, ws, p)
            back = self.clock.now() + timedelta(days=self.rng.uniform(1, 5))
            self.at(back, lambda: sandbox.connect(self.deps, ws, p))
        elif kind == "delay":
            self._faults(device_id, programming_delay_seconds=int(self.rng.uniform(300, 7200)))
        elif kind == "flaky":
            self._faults(device_id, fail_next_sets=self.rng.randint(1, 4))
        elif kind == "full":
            self._faults(device_id, slot_capacity=2)
        elif kind == "duplicate":
            upcoming = [
                b
                for b in self.bookings
                if b.device_id == device_id and b.code and b.starts_at > self.clock.now()
            ]
            if upcoming:
                self._try(
                    lambda: sandbox.create_unmanaged(
                        self.deps, ws, {**p, "name": "Handyman", "code": upcoming[0].code}
                    )
                )
        elif kind == "keypad_change":
            active = [
                b
                for b in self.bookings
                if b.device_id == device_id
                and b.access_code_id
                and b.starts_at <= self.clock.now() < b.ends_at
            ]
            if active:
                self._try(
                    lambda: sandbox.modify_external(
                        self.deps, ws, {"access_code_id": active[0].access_code_id, "code": "9731"}
                    )
                )

    def _faults(self, device_id: str, **faults: Any) -> None:
        self._try(
            lambda: sandbox.set_faults(
                self.deps, self.workspace, {"device_id": device_id, **faults}
            )
        )

    def _try(self, action: Callable[[], Any]) -> None:
        # A fault that does not apply to this lock's brand is skipped.
        with contextlib.suppress(ServiceError):
            action()

    # -- observations ------------------------------------------------------------------------

    def _create(self, b: Booking) -> None:
        body = {
            "device_id": b.device_id,
            "name": "Guest",
            "starts_at": b.starts_at,
            "ends_at": b.ends_at,
        }
        created = access_codes.create(self.deps, self.workspace, body)["access_code"]
        b.access_code_id, b.code = created["access_code_id"], created["code"]

    def _row(self, b: Booking) -> Any:
        with self.deps.store.read() as conn:
            return conn.execute(
                select(codes_table).where(codes_table.c.access_code_id == b.access_code_id)
            ).first()

    def _at_deadline(self, b: Booking) -> None:
        row = self._row(b)
        b.flagged_by_deadline = row is not None and bool(row.errors or row.warnings)

    def _at_start(self, b: Booking) -> None:
        row = self._row(b)
        if row is None:
            b.lost = True
            b.on_lock_at_start = False
            return
        pin = row.code
        b.code = pin
        b.on_lock_at_start = pin is not None and self._unlocks(b.device_id, pin)

    def _after_end(self, b: Booking) -> None:
        b.left_after_end = b.code is not None and b.code in self._pins(b.device_id)
        b.opens_after_end = b.code is not None and self._unlocks(b.device_id, b.code)

    def _unlocks(self, device_id: str, pin: str) -> bool:
        with self.deps.store.read() as conn:
            device = conn.execute(
                select(sandbox.devices).where(sandbox.devices.c.device_id == device_id)
            ).one()
            return sandbox.peek_lock(conn, device).keypad_entry(self.clock.now(), pin) is not None

    def _pins(self, device_id: str) -> list[str]:
        with self.deps.store.read() as conn:
            device = conn.execute(
                select(sandbox.devices).where(sandbox.devices.c.device_id == device_id)
            ).one()
            listed = sandbox.peek_lock(conn, device).list_device_codes(self.clock.now())
            return [c["code"] for c in listed if c["code"]]

    def _check_slots(self) -> None:
        for device_id in self.devices:
            managed_pins = {b.code for b in self.bookings if b.device_id == device_id and b.code}
            counts = Counter(p for p in self._pins(device_id) if p in managed_pins)
            self.report.duplicate_slot_incidents += sum(1 for n in counts.values() if n > 1)

    # -- running -----------------------------------------------------------------------------

    def run(self, progress: Callable[[float], None] | None = None) -> Report:
        self.plan_calendar()
        self.plan_faults()
        end = START + timedelta(days=self.days)
        while self.queue:
            moment, _, action = heapq.heappop(self.queue)
            if moment > end + timedelta(days=8):
                break
            self.runner.advance_to(max(moment, self.clock.now()))
            action()
            self.runner.drain_requests()
            if progress is not None:
                progress(min((moment - START) / (end - START), 1.0))
        return self._summarise()

    def _summarise(self) -> Report:
        r = self.report
        judged = [b for b in self.bookings if b.on_lock_at_start is not None]
        r.bookings = len(judged)
        ok = [b for b in judged if b.on_lock_at_start]
        r.on_lock_by_start_pct = round(100 * len(ok) / len(judged), 2) if judged else 100.0
        problems = [b for b in judged if not b.on_lock_at_start]
        r.problem_codes = len(problems)
        if problems:
            flagged = sum(b.flagged_by_deadline for b in problems)
            r.problems_flagged_by_deadline_pct = round(100 * flagged / len(problems), 2)
        r.false_alarms = sum(1 for b in ok if b.flagged_by_deadline)
        r.codes_lost = sum(b.lost for b in self.bookings)
        r.codes_left_after_end = sum(bool(b.left_after_end) for b in self.bookings)
        r.codes_opening_after_end = sum(bool(b.opens_after_end) for b in self.bookings)
        r.reconciles = self.reconciles
        return r
