// zwave-js `mock-server` config: keypad door locks as Z-Wave nodes, plus a control channel.
//
// Each lock is a mock node with User Code CC (ZWAVE_MOCK_SLOTS slots, default 30), Door Lock CC, Notification CC (Access
// Control), Battery CC and a node name. Two kinds, as real locks come:
//   - "v1": User Code v1, no Supervision. A set is answered "Success Unsupervised"; a duplicate
//     PIN is refused silently (the slot stays empty) with Access Control event 15.
//   - "v2": User Code v2 with Supervision. A refused duplicate answers Supervision "Fail" (and
//     event 15).
// Every third lock (node 4, 7, ...) is "v2"; the others are "v1".
//
// The stock mock behaviours never send anything on their own, accept duplicate PINs and never
// mask, so the behaviours below add what real locks do. What happens at a lock's keypad (a code
// entered, added, changed or deleted) and its radio link (dead, back) is driven through a small
// HTTP control channel on 127.0.0.1 only (see `startControl` below for its routes).
//
// Environment: ZWAVE_MOCK_LOCKS (how many locks, default 3; node ids start at 2),
// ZWAVE_MOCK_SLOTS (user code slots per lock, default 30) and
// ZWAVE_MOCK_CONTROL_PORT (the control channel's port; 0 or unset: a free port, printed as
// "control channel listening on 127.0.0.1:PORT").
"use strict";

const http = require("node:http");
const { CommandClasses } = require("@zwave-js/core");
const { SendDataBridgeRequest, SendDataRequest } = require("@zwave-js/serial/serialapi");
const { ccCaps, createMockZWaveRequestFrame } = require("@zwave-js/testing");
const {
	BatteryCCGet,
	BatteryCCReport,
	DoorLockCCOperationGet,
	DoorLockCCOperationReport,
	DoorLockMode,
	NotificationCCReport,
	UserCodeCCExtendedUserCodeSet,
	UserCodeCCGet,
	UserCodeCCReport,
	UserCodeCCSet,
	UserIDStatus,
} = require("@zwave-js/cc");

const SLOTS = Number(process.env.ZWAVE_MOCK_SLOTS ?? 30);
const MASK = "**********";
const ACCESS_CONTROL = 6;
const EVENT = {
	manualLock: 1,
	manualUnlock: 2,
	keypadLock: 5,
	keypadUnlock: 6,
	codeDeleted: 13,
	codeAdded: 14,
	duplicateRefused: 15,
};

// The stock User Code and Door Lock behaviours keep their state under these keys; ours reuse them.
const key = {
	code: (slot) => `UserCode_userCode_${slot}`,
	status: (slot) => `UserCode_userIdStatus_${slot}`,
	mode: "DoorLock_currentMode",
	dead: "pinwarden_dead",
	masked: "pinwarden_masked",
	delayMs: "pinwarden_delay_ms",
	gets: "pinwarden_user_code_gets",
};

// -- the lock's own state --------------------------------------------------------------------

function slotCode(node, slot) {
	const status = node.state.get(key.status(slot));
	const code = node.state.get(key.code(slot));
	if (status === undefined || status === UserIDStatus.Available || !code) return undefined;
	return typeof code === "string" ? code : Buffer.from(code).toString("ascii");
}

function slotHolding(node, code, except) {
	for (let slot = 1; slot <= SLOTS; slot++) {
		if (slot !== except && slotCode(node, slot) === code) return slot;
	}
	return undefined;
}

function storeCode(node, slot, code) {
	node.state.set(key.status(slot), code ? UserIDStatus.Enabled : UserIDStatus.Available);
	node.state.set(key.code(slot), code);
}

// -- frames the lock sends on its own -------------------------------------------------------

async function send(controller, node, cc) {
	if (node.state.get(key.dead)) return; // a dead node's radio reaches nobody
	await node.sendToController(createMockZWaveRequestFrame(cc, { ackRequested: false }));
}

