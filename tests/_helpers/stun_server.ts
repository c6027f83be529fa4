/**
 * A STUN server for tests: answers each Binding request (RFC 5389) on loopback with the
 * sender's address in XOR-MAPPED-ADDRESS, or with what `answer` builds instead.
 *
 * @module
 */
import { createSocket } from "node:dgram";

/** A running test STUN server. */
export interface TestStunServer extends AsyncDisposable {
  port: number;
  /** Binding requests received. */
  requests: number;
}

/** The Binding success for `request` from `ip`:`port` (IPv4), with XOR-MAPPED-ADDRESS. */
export function bindingSuccess(request: Uint8Array, ip: string, port: number): Uint8Array {
  const out = new Uint8Array(32);
  const view = new DataView(out.buffer);
  view.setUint16(0, 0x0101);
  view.setUint16(2, 12);
  out.set(request.subarray(4, 20), 4); // magic cookie and transaction id
  view.setUint16(20, 0x0020);
  view.setUint16(22, 8);
  view.setUint8(25, 1);
  view.setUint16(26, port ^ 0x2112);
  ip.split(".").forEach((part, i) => view.setUint8(28 + i, Number(part) ^ out[4 + i]!));
  return out;
}

/** Starts a STUN server on 127.0.0.1 (a free port). */
export function startStunServer(
  answer: (request: Uint8Array, ip: string, port: number) => Uint8Array = bindingSuccess,
): Promise<TestStunServer> {
  const socket = createSocket("udp4");
  const server: TestStunServer = {
    port: 0,
    requests: 0,
    [Symbol.asyncDispose]: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
  socket.on("message", (message: Uint8Array, from: { address: string; port: number }) => {
    if (message.byteLength < 20 || message[0] !== 0 || message[1] !== 1) return;
    server.requests++;
    socket.send(answer(message, from.address, from.port), from.port, from.address);
  });
  return new Promise((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(0, "127.0.0.1", () => {
      server.port = socket.address().port;
      resolve(server);
    });
  });
}
