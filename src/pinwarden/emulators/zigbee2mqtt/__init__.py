"""A Zigbee2MQTT stand-in for keypad locks: what Zigbee2MQTT publishes for a Kwikset, Schlage or
Yale keypad lock, on a real MQTT broker, so pinwarden's zigbee2mqtt adapter can be tried and
tested without a coordinator. Run it with `python -m pinwarden.emulators.zigbee2mqtt`.

- `models`: the lock models and their exposes (`bridge/devices`);
- `lock`: one lock and the converters' behaviour (pure);
- `topology`: `bridge/devices` and `bridge/info`;
- `bridge`: the MQTT side and the control interface (`Zigbee2MQTTEmulator`).
"""

from pinwarden.emulators.zigbee2mqtt.bridge import CONTROL_COMMANDS, Zigbee2MQTTEmulator
from pinwarden.emulators.zigbee2mqtt.lock import EmulatedLock
from pinwarden.emulators.zigbee2mqtt.models import MODELS, LockModel

__all__ = ["CONTROL_COMMANDS", "MODELS", "EmulatedLock", "LockModel", "Zigbee2MQTTEmulator"]
