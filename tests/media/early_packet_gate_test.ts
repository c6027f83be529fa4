/**
 * The early packet gate (`core/media/rtp/early_packet_gate.ts`) on real loopback sockets:
 * shut, it drops every datagram (STUN-like and DTLS-like) on the sockets bound to the given
 * ports and no other; opened, they flow again; `forget` leaves the filter alone. Also the
 * offer's UDP candidate ports it gates.
 */
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { candidatePorts, shutEarlyPackets } from "../../core/media/rtp/early_packet_gate.ts";

/** A bound node:dgram socket keeping the first byte of every datagram it receives. */
async function receiver(): Promise<{ port: number; got: number[]; close(): Promise<void> }> {
  const socket = dgram.createSocket("udp4");
  const got: number[] = [];
  socket.on("message", (msg: Uint8Array) => got.push(msg[0]!));
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  return {
    port: socket.address().port,
    got,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

/** Sends one datagram per first byte to `port`, then leaves 150 ms for them to land. */
async function sendAll(port: number, firstBytes: number[]): Promise<void> {
  const socket = dgram.createSocket("udp4");
  for (const b of firstBytes) {
    const datagram = new Uint8Array(40).fill(7);
    datagram[0] = b;
    await new Promise<void>((resolve, reject) =>
      socket.send(datagram, port, "127.0.0.1", (err) => err ? reject(err) : resolve())
    );
  }
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  await new Promise((r) => setTimeout(r, 150));
}

// A STUN binding request, a DTLS handshake record, an RTP packet.
const KINDS = [0x00, 0x16, 0x80];

Deno.test("early packet gate: shut drops every datagram on the gated socket only; open lets them through", async () => {
  const gated = await receiver();
  const other = await receiver();
  try {
    const gate = shutEarlyPackets(new Set([gated.port]));
    assert.ok(gate, "the gate attached its filter");
    await sendAll(gated.port, KINDS);
    await sendAll(other.port, KINDS);
    assert.deepEqual(gated.got, [], "nothing reached the gated socket");
    assert.deepEqual(other.got, KINDS, "another socket is not gated");
    gate.open();
    gate.open(); // idempotent
    await sendAll(gated.port, KINDS);
    assert.deepEqual(gated.got, KINDS);
  } finally {
    await gated.close();
    await other.close();
  }
});

Deno.test("early packet gate: forget leaves the filter alone; no socket on the ports, no gate", async () => {
  const gated = await receiver();
  try {
    const gate = shutEarlyPackets(new Set([gated.port]));
    assert.ok(gate);
    gate.forget();
    gate.open(); // forgotten: touches nothing
    await sendAll(gated.port, [0x00]);
    assert.deepEqual(gated.got, [], "still shut");
  } finally {
    await gated.close();
  }
  assert.equal(shutEarlyPackets(new Set([gated.port])), undefined, "its socket is closed");
  assert.equal(shutEarlyPackets(new Set()), undefined);
});

Deno.test("early packet gate: the ports of an offer's UDP candidates, not its TCP ones", () => {
  const sdp = [
    "v=0",
    "m=audio 9 UDP/TLS/RTP/SAVPF 111",
    "a=candidate:1 1 UDP 2122317823 127.0.0.1 40001 typ host",
    "a=candidate:2 1 udp 2122317567 ::1 40001 typ host",
    "a=candidate:3 1 UDP 1686052607 192.0.2.1 40002 typ srflx raddr 127.0.0.1 rport 40001",
    "a=candidate:4 1 TCP 1015022079 127.0.0.1 9 typ host tcptype active",
    "",
  ].join("\r\n");
  assert.deepEqual([...candidatePorts(sdp)], [40001, 40002]);
});
