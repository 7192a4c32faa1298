"""The Z-Wave commands pinwarden sends to one node, and what their answers mean.

User Code CC (99): a slot is read fresh from the lock with the CC API's `get` (zwave-js's cached
value lags a write by about a second), written with the CC API's `set` (status Enabled, the PIN
always as a string: a number is refused) and cleared with its `clear`. Not `node.set_value`, as
Home Assistant does: that keeps a slot's cached status (a disabled slot would stay disabled) and
always makes zwave-js read the slot again a second later, one more radio round trip per code on
top of pinwarden's own read. Door Lock CC (98): `targetMode` set, `currentMode` read. Errors from the server come back as values of this module
(`NoAnswer`, `Gone`, `Refused`) so the lock adapter decides what they mean for a write or a read;
no message here ever contains a PIN.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from zwave_js_server.const import CommandClass, SetValueStatus
from zwave_js_server.exceptions import FailedCommand, FailedZWaveCommand

from pinwarden.domain.model import ObservedSlot
from pinwarden.providers.base import AccountUnavailable
from pinwarden.providers.zwavejs.connection import Connection
from pinwarden.providers.zwavejs.reports import LockReports

log = logging.getLogger(__name__)


class UserIdStatus(IntEnum):
    AVAILABLE = 0
    ENABLED = 1
    DISABLED = 2
    MESSAGING = 3
    PASSAGE_MODE = 4
    NOT_AVAILABLE = 0xFE


# How long a read waits for zwave-js to file the lock's answer under the slot (reports.py).
_FILING_WAIT = 2.0


class DoorLockMode(IntEnum):
    UNSECURED = 0x00
    SECURED = 0xFF


# zwave-js error codes (ZWaveErrorCodes) that mean the lock did not answer, that it is no longer
# in the network, or that the server's driver itself is not working.
_NO_ANSWER = {200, 201, 202, 203, 204, 205, 206, 215}
_GONE = {211, 213}
_DRIVER_DOWN = {100, 101, 102, 103}
_BAD_ARGUMENT = {322}


class NoAnswer(Exception):
    """The lock did not answer (out of range, battery flat, or dead)."""


class Gone(Exception):
    """The node is not in the Z-Wave network any more."""


class Refused(Exception):
    """The server or the lock refused the command; `bad_argument` when it was the value."""

    def __init__(self, message: str, bad_argument: bool = False) -> None:
        super().__init__(message)
        self.bad_argument = bad_argument


def redacted(message: str, pin: str | None) -> str:
    """`message` with `pin` blotted out, should a server message ever quote it."""
    return message.replace(pin, "****") if pin else message


def _translate(exc: FailedCommand, pin: str | None) -> Exception:
    if isinstance(exc, FailedZWaveCommand):
        message = redacted(f"ZW{exc.zwave_error_code:04d}: {exc.zwave_error_message}", pin)
        if exc.zwave_error_code in _NO_ANSWER:
            return NoAnswer(message)
        if exc.zwave_error_code in _GONE:
            return Gone(message)
        if exc.zwave_error_code in _DRIVER_DOWN:
            return AccountUnavailable(f"the Z-Wave JS driver is not working: {message}")
        return Refused(message, bad_argument=exc.zwave_error_code in _BAD_ARGUMENT)
    if exc.error_code == "node_not_found":
        return Gone(f"the server has no node of that id ({exc.error_code})")
    return Refused(redacted(str(exc), pin))


# A Supervision Report's status, as the setValue status it amounts to. No report at all (the
# lock does not support Supervision) is "Success Unsupervised": sent, not known to be done.
_SUPERVISION_STATUS = {
    0x00: SetValueStatus.NO_DEVICE_SUPPORT,
    0x01: SetValueStatus.WORKING,
    0x02: SetValueStatus.FAIL,
    0xFF: SetValueStatus.SUCCESS,
}


@dataclass(frozen=True, slots=True)
class SetOutcome:
    status: SetValueStatus
    message: str


def supervised(answer: Any) -> SetOutcome:
    """What a CC API set's answer (a Supervision result, or nothing) says about the command."""
    if not isinstance(answer, dict):
        return SetOutcome(SetValueStatus.SUCCESS_UNSUPERVISED, "")
    status = _SUPERVISION_STATUS.get(int(answer.get("status", 0x02)), SetValueStatus.FAIL)
    return SetOutcome(status, "")


def _occupied(status: int) -> bool:
    return status not in (UserIdStatus.AVAILABLE, UserIdStatus.NOT_AVAILABLE)


