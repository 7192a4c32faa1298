"""The booking-calendar simulation, small and with a fixed seed, through the real CLI."""

from __future__ import annotations

import json
import subprocess
import sys

# A fixed seed gives exactly this run: 14 locks (two of each brand), three weeks of stays,
# half the locks with a fault (outages, delays, flaky writes, full locks, duplicate PINs,
# keypad changes). Any change in these figures is a change in behaviour: explain it.
EXPECTED = json.loads("""
{"devices": 14, "days": 21, "faults": "harsh", "seed": 3, "bookings": 42, "on_lock_by_start_pct": 100.0, "problem_codes": 0, "problems_flagged_by_deadline_pct": 100.0, "false_alarms": 0, "codes_lost": 0, "codes_left_after_end": 2, "codes_opening_after_end": 1, "duplicate_slot_incidents": 0, "reconciles": 335, "faulty_locks": ["offline", "delay", "full", "outage", "full", "keypad_change", "outage", "delay", "duplicate"]}""")


def test_fixed_seed_simulation_reports_exactly_the_known_figures() -> None:
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
            "3",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    # Every outcome exactly. The number of reconciles is effort, not outcome: it came out one
    # higher twice in about 60 runs, both under full-suite load, never when run alone (cause
    # not found yet), so it may differ a little.
    effort = report.pop("reconciles")
    expected = {k: v for k, v in EXPECTED.items() if k != "reconciles"}
    assert report == expected, result.stderr[-4000:]
    assert abs(effort - EXPECTED["reconciles"]) <= 2, (effort, result.stderr[-4000:])
    assert report["codes_lost"] == 0
    assert report["duplicate_slot_incidents"] == 0
