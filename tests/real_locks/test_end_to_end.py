"""pinwarden managing real-protocol locks end to end: an account added over HTTP, its locks
found, guests' codes created through Seam's SDK, programmed just in time, opening the door with
the right attribution, removed at check-out; and what goes wrong at real locks.

Each scenario runs on every stack of `tests/real_locks/stacks.py`, on the virtual clock (the
protocol traffic is real and in real time; only the calendar is virtual).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from seam import Seam

from pinwarden.engine.clock import VirtualClock
from pinwarden.server import Runtime, build
from pinwarden.service import auth
from pinwarden.store.store import Store
from tests.real_locks.stacks import Stack, Zigbee2MQTTStack, ZWaveJSStack, stop_shared_stacks
from tests.support import START, ServerThread, client

HOUR = 3600
STACKS: dict[str, Callable[[], Stack]] = {
    "zigbee2mqtt": Zigbee2MQTTStack,
    "zwave_js": ZWaveJSStack,
}
# The Z-Wave stack is shared by this file's tests: keep them on one worker.
pytestmark = pytest.mark.xdist_group("real_locks")


@pytest.fixture(scope="module", autouse=True)
def _stop_stacks() -> Iterator[None]:
    yield
    stop_shared_stacks()


def eventually(check: Callable[[], Any], what: str, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout} s: {what}")
        time.sleep(0.1)


class World:
    """A pinwarden server on the virtual clock, an account on `stack`, and its locks."""

    def __init__(self, runtime: Runtime, http: httpx.Client, seam: Seam, stack: Stack) -> None:
        self.runtime = runtime
        self.http = http
        self.seam = seam
        self.stack = stack
        created = self.ok("/connected_accounts/create", **stack.account())
        self.account_id = created["connected_account"]["connected_account_id"]
        listed = eventually(
            lambda: len(self.devices()) == len(stack.locks) and self.devices(),
            "the account's locks were found",
        )
        self.locks = {stack.name_of(d["display_name"]): d["device_id"] for d in listed}

    def ok(self, path: str, **body: Any) -> dict[str, Any]:
        response = self.http.post(path, json=body)
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data

    def devices(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.ok(
            "/devices/list", connected_account_id=self.account_id
        )["devices"]
        return found

    def now(self) -> datetime:
        return datetime.fromisoformat(self.ok("/sandbox/clock/get")["now"].replace("Z", "+00:00"))

    def advance(self, seconds: float = 0) -> None:
        self.ok("/sandbox/clock/advance", seconds=seconds)

    def code(self, access_code_id: str) -> dict[str, Any]:
        found: dict[str, Any] = self.ok("/access_codes/get", access_code_id=access_code_id)[
            "access_code"
        ]
        return found

    def events(self, **filters: Any) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.ok(
            "/events/list", since="2000-01-01T00:00:00Z", **filters
        )["events"]
        return found

    def settle(self, check: Callable[[], Any], what: str) -> Any:
        """Let pinwarden look again until `check` holds (what a lock reports arrives in real
        time; the engine runs when the clock is advanced)."""

        def look() -> Any:
            self.advance(0)
            return check()

        return eventually(look, what)


@pytest.fixture(params=list(STACKS))
def world(request: pytest.FixtureRequest, sqlite_store: Store) -> Iterator[World]:
    stack = STACKS[request.param]()
    runtime = build(sqlite_store, clock=VirtualClock(START), embedded=False, watch_accounts=True)
    runtime.start()
    workspace = auth.create_workspace(runtime.deps, "Real locks")
    key = auth.create_api_key(runtime.deps, workspace).token
    try:
        with (
            ServerThread(runtime.app) as server,
            client(server, key) as http,
            Seam(api_key=key, endpoint=server.url) as seam,
        ):
            yield World(runtime, http, seam, stack)
    finally:
        runtime.close()
        stack.close()


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_a_guest_code_goes_on_just_in_time_opens_the_door_and_goes_at_check_out(
    world: World,
) -> None:
    lock = world.locks["front_door"]
    start = world.now() + timedelta(days=2)
    code = world.seam.access_codes.create(
        device_id=lock,
        name="Guest",
        code="4821",
        starts_at=_iso(start),
        ends_at=_iso(start + timedelta(days=2)),
    )
    world.advance(0)
    assert world.code(code.access_code_id)["status"] == "unset"
    assert "4821" not in world.stack.codes_on("front_door").values()  # no native schedules
    world.advance((start - world.now()).total_seconds() - 61 * 60)
    assert "4821" not in world.stack.codes_on("front_door").values()
    world.advance(2 * 60)  # the hour before check-in: just in time
    fresh = world.code(code.access_code_id)
    assert fresh["status"] == "set" and fresh["errors"] == [], fresh
    assert list(world.stack.codes_on("front_door").values()).count("4821") == 1
    world.advance((start - world.now()).total_seconds() + 60)
    world.stack.keypad_enter("front_door", "4821")
    unlocked = eventually(
        lambda: [
            e
            for e in world.events(device_id=lock, event_type="lock.unlocked")
            if e.get("access_code_id") == code.access_code_id
        ],
        "lock.unlocked credited to the guest's code",
    )
    assert unlocked[0]["method"] == "keycode"
    world.advance((start + timedelta(days=2) - world.now()).total_seconds() + 60)
    assert "4821" not in world.stack.codes_on("front_door").values()
    assert (
        world.http.post(
            "/access_codes/get", json={"access_code_id": code.access_code_id}
        ).status_code
        == 404
    )
    types = [e["event_type"] for e in world.events(access_code_id=code.access_code_id)]
    assert "access_code.set_on_device" in types and "access_code.removed_from_device" in types


def test_a_code_added_at_the_keypad_becomes_unmanaged(world: World) -> None:
    lock = world.locks["back_door"]
    world.stack.keypad_program("back_door", 7, "5739")
    found = world.settle(
        lambda: world.ok("/access_codes/unmanaged/list", device_id=lock)["access_codes"],
        "the keypad's code listed as unmanaged",
    )
    assert [(c["code"], c["status"]) for c in found] == [("5739", "set")]
    # The lock is listed under its own device type, and the code can be taken over.
    (device,) = [d for d in world.devices() if d["device_id"] == lock]
    typed = world.ok("/devices/list", device_type=device["device_type"])["devices"]
    assert lock in {d["device_id"] for d in typed}
    world.ok(
        "/access_codes/unmanaged/convert_to_managed", access_code_id=found[0]["access_code_id"]
    )
    world.settle(
        lambda: world.ok("/access_codes/list", device_id=lock)["access_codes"],
        "the converted code listed as managed",
    )


def test_a_code_changed_at_the_keypad_is_put_back(world: World) -> None:
    lock = world.locks["front_door"]
    code = world.ok("/access_codes/create", device_id=lock, name="Staff", code="2468")[
        "access_code"
    ]
    world.advance(0)
    assert world.code(code["access_code_id"])["status"] == "set"
    slot = next(s for s, pin in world.stack.codes_on("front_door").items() if pin == "2468")
    world.stack.keypad_program("front_door", slot, "8642")
    world.settle(
        lambda: world.stack.codes_on("front_door").get(slot) == "2468",
        "the code put back at the lock",
    )
    types = [e["event_type"] for e in world.events(access_code_id=code["access_code_id"])]
    assert "access_code.modified_external_to_seam" in types
    assert world.code(code["access_code_id"])["status"] == "set"


def test_a_pin_held_by_a_keypad_code_is_a_duplicate(world: World) -> None:
    lock = world.locks["back_door"]
    world.stack.keypad_program("back_door", 3, "1593")
    world.settle(
        lambda: world.ok("/access_codes/unmanaged/list", device_id=lock)["access_codes"],
        "the keypad's code listed",
    )
    code = world.ok("/access_codes/create", device_id=lock, name="Guest", code="1593")[
        "access_code"
    ]
    world.advance(0)
    fresh = world.code(code["access_code_id"])
    assert "duplicate_code_on_device" in {e["error_code"] for e in fresh["errors"]}
    assert list(world.stack.codes_on("back_door").values()).count("1593") == 1


def test_a_lock_offline_across_check_in_is_flagged_and_gets_its_code_when_back(
    world: World,
) -> None:
    lock = world.locks["front_door"]
    start = world.now() + timedelta(hours=5)
    code = world.seam.access_codes.create(
        device_id=lock,
        name="Guest",
        code="3571",
        starts_at=_iso(start),
        ends_at=_iso(start + timedelta(days=1)),
    )
    world.stack.go_offline("front_door")
    world.settle(
        lambda: (
            not next(d for d in world.devices() if d["device_id"] == lock)["properties"]["online"]
        ),
        "the lock shown offline",
    )
    world.advance((start - world.now()).total_seconds() + 60)
    fresh = world.code(code.access_code_id)
    assert fresh["status"] != "set"
    assert {e["error_code"] for e in fresh["errors"]} & {
        "failed_to_set_on_device",
        "device_offline",
    }
    world.stack.go_online("front_door")
    world.settle(
        lambda: world.code(code.access_code_id)["status"] == "set", "the code set once it is back"
    )
    assert "3571" in world.stack.codes_on("front_door").values()


def test_the_installation_restarting_fails_no_code(world: World) -> None:
    lock = world.locks["back_door"]
    codes = [
        world.ok("/access_codes/create", device_id=lock, name=f"Guest {n}", code=f"{n}8{n}4")[
            "access_code"
        ]
        for n in range(1, 4)
    ]
    world.stack.restart()
    world.settle(
        lambda: all(world.code(c["access_code_id"])["status"] == "set" for c in codes),
        "every code set across the restart",
    )
    for c in codes:
        fresh = world.code(c["access_code_id"])
        assert fresh["errors"] == [] and fresh["warnings"] == []
    assert sorted(world.stack.codes_on("back_door").values()) == ["1814", "2824", "3834"]


def test_lock_and_unlock_the_door_through_action_attempts(world: World) -> None:
    lock = world.locks["front_door"]
    for path, locked in (("/locks/unlock_door", False), ("/locks/lock_door", True)):
        attempt = world.ok(path, device_id=lock)["action_attempt"]
        assert attempt["status"] == "pending"
        done = eventually(
            lambda attempt=attempt: (
                world.ok("/action_attempts/get", action_attempt_id=attempt["action_attempt_id"])[
                    "action_attempt"
                ]["status"]
                != "pending"
                and world.ok(
                    "/action_attempts/get", action_attempt_id=attempt["action_attempt_id"]
                )["action_attempt"]
            ),
            f"{path} finished",
        )
        assert done["status"] == "success", done
        device = next(d for d in world.devices() if d["device_id"] == lock)
        assert device["properties"]["locked"] is locked


def test_a_lock_with_every_slot_taken_says_so_before_it_is_due(world: World) -> None:
    lock = world.locks["back_door"]
    device = next(d for d in world.devices() if d["device_id"] == lock)
    room = device["properties"]["max_active_codes_supported"]
    for n in range(room):
        world.ok("/access_codes/create", device_id=lock, name=f"Staff {n}", code=f"{5000 + n * 7}")
    world.advance(0)
    start = world.now() + timedelta(days=5)
    late = world.seam.access_codes.create(
        device_id=lock,
        name="Guest",
        code="9182",
        starts_at=_iso(start),
        ends_at=_iso(start + timedelta(days=1)),
    )
    world.advance(0)
    issues = {e["error_code"] for e in world.code(late.access_code_id)["errors"]}
    assert "no_space_for_access_code_on_device" in issues  # five days ahead, not at check-in
    assert len(world.stack.codes_on("back_door")) == room


def test_check_out_on_a_lock_that_is_offline_is_removed_when_it_is_back(world: World) -> None:
    lock = world.locks["front_door"]
    start = world.now() + timedelta(hours=2)
    code = world.seam.access_codes.create(
        device_id=lock,
        name="Guest",
        code="6284",
        starts_at=_iso(start),
        ends_at=_iso(start + timedelta(hours=10)),
    )
    world.advance((start - world.now()).total_seconds() + 60)
    assert world.code(code.access_code_id)["status"] == "set"
    world.stack.go_offline("front_door")
    world.advance(11 * HOUR)  # past check-out
    fresh = world.code(code.access_code_id)
    assert fresh["status"] == "removing"
    assert {w["warning_code"] for w in fresh["warnings"]} & {"delay_in_removing_from_device"} or {
        e["error_code"] for e in fresh["errors"]
    } & {"failed_to_remove_from_device"}
    assert "6284" in world.stack.codes_on("front_door").values()  # the lock could not be told
    world.stack.go_online("front_door")
    world.settle(
        lambda: (
            "6284" not in world.stack.codes_on("front_door").values()
            and world.http.post(
                "/access_codes/get", json={"access_code_id": code.access_code_id}
            ).status_code
            == 404
        ),
        "the code removed once the lock is back",
    )


def test_an_account_deleted_takes_its_locks_and_a_deleted_lock_stays_deleted(
    world: World,
) -> None:
    gone = world.locks["back_door"]
    world.ok("/devices/delete", device_id=gone)
    world.ok("/connected_accounts/sync", connected_account_id=world.account_id)
    time.sleep(1)
    world.ok("/connected_accounts/sync", connected_account_id=world.account_id)
    eventually(
        lambda: {d["device_id"] for d in world.devices()} == {world.locks["front_door"]},
        "only the lock not deleted is listed",
    )
    assert "device.deleted" in [e["event_type"] for e in world.events(device_id=gone)]
    world.ok("/connected_accounts/delete", connected_account_id=world.account_id)
    assert world.devices() == []
    listed = world.ok("/connected_accounts/list")["connected_accounts"]
    assert world.account_id not in {a["connected_account_id"] for a in listed}