def _pin(code: Any) -> str | None:
    """The PIN a report carried; None when the lock masks it (asterisks, blank) or sent bytes
    that are not digits."""
    if isinstance(code, dict) and code.get("type") == "Buffer":  # a Buffer, serialised
        code = bytes(code.get("data", [])).decode("ascii", errors="replace")
    if not isinstance(code, str) or not code or set(code) == {"*"}:
        return None
    return code if code.isascii() and code.isdigit() else None


def observed_slot(slot: int, report: dict[str, Any] | None) -> ObservedSlot | None:
    """A slot as a User Code Report gave it; None when empty."""
    if report is None:
        raise NoAnswer("the lock sent no User Code Report")
    status = report.get("userIdStatus")
    if status is None or not _occupied(int(status)):
        return None
    return ObservedSlot(slot=slot, code=_pin(report.get("userCode")))


class NodeCommands:
    """The commands for one node, through one connection."""

    def __init__(self, connection: Connection, reports: LockReports, node_id: int) -> None:
        self._connection = connection
        self._reports = reports
        self.node_id = node_id

    async def read_slot(self, slot: int) -> ObservedSlot | None:
        """The slot as the lock reports it now: the User Code values zwave-js files under this
        slot after the Get, not the Get's own answer, which may be another slot's (reports.py)."""
        since = self._reports.mark()
        answer = await self._invoke(
            CommandClass.USER_CODE, "get", slot, doing=f"reading slot {slot}"
        )
        filed = await self._reports.slot_report(self.node_id, slot, since, _FILING_WAIT)
        return observed_slot(slot, answer if filed is None else filed)

    async def users_count(self) -> int | None:
        count = await self._invoke(CommandClass.USER_CODE, "getUsersCount", doing="counting slots")
        return int(count) if isinstance(count, int) else None

    async def set_code(self, slot: int, code: str) -> SetOutcome:
        enabled = int(UserIdStatus.ENABLED)
        doing = f"writing slot {slot}"
        answer = await self._invoke(
            CommandClass.USER_CODE, "set", slot, enabled, code, doing=doing, pin=code
        )
        return supervised(answer)

    async def clear_slot(self, slot: int) -> SetOutcome:
        doing = f"clearing slot {slot}"
        return supervised(await self._invoke(CommandClass.USER_CODE, "clear", slot, doing=doing))

    async def set_bolt(self, locked: bool) -> SetOutcome:
        mode = DoorLockMode.SECURED if locked else DoorLockMode.UNSECURED
        return await self._set_value(
            CommandClass.DOOR_LOCK, "targetMode", None, int(mode), doing="turning the bolt"
        )

    async def read_bolt(self) -> bool | None:
        """True when the lock reports itself secured, False unsecured, None if it did not say."""
        report = await self._invoke(CommandClass.DOOR_LOCK, "get", doing="reading the bolt")
        mode = report.get("currentMode") if isinstance(report, dict) else None
        return None if mode is None else int(mode) == DoorLockMode.SECURED

    # -- the two kinds of server command -------------------------------------------------------

    async def _invoke(
        self, cc: CommandClass, method: str, *args: Any, doing: str, pin: str | None = None
    ) -> Any:
        message = {
            "command": "endpoint.invoke_cc_api",
            "nodeId": self.node_id,
            "endpoint": 0,
            "commandClass": int(cc),
            "methodName": method,
            "args": list(args),
        }
        result = await self._send(message, doing=doing, pin=pin)
        return result.get("response")

    async def _set_value(
        self,
        cc: CommandClass,
        prop: str,
        key: int | None,
        value: Any,
        *,
        doing: str,
        pin: str | None = None,
    ) -> SetOutcome:
        value_id: dict[str, Any] = {"commandClass": int(cc), "endpoint": 0, "property": prop}
        if key is not None:
            value_id["propertyKey"] = key
        message = {"command": "node.set_value", "nodeId": self.node_id, "valueId": value_id}
        result = await self._send({**message, "value": value}, doing=doing, pin=pin)
        answer = result.get("result") or {}
        status = SetValueStatus(int(answer.get("status", SetValueStatus.FAIL)))
        return SetOutcome(status, redacted(str(answer.get("message") or ""), pin))

    async def _send(self, message: dict[str, Any], *, doing: str, pin: str | None) -> Any:
        log.debug("node %s: %s", self.node_id, doing)  # `doing` names slots, never PINs
        client = self._connection.client
        try:
            return await self._connection.call(client.async_send_command(message), doing)
        except TimeoutError:
            raise NoAnswer(f"no answer within {self._connection.command_timeout:g} s") from None
        except FailedCommand as exc:
            raise _translate(exc, pin) from None
