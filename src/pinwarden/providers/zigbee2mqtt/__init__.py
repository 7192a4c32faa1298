"""Real keypad locks through a Zigbee2MQTT bridge, over MQTT (aiomqtt).

- `config`: the account's settings (broker url, base topic, TLS) and secrets;
- `account`: the broker connection, what Zigbee2MQTT publishes, discovery, events;
- `feeds`: what Zigbee2MQTT last said per topic, and the lock events it amounts to;
- `lock`: reading and writing one lock's slots, locking and unlocking its door;
- `payloads`: the message shapes (pure).
"""

from pinwarden.providers.zigbee2mqtt.account import BRAND, Zigbee2MQTTAccount, open_account
from pinwarden.providers.zigbee2mqtt.lock import Zigbee2MQTTLock

__all__ = ["BRAND", "Zigbee2MQTTAccount", "Zigbee2MQTTLock", "open_account"]
