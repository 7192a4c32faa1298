// Driver options for `zwave-server --config driver.cjs` against the mock locks of locks.cjs.
//
// ZWAVE_CACHE_DIR: where the driver keeps its network cache (a fresh folder per stack; kept
// across a zwave-server restart so the locks are known again at once).
"use strict";

module.exports = {
	// zwave-server refuses a config file without an S0 key. The mock locks use no security, so
	// this key never protects anything; it only satisfies that check.
	securityKeys: { S0_Legacy: "0102030405060708090A0B0C0D0E0F10" },
	storage: { cacheDir: process.env.ZWAVE_CACHE_DIR },
	logConfig: { enabled: true, level: process.env.ZWAVE_LOG_LEVEL ?? "warn", logToFile: false, forceConsole: true },
	// As Home Assistant runs it: slots are read one by one when asked, not all at the interview.
	interview: { queryAllUserCodes: false },
	emitValueUpdateAfterSetValue: true,
	// A report may take up to 5 s (zwave-js's default is 1 s): the emulator's slow locks
	// (`delay_ms`) answer late without being taken for silent.
	timeouts: { report: 5000 },
};
