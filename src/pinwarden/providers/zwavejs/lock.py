"""One Z-Wave keypad lock: its slots (User Code CC) and its bolt (Door Lock CC).

A read of the whole lock asks only the slots it cannot trust from the lock's own reports
(reports.py). Every write checks the slot first with a fresh read (a keypad change since the
plan makes it `STALE`, and nothing is written), sends the change, and reads the slot again:
the read decides whether it is confirmed. "Success Unsupervised" (254) only means the lock
acknowledged the frame; a v1 lock refuses a duplicate PIN exactly that way, then sends Access
Control event 15 and leaves the slot empty. A dead node is never sent a write: zwave-js would queue it and
deliver it whenever the lock came back, long after pinwarden had planned around it.
"""

from __future__ import annotations

from datetime import datetime

from zwave_js_server.const import NodeStatus, SetValueStatus
from zwave_js_server.model.node import Node

from pinwarden.catalog.brands import brand_profile
from pinwarden.domain.model import Capabilities, Observation, ObservedSlot
from pinwarden.providers.base import (
    ClearSlot,
    Command,
    DeviceUnreachable,
    SetSlot,
    WriteResult,
    slot_matches,
)
from pinwarden.providers.zwavejs.commands import (
    Gone,
    NoAnswer,
    NodeCommands,
    Refused,
    SetOutcome,
    observed_slot,
)
from pinwarden.providers.zwavejs.connection import Connection
from pinwarden.providers.zwavejs.reports import LockReports

ERRORS = brand_profile("zwave_lock").errors
# How long a write waits for event 15 after a supervised "Fail" before calling it a plain failure.
_REFUSAL_WAIT = 2.0
_ACCEPTED = (SetValueStatus.SUCCESS, SetValueStatus.SUCCESS_UNSUPERVISED, SetValueStatus.WORKING)
_UNREACHABLE_STATUSES = (NodeStatus.DEAD, NodeStatus.ASLEEP)


