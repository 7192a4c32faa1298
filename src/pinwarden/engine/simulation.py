"""A whole booking calendar on the virtual clock, with faults injected into some locks.

Everything goes through the same services and engine the server uses; only time is virtual,
and ids come from the seed, so the same seed gives the same report. The report answers, and
names the codes behind every miss with the promise it broke:

- P1: was every code whose lock had no fault on the lock by check-in?
- P2: was every problem on its code by 3 days before check-in (or, for a fault that struck
  later, within minutes of it)?
- P4: was every code off the lock an hour after check-out, or, where the lock could not take
  it off, carrying the removal issue that says so?
- P5: was any code lost? Was any PIN in two slots?
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
from pinwarden.domain.ids import seeded
from pinwarden.engine.clock import VirtualClock
from pinwarden.engine.reconcile import Engine
from pinwarden.engine.runner import ManualRunner
from pinwarden.planner.types import Policy
from pinwarden.service import access_code_changes, access_codes, auth, sandbox
from pinwarden.service.deps import Deps
from pinwarden.service.errors import ServiceError
from pinwarden.store.schema import access_codes as codes_table
from pinwarden.store.schema import devices as devices_table
from pinwarden.store.store import Store

START = datetime(2027, 1, 1, tzinfo=UTC)
CHECK_IN_HOUR, CHECK_OUT_HOUR = 15, 11
_CONFIRM_WINDOW = timedelta(minutes=15)
_REMOVAL_ISSUES = {
    "delay_in_removing_from_device",
    "failed_to_remove_from_device",
    "kwikset_unable_to_confirm_deletion",
}

# Share of locks that get a fault, and which faults.
FAULT_PROFILES: dict[str, tuple[float, tuple[str, ...]]] = {
    "none": (0.0, ()),
    "mild": (0.2, ("offline", "delay", "flaky")),
    "harsh": (
        0.6,
        (
            "offline",
            "outage",
            "delay",
            "flaky",
            "full",
            "duplicate",
            "keypad_change",
            "pin_refusal",
            "name_refusal",
            "unconfirmable",
            "third_party",
            "offline_checkout",
        ),
    ),
}
# A PIN each brand refuses (its length), and a name too long for every brand with a limit.
_BAD_PINS = {
    "august": "12345678",
    "yale": "123456789",
    "kwikset": "123456789",
    "schlage": "123456",
    "smartthings": "123456789",
    "igloohome": "1234",
}
_BAD_NAME = "A guest whose name is far too long for the lock to keep"
# Faults a lock shows only when something is written to it: on a just-in-time lock, nothing is
# written to it for a stay before the stay's own code, an hour ahead, so that is the earliest
# its problem can be known.
_SEEN_ON_WRITE = {"delay", "flaky", "unconfirmable"}


@dataclass
class Booking:
    device_id: str
    brand: str
    starts_at: datetime
    ends_at: datetime
    created_at: datetime
    pin: str | None = None  # a PIN the guest chose (most let pinwarden choose)
    name: str = "Guest"
    access_code_id: str | None = None
    code: str | None = None
    faults: list[str] = field(default_factory=list)  # faults that struck its lock meanwhile
    flagged_by_deadline: bool = False
    flagged_when_written: bool = False  # just-in-time locks: flagged once its code was written
    on_lock_at_start: bool | None = None
    left_after_end: bool | None = None
    opens_after_end: bool | None = None
    removal_flagged: bool = False
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
    left_after_end_flagged: int = 0  # ... of which carry the removal issue (lock unreachable)
    duplicate_slot_incidents: int = 0
    reconciles: int = 0
    faulty_locks: list[str] = field(default_factory=list)
    # Every broken promise: {"promise", "access_code_id", "lock", "faults", "what"}.
    misses: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Simulation:
    def __init__(self, store: Store, devices: int, days: int, faults: str, seed: int) -> None:
        if faults not in FAULT_PROFILES:
            raise ValueError(
                f"unknown fault profile {faults!r}; use one of {', '.join(FAULT_PROFILES)}"
            )
        if days < 1 or devices < 1:
            raise ValueError("a simulation needs at least one lock and one day")
        self.seed = seed
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
        self.deadline = Policy().deadline
        self._ids = random.Random(f"ids:{seed}")  # one sequence of ids for the whole run
        with seeded(self._ids):
            self.workspace = auth.create_workspace(self.deps, "Simulation")
            self.devices = self._make_devices(devices)
        self.brand_of = {d: BRANDS_ORDER[n % len(BRANDS_ORDER)] for n, d in enumerate(self.devices)}

    def _reconcile(self, device_ids: list[str]) -> None:
        self.reconciles += len(device_ids)
        self.engine.reconcile_devices(device_ids)

    def _make_devices(self, count: int) -> list[str]:
        out = []
        with self.deps.store.begin() as conn:
            accounts = {
                b: sandbox.add_sandbox_account(conn, self.workspace, b, START) for b in BRANDS_ORDER
            }
            for n in range(count):
                brand = BRANDS_ORDER[n % len(BRANDS_ORDER)]
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
                booking = Booking(device_id, self.brand_of[device_id], starts, ends, created)
                self.bookings.append(booking)
                self.at(created, lambda b=booking: self._create(b))
                # A booking made inside the deadline is judged once its first write could be
                # confirmed (P2: "evaluated at once").
                self.at(self._judged_at(booking), lambda b=booking: self._at_deadline(b))
                if not BRANDS[booking.brand].capabilities.native_scheduling:
                    written = starts - Policy().jit_lead + _CONFIRM_WINDOW
                    self.at(max(written, created), lambda b=booking: self._when_written(b))
                self.at(starts + timedelta(minutes=1), lambda b=booking: self._at_start(b))
                self.at(ends + timedelta(hours=1), lambda b=booking: self._after_end(b))
                day = (ends + timedelta(days=self.rng.randint(0, 3))).replace(hour=CHECK_IN_HOUR)
        for moment in (START + timedelta(days=d) for d in range(1, self.days + 1)):
            self.at(moment, self._check_slots)

    def _judged_at(self, b: Booking) -> datetime:
        return min(b.starts_at, max(b.created_at + _CONFIRM_WINDOW, b.starts_at - self.deadline))

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
        """Strike a lock with a fault; every booking it can touch remembers it, and one struck
        after its deadline is judged again shortly after (P2 is then "within minutes")."""
        for b in self._not_over(device_id):
            b.faults.append(kind)
            if self._judged_at(b) <= self.clock.now() < b.starts_at:
                self.at(self.clock.now() + _CONFIRM_WINDOW, lambda b=b: self._at_deadline(b))
        p: dict[str, Any] = {"device_id": device_id}
        hours = timedelta(hours=self.rng.uniform(2, 48))
        ws = self.workspace
        upcoming = [b for b in self._not_over(device_id) if b.starts_at > self.clock.now()]
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
        elif kind == "duplicate" and upcoming and upcoming[0].code:
            pin = upcoming[0].code
            self._try(
                lambda: sandbox.create_unmanaged(
                    self.deps, ws, {**p, "name": "Handyman", "code": pin}
                )
            )
        elif kind == "keypad_change":
            self._change_at_the_lock(device_id)
        elif kind == "pin_refusal" and upcoming and self.brand_of[device_id] in _BAD_PINS:
            self._refused(upcoming[0], code=_BAD_PINS[self.brand_of[device_id]])
        elif kind == "name_refusal" and upcoming:
            self._refused(upcoming[0], name=_BAD_NAME)
        elif kind == "unconfirmable":
            self._faults(device_id, unconfirmable_sets=True, unconfirmable_removes=True)
        elif kind == "third_party":
            self._faults(device_id, third_party_manager="rboy")
        elif kind == "offline_checkout":
            for b in self._not_over(device_id)[:1]:
                leave = b.ends_at - timedelta(minutes=30)
                self.at(max(leave, self.clock.now()), lambda: sandbox.disconnect(self.deps, ws, p))
                self.at(b.ends_at + timedelta(hours=6), lambda: sandbox.connect(self.deps, ws, p))

    def _refused(self, b: Booking, **change: str) -> None:
        """The host gives a guest's code a PIN or a name the lock will refuse."""
        if b.access_code_id is None:
            b.pin = change.get("code", b.pin)
            b.name = change.get("name", b.name)
            return
        body = {"access_code_id": b.access_code_id, **change}
        self._try(lambda: access_code_changes.update_code(self.deps, self.workspace, body))

    def _not_over(self, device_id: str) -> list[Booking]:
        return [
            b for b in self.bookings if b.device_id == device_id and b.ends_at > self.clock.now()
        ]

    def _change_at_the_lock(self, device_id: str) -> None:
        """Someone changes a guest's code at the lock: now if a stay is on, else at the next
        one's first evening."""
        stays = self._not_over(device_id)
        if not stays:
            return
        b = stays[0]
        moment = max(self.clock.now(), b.starts_at + timedelta(hours=3))
        if moment >= b.ends_at:
            return

        def change() -> None:
            if b.access_code_id:
                pin = "731946" if self.brand_of[device_id] in ("salto", "igloohome") else "9731"
                self._try(
                    lambda: sandbox.modify_external(
                        self.deps, self.workspace, {"access_code_id": b.access_code_id, "code": pin}
                    )
                )

        self.at(moment, change)

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
        body: dict[str, Any] = {
            "device_id": b.device_id,
            "name": b.name,
            "starts_at": b.starts_at,
            "ends_at": b.ends_at,
        }
        if b.pin is not None:
            body["code"] = b.pin
        try:
            created = access_codes.create(self.deps, self.workspace, body)["access_code"]
        except ServiceError:  # refused at once (the wire format): nothing to judge
            return
        b.access_code_id, b.code = created["access_code_id"], created["code"]

    def _row(self, b: Booking) -> Any:
        if b.access_code_id is None:
            return None
        with self.deps.store.read() as conn:
            return conn.execute(
                select(codes_table).where(codes_table.c.access_code_id == b.access_code_id)
            ).first()

    def _at_deadline(self, b: Booking) -> None:
        row = self._row(b)
        b.flagged_by_deadline = b.flagged_by_deadline or (
            row is not None and bool(row.errors or row.warnings)
        )

    def _when_written(self, b: Booking) -> None:
        row = self._row(b)
        b.flagged_when_written = row is not None and bool(row.errors or row.warnings)

    def _at_start(self, b: Booking) -> None:
        if b.access_code_id is None:
            b.on_lock_at_start = None  # refused at create: nothing to judge
            return
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
        row = self._row(b)
        issues = {i.get("error_code") or i.get("warning_code") for i in _issues(row)}
        b.removal_flagged = bool(issues & _REMOVAL_ISSUES)

    def _device(self, device_id: str) -> Any:
        with self.deps.store.read() as conn:
            return conn.execute(
                select(devices_table).where(devices_table.c.device_id == device_id)
            ).one()

    def _unlocks(self, device_id: str, pin: str) -> bool:
        with self.deps.store.read() as conn:
            lock = sandbox.peek_lock(conn, self._device(device_id))
        return lock.keypad_entry(self.clock.now(), pin) is not None

    def _pins(self, device_id: str) -> list[str]:
        with self.deps.store.read() as conn:
            listed = sandbox.peek_lock(conn, self._device(device_id)).list_device_codes(
                self.clock.now()
            )
        return [c["code"] for c in listed if c["code"]]

    def _check_slots(self) -> None:
        for device_id in self.devices:
            managed_pins = {b.code for b in self.bookings if b.device_id == device_id and b.code}
            counts = Counter(p for p in self._pins(device_id) if p in managed_pins)
            self.report.duplicate_slot_incidents += sum(1 for n in counts.values() if n > 1)

    # -- running -----------------------------------------------------------------------------

    def run(self, progress: Callable[[float], None] | None = None) -> Report:
        with seeded(self._ids):
            return self._run(progress)

    def _run(self, progress: Callable[[float], None] | None) -> Report:
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
        self.engine.close()
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
            flagged = sum(not self._misses_p2(b) for b in problems)
            r.problems_flagged_by_deadline_pct = round(100 * flagged / len(problems), 2)
        r.false_alarms = sum(1 for b in ok if b.flagged_by_deadline and not b.faults)
        r.codes_lost = sum(b.lost for b in self.bookings)
        r.codes_left_after_end = sum(bool(b.left_after_end) for b in self.bookings)
        r.codes_opening_after_end = sum(bool(b.opens_after_end) for b in self.bookings)
        r.left_after_end_flagged = sum(
            bool(b.left_after_end and b.removal_flagged) for b in self.bookings
        )
        r.reconciles = self.reconciles
        r.misses = [m for b in self.bookings for m in self._misses(b)]
        return r

    def _misses_p2(self, b: Booking) -> bool:
        return any(m["promise"] == "P2" for m in self._misses(b))

    def _misses(self, b: Booking) -> list[dict[str, Any]]:
        out = []

        def miss(promise: str, what: str) -> None:
            out.append(
                {
                    "promise": promise,
                    "access_code_id": b.access_code_id,
                    "lock": f"{b.brand} {self.devices.index(b.device_id)}",
                    "faults": sorted(set(b.faults)),
                    "starts_at": b.starts_at.isoformat(),
                    "what": what,
                }
            )

        if b.lost:
            miss("P5", "the code's record was lost")
        if b.on_lock_at_start is False and not b.faults:
            miss("P1", "not on the lock at check-in, though its lock had no fault")
        seen_late = set(b.faults) <= _SEEN_ON_WRITE and b.flagged_when_written
        if b.on_lock_at_start is False and not (b.flagged_by_deadline or seen_late):
            miss("P2", "not on the lock at check-in, and no issue said so in time")
        if b.opens_after_end and not b.removal_flagged:
            miss("P4", "its PIN still opened the door an hour after check-out, with no issue")
        return out


BRANDS_ORDER = tuple(BRANDS)


def _issues(row: Any) -> list[dict[str, Any]]:
    return [] if row is None else [*row.errors, *row.warnings]
