"""The Z-Wave JS adapter on the real Z-Wave JS stack (emulators/zwave)."""