function accessControl(controller, node, event, slot) {
	return send(
		controller,
		node,
		new NotificationCCReport({
			nodeId: controller.ownNodeId,
			notificationType: ACCESS_CONTROL,
			notificationEvent: event,
			eventParameters: slot === undefined ? undefined : Uint8Array.from([slot]),
		}),
	);
}

function slotReport(controller, node, slot) {
	const code = slotCode(node, slot);
	const shown = code === undefined ? "" : node.state.get(key.masked) ? MASK : code;
	return send(
		controller,
		node,
		new UserCodeCCReport({
			nodeId: controller.ownNodeId,
			userId: slot,
			userIdStatus: code === undefined ? UserIDStatus.Available : UserIDStatus.Enabled,
			userCode: shown,
		}),
	);
}

function boltReport(controller, node) {
	const mode = node.state.get(key.mode) ?? DoorLockMode.Secured;
	return send(
		controller,
		node,
		new DoorLockCCOperationReport({
			nodeId: controller.ownNodeId,
			currentMode: mode,
			targetMode: mode,
			outsideHandlesCanOpenDoor: [true, true, true, true],
			insideHandlesCanOpenDoor: [true, true, true, true],
		}),
	);
}

// -- behaviours (consulted before the stock ones) ----------------------------------------------

// A dead node neither acknowledges nor answers anything.
const staysSilentWhenDead = {
	handleCC(controller, self) {
		if (self.state.get(key.dead)) return { action: "stop" };
	},
};

// Every User Code Get the lock hears is counted (`user_code_gets` in /describe): each is a radio
// round trip the whole network waits for.
const countsGets = {
	handleCC(controller, self, receivedCC) {
		if (receivedCC instanceof UserCodeCCGet) self.state.set(key.gets, (self.state.get(key.gets) ?? 0) + 1);
	},
};

// A lock slow to report: a Get is answered only after `delayMs` (by the behaviours below, as
// usual). Sets still take effect at once.
const reportsSlowly = {
	async handleCC(controller, self, receivedCC) {
		const ms = self.state.get(key.delayMs) ?? 0;
		const isGet = receivedCC instanceof UserCodeCCGet || receivedCC instanceof DoorLockCCOperationGet;
		if (ms > 0 && isGet) await new Promise((resolve) => setTimeout(resolve, ms));
		return undefined;
	},
};

// Masking locks report an occupied slot's PIN as asterisks.
const masksCodes = {
	handleCC(controller, self, receivedCC) {
		if (!(receivedCC instanceof UserCodeCCGet) || !self.state.get(key.masked)) return;
		const code = slotCode(self, receivedCC.userId);
		const cc = new UserCodeCCReport({
			nodeId: controller.ownNodeId,
			userId: receivedCC.userId,
			userIdStatus: code === undefined ? UserIDStatus.Available : UserIDStatus.Enabled,
			userCode: code === undefined ? "" : MASK,
		});
		return { action: "sendCC", cc };
	},
};

// A PIN that another slot already holds is not stored; the lock says so with event 15. A v1
// lock has already acknowledged the frame, so the controller only sees "Success Unsupervised";
// under Supervision the "fail" becomes a Supervision Fail.
const refusesDuplicates = {
	handleCC(controller, self, receivedCC) {
		let entries;
		if (receivedCC instanceof UserCodeCCSet) entries = [receivedCC];
		else if (receivedCC instanceof UserCodeCCExtendedUserCodeSet) entries = receivedCC.userCodes;
		else return;
		for (const entry of entries) {
			if (entry.userIdStatus === UserIDStatus.Available || !entry.userCode) continue;
			const code =
				typeof entry.userCode === "string"
					? entry.userCode
					: Buffer.from(entry.userCode).toString("ascii");
			if (slotHolding(self, code, entry.userId) !== undefined) {
				setImmediate(() => accessControl(controller, self, EVENT.duplicateRefused, entry.userId));
				return { action: "fail" };
			}
		}
	},
};

