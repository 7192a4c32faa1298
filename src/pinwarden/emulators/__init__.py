"""Stand-ins for the lock stacks pinwarden talks to, so it can be tried and tested without
hardware. Each speaks its stack's real wire protocol to pinwarden's real adapter: the Zigbee2MQTT
emulator publishes what Zigbee2MQTT publishes, on a real MQTT broker."""
