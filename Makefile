# The README's two commands: `make demo` and `make test`. Also `make bench` (bench/README.md).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# `make demo PORT=8081 DATA_DIR=/tmp/demo` to run it elsewhere.
PORT ?= 8080
DATA_DIR ?= .pinwarden
# `make bench BENCH_ARGS="--codes 1000 --seconds 5"`
BENCH_ARGS ?=

# `make zigbee-emulator BROKER=mqtt://127.0.0.1:1883 BASE_TOPIC=zigbee2mqtt LOCKS=3`
BROKER ?= mqtt://127.0.0.1:1883
BASE_TOPIC ?= zigbee2mqtt
LOCKS ?= 3

.PHONY: demo demo-zwave demo-zigbee test install lint bench zigbee-emulator

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Prints the endpoint, the API key, the console URL and the virtual clock's time.
demo: $(STAMP)
	$(BIN)/pinwarden serve --demo --data-dir $(DATA_DIR) --port $(PORT) --virtual-clock

# pinwarden with emulated real-protocol locks (README: Real locks). demo-zwave needs Node 20+
# (the real Z-Wave JS stack from npm); demo-zigbee needs an MQTT broker (BROKER=...).
demo-zwave: $(STAMP)
	npm ci --prefix emulators/zwave --no-audit --no-fund --silent
	$(BIN)/python -m emulators.demo zwave --port $(PORT) --locks $(LOCKS)

demo-zigbee: $(STAMP)
	$(BIN)/python -m emulators.demo zigbee --port $(PORT) --locks $(LOCKS) --broker $(BROKER)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench emulators
	$(BIN)/ruff format --check src tests bench emulators
	$(BIN)/mypy

# Two workers; each line of dots ends with a count of the tests done so far ([120/512]).
# Browser screenshots land in artifacts/screenshots/ (PINWARDEN_SCREENSHOTS elsewhere).
test: lint
	$(BIN)/pytest -q -n 2 --dist loadgroup -o console_output_style=count

# A Zigbee2MQTT stand-in with keypad locks on the broker (README: Real locks).
zigbee-emulator: $(STAMP)
	$(BIN)/python -m pinwarden.emulators.zigbee2mqtt --broker $(BROKER) --base-topic $(BASE_TOPIC) --locks $(LOCKS)

bench: $(STAMP)
	$(BIN)/python bench/api.py $(BENCH_ARGS)
