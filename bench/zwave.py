"""Z-Wave benchmark: codes programmed per minute on many mock locks through one Z-Wave JS server,
at the adapter level (the end-to-end version through the API comes with the engine integration).

What it does (see bench/README.md):

1. starts the real Z-Wave JS stack (emulators/zwave: zwave-js's mock-server with `--locks` mock
   keypad locks, driven by one zwave-server) on loopback and waits until every lock is
   interviewed;
2. opens a `zwave_js` account (pinwarden's adapter, zwave-js-server-python) and discovers the locks;
3. programs one code on one lock while every other lock is idle (the time a code takes with no
   queue at the controller);
4. programs `--codes` codes on every lock: on one lock one write at a time, each started at least
   the brand's pacing (`min_command_interval_seconds`, 2 s for `zwave_lock`) after the one before,
   every lock in parallel. A write is the adapter's whole `SetSlot`: a fresh read of the slot, the
   set, and the read that confirms it; only CONFIRMED counts.

It prints codes per minute and the time from sending a code to its confirmation (p50, p95, max),
alone and under load: every lock shares one Z-Wave controller, which carries one transmission at
a time, so under load a write mostly waits its turn there.

    .venv/bin/python bench/zwave.py [--locks 20] [--codes 10] [--pacing 2.0] [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: emulators/

from emulators.zwave.stack import ZwaveStack  # noqa: E402

from pinwarden.catalog.brands import brand_profile  # noqa: E402
from pinwarden.engine.clock import SystemClock  # noqa: E402
from pinwarden.providers.base import AccountConfig, Lock, Outcome, SetSlot  # noqa: E402
from pinwarden.providers.zwavejs.account import ZwaveJsAccount  # noqa: E402


@dataclass
class Figures:
    locks: int
    codes_per_lock: int
    pacing_seconds: float
    stack_start_seconds: float = 0.0
    alone_seconds: float = 0.0
    elapsed_seconds: float = 0.0
    confirmed: int = 0
    other_outcomes: dict[str, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)

    @property
    def per_minute(self) -> float:
        return self.confirmed / self.elapsed_seconds * 60 if self.elapsed_seconds else 0.0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def pin_for(lock_index: int, code_index: int) -> str:
    """Six digits, unique on each lock (a repeated PIN would be refused as a duplicate)."""
    return f"{(lock_index * 7919 + code_index * 104729) % 900000 + 100000}"


async def program_lock(lock: Lock, index: int, figures: Figures) -> None:
    """One code after another on one lock, paced start to start."""
    clock = SystemClock()
    next_start = time.monotonic()
    for n in range(figures.codes_per_lock):
        await asyncio.sleep(max(0.0, next_start - time.monotonic()))
        sent = time.monotonic()
        next_start = sent + figures.pacing_seconds
        result = await lock.write(clock.now(), SetSlot(n + 1, pin_for(index, n), None, expect=None))
        if result.outcome is Outcome.CONFIRMED:
            figures.confirmed += 1
            figures.latencies.append(time.monotonic() - sent)
        else:
            key = f"{result.outcome}:{result.issue_code}"
            figures.other_outcomes[key] = figures.other_outcomes.get(key, 0) + 1


async def program_alone(lock: Lock, slot: int) -> float:
    """One code on one lock while the others are idle; its send -> confirmed time."""
    sent = time.monotonic()
    result = await lock.write(SystemClock().now(), SetSlot(slot, "24680", None, expect=None))
    if result.outcome is not Outcome.CONFIRMED:
        raise SystemExit(f"the lone code was not confirmed: {result}")
    return time.monotonic() - sent


async def measure(stack: ZwaveStack, figures: Figures) -> None:
    config = AccountConfig("bench", "zwave_js", {"url": stack.url})
    account = ZwaveJsAccount(config, SystemClock())
    await account.open(None)
    try:
        found = sorted(await account.discover(), key=lambda lock: int(lock.lock_ref))
        locks = [account.lock(d.lock_ref, d.capabilities) for d in found]
        figures.alone_seconds = await program_alone(locks[0], slot=found[0].capabilities.slot_count)
        started = time.monotonic()
        await asyncio.gather(*(program_lock(lock, i, figures) for i, lock in enumerate(locks)))
        figures.elapsed_seconds = time.monotonic() - started
    finally:
        await account.close()


def report(figures: Figures) -> None:
    total = figures.locks * figures.codes_per_lock
    ceiling = figures.locks * 60 / figures.pacing_seconds if figures.pacing_seconds else 0
    print(f"stack: {figures.locks} mock locks interviewed in {figures.stack_start_seconds:.1f} s")
    print(
        f"programmed: {figures.confirmed}/{total} codes confirmed in "
        f"{figures.elapsed_seconds:.1f} s, pacing {figures.pacing_seconds:g} s per lock"
    )
    if figures.other_outcomes:
        print(f"not confirmed: {figures.other_outcomes}")
    print(
        f"codes per minute: {figures.per_minute:.0f} (the pacing alone would allow {ceiling:.0f})"
    )
    print(f"one code on an otherwise idle network: {figures.alone_seconds * 1000:.0f} ms")
    if figures.latencies:
        print(
            "send -> confirmed, all locks at once: "
            f"p50 {figures.percentile(0.5) * 1000:.0f} ms, "
            f"p95 {figures.percentile(0.95) * 1000:.0f} ms, "
            f"max {max(figures.latencies) * 1000:.0f} ms, "
            f"mean {statistics.fmean(figures.latencies) * 1000:.0f} ms"
        )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--locks", type=int, default=20)
    parser.add_argument("--codes", type=int, default=10, help="codes per lock (at most 30)")
    pacing = brand_profile("zwave_lock").capabilities.min_command_interval_seconds
    parser.add_argument(
        "--pacing", type=float, default=pacing, help="seconds between writes to one lock"
    )
    parser.add_argument("--json", type=Path, help="also save the figures here")
    args = parser.parse_args()
    if not 1 <= args.codes <= 30:
        parser.error("--codes must be 1 to 30 (the mock locks have 30 slots)")

    figures = Figures(args.locks, args.codes, args.pacing)
    stack = ZwaveStack(locks=args.locks)
    began = time.monotonic()
    stack.start(timeout=60 + 15 * args.locks)
    figures.stack_start_seconds = time.monotonic() - began
    try:
        asyncio.run(measure(stack, figures))
    finally:
        stack.stop()
    report(figures)
    if args.json:
        data = {**figures.__dict__, "codes_per_minute": figures.per_minute}
        args.json.write_text(json.dumps(data, indent=2))
    return 0 if figures.confirmed == args.locks * args.codes else 1


if __name__ == "__main__":
    sys.exit(main())
