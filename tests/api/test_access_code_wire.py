"""An access code's JSON is kept by the database (store/access_code_wire.py), on SQLite and on
PostgreSQL: whoever changes a code, every way of reading it says the same, at once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from pinwarden.store import access_code_wire
from tests.support import Api


def _listed(api: Api, access_code_id: str) -> dict[str, object]:
    codes = api.ok("/access_codes/list", access_code_ids=[access_code_id])["access_codes"]
    assert len(codes) == 1
    return dict(codes[0])


def test_create_get_list_and_the_action_attempt_say_the_same_to_the_millisecond(
    api: Api,
) -> None:
    # Microseconds that would round up: the wire cuts them to milliseconds, everywhere.
    start = (api.now() + timedelta(days=20)).replace(microsecond=999_999)
    made = api.ok(
        "/access_codes/create",
        device_id=api.devices["august"],
        name='Zoë\'s "stay"',
        code="482193",
        starts_at=start.isoformat(),
        ends_at=(start + timedelta(days=2)).isoformat(),
    )
    code = made["access_code"]
    assert code["starts_at"] == start.strftime("%Y-%m-%dT%H:%M:%S.999Z")
    got = api.ok("/access_codes/get", access_code_id=code["access_code_id"])["access_code"]
    assert got == code == made["action_attempt"]["result"]["access_code"]
    assert _listed(api, code["access_code_id"]) == code


def test_a_change_by_the_engine_is_read_at_once_by_get_and_list(api: Api) -> None:
    made = api.ok("/access_codes/create", device_id=api.devices["yale"], name="Now", code="5932")
    access_code_id = made["access_code"]["access_code_id"]
    assert made["access_code"]["status"] == "unset"
    api.advance(60)  # the engine programs the code and confirms it on the lock
    got = api.ok("/access_codes/get", access_code_id=access_code_id)["access_code"]
    assert got["status"] == "set"
    assert got["pending_mutations"] == []
    assert _listed(api, access_code_id) == got
    listed = api.ok("/access_codes/list", device_id=api.devices["yale"])["access_codes"]
    assert [c for c in listed if c["access_code_id"] == access_code_id] == [got]


def test_a_generated_code_is_shown_as_a_whole_access_code(api: Api) -> None:
    body = api.ok("/access_codes/generate_code", device_id=api.devices["august"])
    generated = body["generated_code"]
    assert generated["device_id"] == api.devices["august"]
    assert generated["code"].isdigit() and len(generated["code"]) in (4, 5, 6)
    assert generated["type"] == "ongoing" and generated["status"] == "unset"
    assert generated["is_managed"] is True and generated["starts_at"] is None
    assert generated["errors"] == [] and generated["pending_mutations"] == []
    assert generated["created_at"] == api.ok("/sandbox/clock/get")["now"]


def test_the_database_renders_with_the_expression_of_this_version(api: Api) -> None:
    """A change to store/access_code_wire.py needs a migration that renders every row again."""
    store = api.runtime.deps.store
    with store.read() as conn:
        if store.is_sqlite:
            ddl = conn.execute(
                text("SELECT sql FROM sqlite_master WHERE name = 'access_codes'")
            ).scalar_one()
            assert access_code_wire.sqlite_column_sql() in ddl
        else:
            body = conn.execute(
                text("SELECT prosrc FROM pg_proc WHERE proname = :name"),
                {"name": access_code_wire.PG_FUNCTION},
            ).scalar_one()
            assert access_code_wire.pg_trigger_ddl()[0].split("$$")[1] == body
