"""schemathesis against /openapi.json: generated requests to every operation, bounded, and not
one answered with a server error or a 200 that breaks the document."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import response_schema_conformance

from pinwarden.engine.clock import SystemClock
from pinwarden.server import build
from pinwarden.service import access_codes, auth
from pinwarden.service.sandbox import seed_sandbox_devices
from pinwarden.store.store import Store
from tests.support import ServerThread

# Generated cases per operation: about 80 operations, well under a minute in all.
MAX_EXAMPLES = 6


@pytest.fixture
def served_schema(sqlite_store: Store) -> Iterator[Any]:
    """A workspace with locks and a code, behind a real server on the system clock with no
    engine thread and no webhook dispatcher running (nothing leaves the machine)."""
    runtime = build(sqlite_store, clock=SystemClock(), embedded=False)
    workspace = auth.create_workspace(runtime.deps, "Fuzzed")
    key = auth.create_api_key(runtime.deps, workspace).token
    august = seed_sandbox_devices(runtime.deps, workspace)["august"]
    code = access_codes.create(runtime.deps, workspace, {"device_id": august, "code": "4821"})
    known = {"device_id": august, "access_code_id": code["access_code"]["access_code_id"]}
    config = SchemathesisConfig.from_dict(
        {
            "headers": {"Authorization": f"Bearer {key}"},
            "parameters": known,
            "generation": {"max-examples": MAX_EXAMPLES},
        }
    )
    with ServerThread(runtime.app) as server:
        yield schemathesis.openapi.from_url(f"{server.url}/openapi.json", config=config)
    runtime.close()


def _failures(operation: Any) -> list[str]:
    """Generated requests to one operation; what went wrong, if anything."""
    failures: list[str] = []

    @given(case=operation.as_strategy())
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def run(case: Any) -> None:
        response = case.call()
        if response.status_code >= 500:
            failures.append(f"{case.method} {case.path} {response.status_code}: {response.text}")
        elif response.status_code == 200:
            try:
                case.validate_response(response, checks=[response_schema_conformance])
            except Exception as exc:  # noqa: BLE001 (every way the answer breaks the document)
                failures.append(f"{case.method} {case.path}: {str(exc)[:500]}")

    run()
    return failures


# pytest 9 runs schemathesis's own pytest plugin no more (it reads a private attribute pytest
# dropped), so the operations are driven here, one hypothesis run each.
def test_no_generated_request_gets_a_server_error(served_schema: Any) -> None:
    operations = [result.ok() for result in served_schema.get_all_operations()]
    assert len(operations) > 70
    failures = [f for operation in operations for f in _failures(operation)]
    assert failures == [], "\n".join(failures[:10])
