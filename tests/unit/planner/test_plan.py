"""The pure planner, called with plain values."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from pinwarden.catalog.brands import brand_profile
from pinwarden.domain.model import CodeStatus, Observation, ObservedSlot, Window
from pinwarden.planner.plan import plan
from pinwarden.planner.types import CodeState, DeviceState, Policy, RemoveCode, SetCode, SlotWrite

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
POLICY = Policy()


def device(brand: str = "august", **caps: object) -> DeviceState:
    profile = brand_profile(brand)
    errors = {k: getattr(profile.errors, k) for k in profile.errors.__dataclass_fields__}
    return DeviceState("dev", replace(profile.capabilities, **caps), errors)


def code(n: int, starts_in: timedelta | None = None, nights: int = 2, **kw: object) -> CodeState:
    window = Window()
    if starts_in is not None:
        window = Window(NOW + starts_in, NOW + starts_in + timedelta(days=nights))
    return CodeState(f"c{n}", kw.pop("pin", f"{1357 + n:04d}"), f"Guest {n}", window, NOW, **kw)  # type: ignore[arg-type]


def seen(*slots: tuple[int, str]) -> Observation:
    return Observation(NOW, tuple(ObservedSlot(s, c, None) for s, c in slots))


def test_ongoing_code_is_written_to_the_lowest_free_slot() -> None:
    result = plan(device(), [code(1)], {}, seen((1, "9999")), NOW, POLICY)
    assert result.operations == (SetCode("c1", 2, "1358", "Guest 1", None, None),)
    assert result.new_unmanaged == ((1, "9999", None),)


def test_native_code_waits_for_the_horizon_and_wakes_then() -> None:
    far = code(1, starts_in=timedelta(days=20))
    result = plan(device(), [far], {}, seen(), NOW, POLICY)
    assert result.operations == ()
    assert result.next_wake_at == NOW + timedelta(days=11)


def test_native_code_inside_the_horizon_carries_its_window() -> None:
    near = code(1, starts_in=timedelta(days=5))
    (op,) = plan(device(), [near], {}, seen(), NOW, POLICY).operations
    assert isinstance(op, SetCode)
    assert (op.starts_at, op.ends_at) == (near.window.starts_at, near.window.ends_at)


def test_jit_code_is_not_written_early() -> None:
    later = code(1, starts_in=timedelta(hours=3))
    result = plan(device("smartthings"), [later], {}, seen(), NOW, POLICY)
    assert result.operations == ()
    assert result.next_wake_at == NOW + timedelta(hours=2)


def test_expired_code_on_the_lock_is_removed() -> None:
    done = replace(
        code(1, starts_in=timedelta(days=-3)),
        slot=1,
        status=CodeStatus.SET,
        confirmed_at=NOW - timedelta(days=3),
    )
    result = plan(device(), [done], {}, seen((1, done.code or "")), NOW, POLICY)
    assert result.operations == (RemoveCode(1, "c1", ObservedSlot(1, done.code, None)),)


def test_masked_slot_is_trusted_only_with_a_matching_write() -> None:
    mine = replace(code(1), slot=1, written_at=NOW - timedelta(hours=1))
    masked = seen((1, None))  # type: ignore[arg-type]
    trusted = plan(
        device("schlage"),
        [mine],
        {1: SlotWrite(1, mine.code, mine.name, "c1", NOW)},
        masked,
        NOW,
        POLICY,
    )
    assert trusted.operations == ()
    assert any(ch.status == CodeStatus.SET for ch in trusted.changes)
    stranger = plan(
        device("schlage"),
        [mine],
        {1: SlotWrite(1, "0000", None, "other", NOW)},
        masked,
        NOW,
        POLICY,
    )
    assert stranger.operations  # rewrite: the slot may hold anything


def test_duplicate_of_an_unmanaged_code_is_an_error_and_not_written() -> None:
    theirs = CodeState("u1", "1358", "Cleaner", Window(), NOW, is_managed=False, slot=1)
    result = plan(device(), [code(1), theirs], {}, seen((1, "1358")), NOW, POLICY)
    assert result.operations == ()
    (change,) = [c for c in result.changes if c.access_code_id == "c1"]
    assert change.issues is not None
    (issue,) = change.issues
    assert issue.code == "duplicate_code_on_device"
    assert issue.extra["unmanaged_access_code_id"] == "u1"


def test_unreachable_lock_plans_no_writes() -> None:
    offline = replace(device(), unreachable_code="device_offline")
    result = plan(offline, [code(1)], {}, None, NOW, POLICY)
    assert result.operations == ()
    assert [i.code for i in result.device_issues] == ["device_offline"]


# -- properties ---------------------------------------------------------------------------

windows = st.one_of(
    st.none(),
    st.tuples(st.integers(-5 * 24, 30 * 24), st.integers(1, 10)),
)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[DeviceState, list[CodeState], Observation]:
    brand = draw(st.sampled_from(["august", "smartthings", "kwikset", "yale"]))
    capacity = draw(st.integers(1, 6))
    dev = device(brand, slot_count=capacity + brand_profile(brand).capabilities.reserved_slots)
    codes = []
    for n, w in enumerate(draw(st.lists(windows, max_size=8))):
        start = None if w is None else timedelta(hours=w[0])
        codes.append(
            code(n, starts_in=start, nights=1 if w is None else w[1], pin=f"{2468 + 7 * n:04d}")
        )
    unmanaged = draw(st.integers(0, capacity))
    slots = [(s, f"{9000 + s:04d}") for s in range(1, unmanaged + 1)]
    codes += [
        CodeState(f"u{s}", pin, None, Window(), NOW, is_managed=False, slot=s) for s, pin in slots
    ]
    return dev, codes, seen(*slots)


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_never_two_codes_written_to_one_slot(
    case: tuple[DeviceState, list[CodeState], Observation],
) -> None:
    dev, codes, obs = case
    result = plan(dev, codes, {}, obs, NOW, POLICY)
    written = [op.slot for op in result.operations if isinstance(op, SetCode)]
    assert len(written) == len(set(written))
    held = {c.slot for c in codes if c.slot is not None}
    assert not set(written) & held


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_never_writes_a_code_outside_its_window(
    case: tuple[DeviceState, list[CodeState], Observation],
) -> None:
    dev, codes, obs = case
    by_id = {c.access_code_id: c for c in codes}
    for op in plan(dev, codes, {}, obs, NOW, POLICY).operations:
        if not isinstance(op, SetCode):
            continue
        c = by_id[op.access_code_id]
        if c.window.ends_at is not None:
            assert c.window.ends_at > NOW
            if dev.capabilities.native_scheduling:
                assert op.ends_at == c.window.ends_at and op.starts_at is not None
            else:
                assert c.window.starts_at is not None
                assert c.window.starts_at - POLICY.jit_lead <= NOW


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_every_code_without_room_is_told_so(
    case: tuple[DeviceState, list[CodeState], Observation],
) -> None:
    dev, codes, obs = case
    result = plan(dev, codes, {}, obs, NOW, POLICY)
    capacity = dev.capabilities.slot_count - dev.capabilities.reserved_slots
    written = sum(isinstance(op, SetCode) for op in result.operations)
    occupied = len(obs.slots)
    assert occupied + written <= capacity
    waiting = [
        c
        for c in codes
        if c.is_managed
        and c.window.starts_at is not None
        and c.window.starts_at - POLICY.deadline <= NOW < (c.window.ends_at or NOW)
    ]
    full_codes = {
        "august_device_slots_full",
        "smartthings_no_free_slots_available",
        "no_space_for_access_code_on_device",
    }
    wrote = {op.access_code_id for op in result.operations if isinstance(op, SetCode)}
    changes = {ch.access_code_id: ch for ch in result.changes}
    if occupied + written == capacity:
        for c in waiting:
            if c.access_code_id in wrote:
                continue
            issues = changes[c.access_code_id].issues or ()
            if (
                c.window.starts_at is not None
                and c.window.starts_at
                - (POLICY.horizon if dev.capabilities.native_scheduling else POLICY.jit_lead)
                <= NOW
            ):
                assert {i.code for i in issues} & (full_codes | {"failed_to_set_on_device"})


@settings(max_examples=100, deadline=None)
@given(scenarios())
def test_planning_the_result_again_plans_nothing(
    case: tuple[DeviceState, list[CodeState], Observation],
) -> None:
    """Apply a plan to a lock that confirms every write at once: the next plan writes nothing."""
    dev, codes, obs = case
    first = plan(dev, codes, {}, obs, NOW, POLICY)
    slots = dict((s.slot, s) for s in obs.slots)
    by_id = {c.access_code_id: c for c in codes}
    writes = {}
    for op in first.operations:
        if isinstance(op, SetCode):
            slots[op.slot] = ObservedSlot(op.slot, op.code, op.name, op.starts_at, op.ends_at)
            writes[op.slot] = SlotWrite(op.slot, op.code, op.name, op.access_code_id, NOW)
            by_id[op.access_code_id] = replace(
                by_id[op.access_code_id], slot=op.slot, written_at=NOW
            )
        else:
            slots.pop(op.slot, None)
    for ch in first.changes:
        c = by_id[ch.access_code_id]
        by_id[ch.access_code_id] = replace(
            c, status=ch.status or c.status, issues=ch.issues if ch.issues is not None else c.issues
        )
    later = NOW + timedelta(seconds=1)
    second = plan(
        dev, list(by_id.values()), writes, Observation(later, tuple(slots.values())), later, POLICY
    )
    assert second.operations == ()