class ZwaveJsLock:
    """Implements `Lock` and `DoorControl` for one node of a Z-Wave JS server."""

    def __init__(
        self,
        connection: Connection,
        reports: LockReports,
        node_id: int,
        capabilities: Capabilities,
    ) -> None:
        self._connection = connection
        self._reports = reports
        self._node_id = node_id
        self._capabilities = capabilities
        self._commands = NodeCommands(connection, reports, node_id)

    @property
    def ref(self) -> str:
        return str(self._node_id)

    # -- Lock ----------------------------------------------------------------------------------

    async def read(self, at: datetime) -> Observation:
        """Every slot: as the lock last reported it while that can be trusted (reports.py),
        otherwise read fresh from the lock (one User Code Get per slot)."""
        self._reachable_node()
        since, doubts = self._reports.mark(), self._reports.doubts()
        occupied: list[ObservedSlot] = []
        asked = 0
        for slot in range(1, self._capabilities.slot_count + 1):
            known = self._reports.trusted(self._node_id, slot, at)
            try:
                if known is None:
                    asked += 1
                    seen = await self._commands.read_slot(slot)
                else:
                    seen = observed_slot(slot, known)
            except _COMMAND_FAILURES as exc:
                raise _unreachable(exc) from None
            if seen is not None:
                occupied.append(seen)
        if asked == self._capabilities.slot_count:
            self._reports.read_in_full(self._node_id, since, doubts, at)
        return Observation(read_at=at, slots=tuple(occupied))

    async def write(self, at: datetime, command: Command) -> WriteResult:
        if isinstance(command, SetSlot) and (refusal := self._unsendable(command)) is not None:
            return refusal
        try:
            self._reachable_node()
            seen = await self._commands.read_slot(command.slot)
            if isinstance(command, ClearSlot):
                return await self._clear(command, seen)
            return await self._set(command, seen)
        except DeviceUnreachable as exc:
            return WriteResult.unreachable(exc.issue_code, exc.message)
        except _COMMAND_FAILURES as exc:
            return _failed(exc)

    # -- DoorControl -----------------------------------------------------------------------------

    async def set_locked(self, at: datetime, locked: bool) -> WriteResult:
        """Turn the bolt; confirmed once the lock reports the mode asked for."""
        try:
            self._reachable_node()
            outcome = await self._commands.set_bolt(locked)
            if outcome.status not in _ACCEPTED:
                return WriteResult.rejected("provider_issue", _status_text(outcome), terminal=False)
            if await self._commands.read_bolt() == locked:
                return WriteResult.confirmed()
            return WriteResult.unconfirmed()
        except DeviceUnreachable as exc:
            return WriteResult.unreachable(exc.issue_code, exc.message)
        except _COMMAND_FAILURES as exc:
            return _failed(exc)

    # -- the two writes --------------------------------------------------------------------------

    async def _set(self, command: SetSlot, seen: ObservedSlot | None) -> WriteResult:
        if not slot_matches(seen, command.expect):
            return WriteResult.stale(seen)
        assert command.code is not None
        refusals_before = self._reports.refusals(self._node_id, command.slot)
        try:
            outcome = await self._commands.set_code(command.slot, command.code)
        except Refused as exc:
            code = ERRORS.bad_format if exc.bad_argument else ERRORS.set_failed
            return WriteResult.rejected(code, str(exc), terminal=exc.bad_argument)
        if outcome.status not in _ACCEPTED:
            return await self._set_refused(command.slot, outcome, refusals_before)
        try:
            after = await self._commands.read_slot(command.slot)
        except NoAnswer:
            return WriteResult.unconfirmed()  # acknowledged, then silent: read back later
        return self._judge_set(command, seen, after, outcome, refusals_before)

    def _judge_set(
        self,
        command: SetSlot,
        before: ObservedSlot | None,
        after: ObservedSlot | None,
        outcome: SetOutcome,
        refusals_before: int,
    ) -> WriteResult:
        refused = self._reports.refusals(self._node_id, command.slot) > refusals_before
        if after is None and (refused or outcome.status == SetValueStatus.SUCCESS_UNSUPERVISED):
            return _duplicate(command.slot)
        if after is None:
            return WriteResult.rejected(
                ERRORS.set_failed, "the slot is still empty", terminal=False
            )
        if after.code == command.code:
            return WriteResult.confirmed()
        if after.code is None and (outcome.status == SetValueStatus.SUCCESS or before is None):
            # A masking lock: it confirmed under Supervision, or an empty slot now holds a code.
            return WriteResult.confirmed()
        return WriteResult.unconfirmed()

    async def _set_refused(
        self, slot: int, outcome: SetOutcome, refusals_before: int
    ) -> WriteResult:
        if await self._reports.wait_for_refusal(
            self._node_id, slot, refusals_before, _REFUSAL_WAIT
        ):
            return _duplicate(slot)
        terminal = outcome.status in (
            SetValueStatus.NO_DEVICE_SUPPORT,
            SetValueStatus.INVALID_VALUE,
        )
        return WriteResult.rejected(ERRORS.set_failed, _status_text(outcome), terminal=terminal)

    async def _clear(self, command: ClearSlot, seen: ObservedSlot | None) -> WriteResult:
        if seen is None:
            return WriteResult.confirmed()
        if not slot_matches(seen, command.expect):
            return WriteResult.stale(seen)
        try:
            outcome = await self._commands.clear_slot(command.slot)
        except Refused as exc:
            return WriteResult.rejected(ERRORS.remove_failed, str(exc), terminal=False)
        if outcome.status not in _ACCEPTED:
            return WriteResult.rejected(ERRORS.remove_failed, _status_text(outcome), terminal=False)
        try:
            after = await self._commands.read_slot(command.slot)
        except NoAnswer:
            return WriteResult.unconfirmed()
        if after is None:
            return WriteResult.confirmed()
        if outcome.status == SetValueStatus.SUCCESS_UNSUPERVISED:
            return WriteResult.unconfirmed()
        return WriteResult.rejected(
            ERRORS.remove_failed, "the slot still holds a code", terminal=False
        )

    # -- helpers -------------------------------------------------------------------------------

    def _reachable_node(self) -> Node:
        """The node, if the lock can be talked to now; raises DeviceUnreachable otherwise."""
        node = self._connection.driver.controller.nodes.get(self._node_id)
        if node is None:
            raise DeviceUnreachable("device_removed", "the Z-Wave network has no such node")
        if node.status in _UNREACHABLE_STATUSES:
            status = node.status.name.lower()
            raise DeviceUnreachable(ERRORS.offline, f"Z-Wave JS reports the lock {status}")
        return node

    def _unsendable(self, command: SetSlot) -> WriteResult | None:
        """A PIN no Z-Wave keypad lock can take (User Code CC: 4-10 digits, sent as text)."""
        code = command.code
        lengths = self._capabilities.supported_code_lengths
        if code is None:
            message = "a Z-Wave lock cannot make up a PIN itself"
        elif not (code.isascii() and code.isdigit()) or len(code) not in lengths:
            message = f"a PIN for this lock has {min(lengths)} to {max(lengths)} digits"
        else:
            return None
        return WriteResult.rejected(ERRORS.bad_format, message, terminal=True)


# What a command's failure says about the lock: its catalog code, and words for the message.
_FAILURES: dict[type[Exception], tuple[str, str]] = {
    NoAnswer: (ERRORS.offline, "the lock did not answer"),
    Gone: ("device_removed", "the lock left the Z-Wave network"),
    Refused: ("provider_issue", "the lock or the server refused the command"),
}
_COMMAND_FAILURES = (NoAnswer, Gone, Refused)


def _unreachable(exc: Exception) -> DeviceUnreachable:
    code, words = _FAILURES[type(exc)]
    return DeviceUnreachable(code, f"{words}: {exc}")


def _failed(exc: Exception) -> WriteResult:
    """A write's result when one of its commands failed: a refusal is the lock's answer (and
    may pass), silence or a missing node make the lock unreachable."""
    code, words = _FAILURES[type(exc)]
    if isinstance(exc, Refused):
        return WriteResult.rejected(code, f"{words}: {exc}", terminal=False)
    return WriteResult.unreachable(code, f"{words}: {exc}")


def _duplicate(slot: int) -> WriteResult:
    return WriteResult.rejected(
        ERRORS.duplicate,
        f"the lock refused the PIN for slot {slot}: another slot already holds it "
        "(Access Control event 15, or the slot stayed empty after an acknowledged write)",
        terminal=True,
    )


def _status_text(outcome: SetOutcome) -> str:
    name = outcome.status.name.replace("_", " ").lower()
    return f"the lock answered {name}" + (f": {outcome.message}" if outcome.message else "")
