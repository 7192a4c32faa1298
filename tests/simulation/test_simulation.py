"""The booking-calendar simulation, small and with a fixed seed, through the real CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from pinwarden.engine.simulation import START, Booking, Simulation
from pinwarden.store.store import Store

# A fixed seed gives exactly this run, to the last figure: 14 locks (two of each brand), three
# weeks of stays, faults on most locks (a PIN and names the locks refuse, flaky writes, keypad
# changes, an offline lock, an offline check-out). Any change in these figures is a change in
# behaviour: explain it.
EXPECTED = json.loads("""
{"devices": 14, "days": 21, "faults": "harsh", "seed": 2, "bookings": 49, "on_lock_by_start_pct": 97.96, "problem_codes": 1, "problems_flagged_by_deadline_pct": 100.0, "false_alarms": 0, "codes_lost": 0, "codes_left_after_end": 1, "codes_opening_after_end": 0, "left_after_end_flagged": 1, "duplicate_slot_incidents": 0, "reconciles": 232, "faulty_locks": ["pin_refusal", "flaky", "keypad_change", "keypad_change", "offline_checkout", "offline", "flaky", "name_refusal", "flaky", "name_refusal"], "misses": []}""")


def _simulate(seed: int) -> dict[str, object]:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pinwarden.cli",
            "simulate",
            "--devices",
            "14",
            "--days",
            "21",
            "--faults",
            "harsh",
            "--seed",
            str(seed),
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    report: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return report


def test_fixed_seed_simulation_reports_exactly_the_known_figures() -> None:
    """The same seed gives the same report, every figure and the codes it names."""
    report = _simulate(2)
    assert report == EXPECTED
    assert report["misses"] == []
    assert report["codes_opening_after_end"] == 0
    assert report["codes_left_after_end"] == report["left_after_end_flagged"]


def test_the_report_names_the_code_behind_a_miss_and_the_promise_broken(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'sim.db'}")
    store.upgrade()
    sim = Simulation(store, devices=2, days=2, faults="none", seed=1)
    stay = Booking(
        sim.devices[0], "august", START + timedelta(days=5), START + timedelta(days=7), START
    )
    stay.access_code_id = "code-1"
    stay.on_lock_at_start = False  # not on the lock, its lock had no fault, nothing said so
    stay.opens_after_end = True
    (p1, p2, p4) = sim._misses(stay)
    assert [m["promise"] for m in (p1, p2, p4)] == ["P1", "P2", "P4"]
    assert {m["access_code_id"] for m in (p1, p2, p4)} == {"code-1"}
    assert p1["lock"] == "august 0" and p1["faults"] == []
    sim.engine.close()
    store.dispose()
