// Preloaded into zwave-js's `mock-server` (`node -r ./preload.cjs .../mock-server ...`) to fix two
// things that make the stock mock-server unusable in tests on one machine:
//
// 1. It hands every TCP chunk from the driver to its mock serial port as one whole serial frame,
//    and throws ("does not start with SOF") when two frames arrive merged in one chunk, which
//    happens under load. We re-split the byte stream into frames before mock-server sees it.
// 2. It always advertises itself over mDNS (multicast, beyond loopback). We replace the mDNS
//    responder with one that does nothing; nothing here may send beyond 127.0.0.1 (mock-server
//    still prints "Enabled mDNS service discovery.": the stub accepted the call, nothing is sent).
// 3. It exits when a frame it sends to the host is never acknowledged, which is what happens
//    when zwave-server goes away (restarts) while a lock is still answering. A real controller
//    stick survives its host restarting, so that one rejection is logged and let go.
"use strict";

const Module = require("node:module");
const net = require("node:net");

const SOF = 0x01;
const SINGLE_BYTE_FRAMES = new Set([0x06, 0x15, 0x18]); // ACK, NAK, CAN

/** Calls `emit(frame)` once per whole serial frame, whatever the TCP chunking. */
function frameSplitter(emit) {
	let pending = Buffer.alloc(0);
	return (chunk) => {
		pending = Buffer.concat([pending, chunk]);
		while (pending.length > 0) {
			const first = pending[0];
			let size = 1;
			if (first === SOF) {
				if (pending.length < 2) return;
				size = pending[1] + 2; // SOF, length, then `length` bytes (the last is the checksum)
				if (pending.length < size) return;
			} else if (!SINGLE_BYTE_FRAMES.has(first)) {
				// Not a frame start: pass the byte on alone so mock-server reports it as it would.
				size = 1;
			}
			emit(pending.subarray(0, size));
			pending = pending.subarray(size);
		}
	};
}

const createServer = net.createServer;
net.createServer = function patchedCreateServer(...args) {
	const listenerIndex = args.findIndex((a) => typeof a === "function");
	if (listenerIndex !== -1) {
		const onConnection = args[listenerIndex];
		args[listenerIndex] = (socket) => {
			const on = socket.on.bind(socket);
			socket.on = (event, handler) =>
				event === "data" ? on("data", frameSplitter(handler)) : on(event, handler);
			onConnection(socket);
		};
	}
	return createServer.apply(this, args);
};

const silentService = {
	advertise: async () => {},
	end: async () => {},
	destroy: async () => {},
	updateTxt: () => {},
};
const silentCiao = {
	getResponder: () => ({
		createService: () => silentService,
		shutdown: async () => {},
	}),
	Protocol: { TCP: "tcp", UDP: "udp" },
};

process.on("unhandledRejection", (reason) => {
	if (String(reason?.stack ?? "").includes("expectHostACK")) {
		console.error(`a frame to the host went unacknowledged (host gone?): ${reason.message}`);
		return;
	}
	throw reason;
});

const load = Module._load;
Module._load = function patchedLoad(request, ...rest) {
	if (request === "@homebridge/ciao") return silentCiao;
	return load.call(this, request, ...rest);
};