// The stock mocks have no Battery CC.
const reportsBattery = {
	handleCC(controller, self, receivedCC) {
		if (!(receivedCC instanceof BatteryCCGet)) return;
		return { action: "sendCC", cc: new BatteryCCReport({ nodeId: controller.ownNodeId, level: 87 }) };
	},
};

const behaviors = [staysSilentWhenDead, countsGets, reportsSlowly, masksCodes, refusesDuplicates, reportsBattery];

// -- the controller ---------------------------------------------------------------------------

// The mock controller refuses a new transmission while the last one is unfinished. One is left
// unfinished when zwave-server goes away mid-transaction (preload.cjs lets mock-server live on);
// zwave-js never overlaps transmissions, so one that arrives then starts afresh, as on a real
// controller stick whose host restarted.
const forgetsAbandonedTransmissions = {
	onHostMessage(controller, msg) {
		if (msg instanceof SendDataRequest || msg instanceof SendDataBridgeRequest) {
			controller.state.set("communicationState", 0); // MockControllerCommunicationState.Idle
		}
		return false; // the stock behaviour sends it
	},
};

// -- the nodes --------------------------------------------------------------------------------

function kindOf(index) {
	return index % 3 === 2 ? "v2" : "v1";
}

function lockNode(index) {
	const kind = kindOf(index);
	const commandClasses = [
		CommandClasses.Version,
		CommandClasses["Manufacturer Specific"],
		ccCaps({ ccId: CommandClasses["User Code"], isSupported: true, version: kind === "v2" ? 2 : 1, numUsers: SLOTS }),
		ccCaps({ ccId: CommandClasses["Door Lock"], isSupported: true, version: 4 }),
		ccCaps({
			ccId: CommandClasses.Notification,
			isSupported: true,
			version: 8,
			notificationTypesAndEvents: { [ACCESS_CONTROL]: Object.values(EVENT) },
		}),
		ccCaps({ ccId: CommandClasses.Battery, isSupported: true, version: 1 }),
		ccCaps({
			ccId: CommandClasses["Node Naming and Location"],
			isSupported: true,
			name: `Mock lock ${index + 1}`,
			location: "emulator",
		}),
	];
	if (kind === "v2") commandClasses.push(CommandClasses.Supervision);
	return {
		id: index + 2,
		capabilities: {
			// A routing end node of the Entry Control class: a secure keypad door lock.
			genericDeviceClass: 0x40,
			specificDeviceClass: 0x03,
			commandClasses,
		},
		behaviors,
	};
}

// -- the control channel ------------------------------------------------------------------------

function reset(node) {
	for (let slot = 1; slot <= SLOTS; slot++) storeCode(node, slot, undefined);
	node.state.set(key.mode, DoorLockMode.Secured);
	node.state.set(key.masked, false);
	node.state.set(key.delayMs, 0);
	node.state.set(key.dead, false);
	node.autoAckControllerFrames = true;
}

async function setDead(controller, node, dead) {
	node.state.set(key.dead, dead);
	node.autoAckControllerFrames = !dead;
	// The controller learns a node is back when it hears from it.
	if (!dead) await boltReport(controller, node);
}

async function keypadEntry(controller, node, code) {
	const slot = slotHolding(node, code);
	if (slot === undefined) return { opened: false };
	node.state.set(key.mode, DoorLockMode.Unsecured);
	await accessControl(controller, node, EVENT.keypadUnlock, slot);
	await boltReport(controller, node);
	return { opened: true, slot };
}

async function keypadProgram(controller, node, slot, code) {
	if (code !== null && slotHolding(node, code, slot) !== undefined) {
		await accessControl(controller, node, EVENT.duplicateRefused, slot);
		return { stored: false, reason: "duplicate" };
	}
	storeCode(node, slot, code ?? undefined);
	await accessControl(controller, node, code === null ? EVENT.codeDeleted : EVENT.codeAdded, slot);
	await slotReport(controller, node, slot);
	return { stored: true };
}

