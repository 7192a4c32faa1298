"""Fixtures of the Zigbee2MQTT tests (support.py has the rest)."""

from tests.providers.zigbee2mqtt.support import base_topic, broker

__all__ = ["base_topic", "broker"]
