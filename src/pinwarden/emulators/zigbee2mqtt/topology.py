"""The bridge topics Zigbee2MQTT publishes about its network: `bridge/devices`, `bridge/info`.

Shapes from Zigbee2MQTT's lib/extension/bridge.ts (`publishDevices`, `getDefinitionPayload`,
`publishInfo`). Values a real network decides itself (addresses, date codes, clusters) are
plausible constants. `bridge/info` carries the part of the configuration an adapter needs (the
base topic, availability, each device's `expose_pin`), not the whole settings and schema.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pinwarden.emulators.zigbee2mqtt.lock import EmulatedLock
from pinwarden.emulators.zigbee2mqtt.models import expose_pin_option

COORDINATOR_IEEE = "0x00124b0024c2a1f3"
Z2M_VERSION = "2.6.0"

_LOCK_INPUT_CLUSTERS = [
    "genBasic",
    "genPowerCfg",
    "genIdentify",
    "genAlarms",
    "genPollCtrl",
    "closuresDoorLock",
]


def devices_payload(locks: Sequence[EmulatedLock]) -> list[dict[str, Any]]:
    """`bridge/devices`: the coordinator, then every lock."""
    return [_coordinator(), *(_device(lock) for lock in locks)]


def _coordinator() -> dict[str, Any]:
    # No definition: getDefinitionPayload returns undefined and the key is left out.
    return {
        "ieee_address": COORDINATOR_IEEE,
        "type": "Coordinator",
        "network_address": 0,
        "supported": True,
        "friendly_name": "Coordinator",
        "disabled": False,
        "power_source": "Mains (single phase)",
        "interviewing": False,
        "interview_completed": True,
        "interview_state": "SUCCESSFUL",
        "endpoints": {"1": _endpoint(["genBasic", "genIdentify"], [], [])},
    }


def _device(lock: EmulatedLock) -> dict[str, Any]:
    model = lock.model
    bindings = [
        {
            "cluster": cluster,
            "target": {"type": "endpoint", "ieee_address": COORDINATOR_IEEE, "endpoint": 1},
        }
        for cluster in ("closuresDoorLock", "genPowerCfg")
    ]
    reportings = [
        _reporting("closuresDoorLock", "lockState", 0, 3600, 0),
        _reporting("genPowerCfg", "batteryPercentageRemaining", 3600, 62000, 0),
    ]
    return {
        "ieee_address": lock.ieee,
        "type": "EndDevice",
        "network_address": lock.network_address,
        "supported": True,
        "friendly_name": lock.name,
        "disabled": False,
        "definition": {
            "source": "native",
            "model": model.model,
            "vendor": model.vendor,
            "description": model.description,
            "exposes": model.exposes(),
            "supports_ota": False,
            "options": [expose_pin_option()],
        },
        "power_source": "Battery",
        "model_id": model.zigbee_model,
        "interviewing": False,
        "interview_completed": True,
        "interview_state": "SUCCESSFUL",
        "manufacturer": model.vendor,
        "endpoints": {str(model.endpoint): _endpoint(_LOCK_INPUT_CLUSTERS, bindings, reportings)},
    }


def _endpoint(inputs: list[str], bindings: list[Any], reportings: list[Any]) -> dict[str, Any]:
    return {
        "bindings": bindings,
        "configured_reportings": reportings,
        "clusters": {"input": inputs, "output": ["genOta", "genTime"] if bindings else []},
        "scenes": [],
    }


def _reporting(cluster: str, attribute: str, low: int, high: int, change: int) -> dict[str, Any]:
    return {
        "cluster": cluster,
        "attribute": attribute,
        "minimum_report_interval": low,
        "maximum_report_interval": high,
        "reportable_change": change,
    }


def info_payload(base_topic: str, server: str, locks: Sequence[EmulatedLock]) -> dict[str, Any]:
    """`bridge/info`, cut down to what a client reads."""
    devices = {
        lock.ieee: {"friendly_name": lock.name, "expose_pin": lock.expose_pin} for lock in locks
    }
    return {
        "version": Z2M_VERSION,
        "commit": "emulator",
        "coordinator": {"ieee_address": COORDINATOR_IEEE, "type": "zStack3x0", "meta": {}},
        "network": {"pan_id": 6754, "extended_pan_id": "0xdddddddddddddddd", "channel": 11},
        "log_level": "info",
        "permit_join": False,
        "restart_required": False,
        "config": {
            "mqtt": {"base_topic": base_topic, "server": server},
            "availability": {"enabled": True},
            "advanced": {"cache_state": True, "output": "json", "last_seen": "disable"},
            "devices": devices,
        },
    }