async function turnBolt(controller, node, locked, event) {
	node.state.set(key.mode, locked ? DoorLockMode.Secured : DoorLockMode.Unsecured);
	await accessControl(controller, node, event);
	await boltReport(controller, node);
	return { locked };
}

function describe(node) {
	const slots = {};
	for (let slot = 1; slot <= SLOTS; slot++) {
		const code = slotCode(node, slot);
		if (code !== undefined) slots[slot] = code;
	}
	return {
		node: node.id,
		kind: kindOf(node.id - 2),
		slot_count: SLOTS,
		slots,
		locked: (node.state.get(key.mode) ?? DoorLockMode.Secured) === DoorLockMode.Secured,
		dead: !!node.state.get(key.dead),
		masked: !!node.state.get(key.masked),
		delay_ms: node.state.get(key.delayMs) ?? 0,
		user_code_gets: node.state.get(key.gets) ?? 0,
	};
}

// POST routes; each body is JSON with `node` (a node id) and the fields shown.
const routes = {
	"/describe": async (c, n) => describe(n),
	"/reset": async (c, n) => (reset(n), describe(n)),
	"/configure": async (c, n, b) => {
		if (b.masked !== undefined) n.state.set(key.masked, !!b.masked);
		if (b.delay_ms !== undefined) n.state.set(key.delayMs, Number(b.delay_ms));
		if (b.dead !== undefined) await setDead(c, n, !!b.dead);
		return describe(n);
	},
	"/keypad/enter": async (c, n, b) => keypadEntry(c, n, String(b.code)), // {code}
	"/keypad/program": async (c, n, b) => keypadProgram(c, n, b.slot, String(b.code)), // {slot, code}
	"/keypad/delete": async (c, n, b) => keypadProgram(c, n, b.slot, null), // {slot}
	"/keypad/lock": async (c, n) => turnBolt(c, n, true, EVENT.keypadLock),
	"/manual/lock": async (c, n) => turnBolt(c, n, true, EVENT.manualLock),
	"/manual/unlock": async (c, n) => turnBolt(c, n, false, EVENT.manualUnlock),
};

function readJson(req) {
	return new Promise((resolve, reject) => {
		let body = "";
		req.on("data", (chunk) => (body += chunk));
		req.on("end", () => {
			try {
				resolve(body ? JSON.parse(body) : {});
			} catch (e) {
				reject(e);
			}
		});
	});
}

function startControl(controller, nodes) {
	const byId = new Map(nodes.map((n) => [n.id, n]));
	for (const node of nodes) reset(node);
	const server = http.createServer(async (req, res) => {
		const reply = (status, body) => {
			res.writeHead(status, { "content-type": "application/json" });
			res.end(JSON.stringify(body));
		};
		try {
			if (req.method === "GET" && req.url === "/nodes") return reply(200, nodes.map(describe));
			const route = routes[req.url];
			if (req.method !== "POST" || !route) return reply(404, { error: `no route ${req.method} ${req.url}` });
			const body = await readJson(req);
			const node = byId.get(body.node);
			if (!node) return reply(404, { error: `no mock lock with node id ${body.node}` });
			return reply(200, await route(controller, node, body));
		} catch (e) {
			return reply(500, { error: String(e?.message ?? e) });
		}
	});
	server.listen({ host: "127.0.0.1", port: Number(process.env.ZWAVE_MOCK_CONTROL_PORT ?? 0) }, () => {
		console.log(`control channel listening on 127.0.0.1:${server.address().port}`);
	});
}

const count = Number(process.env.ZWAVE_MOCK_LOCKS ?? 3);

module.exports.default = {
	controller: { behaviors: [forgetsAbandonedTransmissions] },
	nodes: Array.from({ length: count }, (_, index) => lockNode(index)),
	onInit: startControl,
};
