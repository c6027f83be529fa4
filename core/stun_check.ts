/**
 * The admin API's `test_stun`: one STUN Binding request (RFC 5389) to a server, from a UDP
 * socket on `localport` (any when 0), answered with the address the server saw. Like the
 * reference (janus_ice_test_stun_server), it waits up to 5 s for one answer and reads
 * XOR-MAPPED-ADDRESS, else MAPPED-ADDRESS.
 *
 * @module
 */
import { createSocket, type Socket } from "node:dgram";

const MAGIC_COOKIE = 0x2112a442;
const BINDING_REQUEST = 0x0001;
const BINDING_SUCCESS = 0x0101;
const ATTR_MAPPED_ADDRESS = 0x0001;
const ATTR_XOR_MAPPED_ADDRESS = 0x0020;
const HEADER_BYTES = 20;

/** The reference's wait for the answer. */
export const STUN_TEST_TIMEOUT_MS = 5000;

/** An address a STUN server reported. */
export interface MappedAddress {
  ip: string;
  port: number;
}

/** A Binding request with a fresh transaction id. */
export function bindingRequest(): Uint8Array {
  const message = new Uint8Array(HEADER_BYTES);
  const view = new DataView(message.buffer);
  view.setUint16(0, BINDING_REQUEST);
  view.setUint16(2, 0);
  view.setUint32(4, MAGIC_COOKIE);
  crypto.getRandomValues(message.subarray(8, HEADER_BYTES));
  return message;
}

/**
 * The mapped address of a Binding success answering `request`, or undefined when `answer`
 * is not one (another message, another transaction, no address attribute).
 */
export function mappedAddress(answer: Uint8Array, request: Uint8Array): MappedAddress | undefined {
  if (answer.byteLength < HEADER_BYTES) return undefined;
  const view = new DataView(answer.buffer, answer.byteOffset, answer.byteLength);
  if (view.getUint16(0) !== BINDING_SUCCESS || view.getUint32(4) !== MAGIC_COOKIE) return undefined;
  for (let i = 8; i < HEADER_BYTES; i++) if (answer[i] !== request[i]) return undefined;
  const end = Math.min(answer.byteLength, HEADER_BYTES + view.getUint16(2));
  let plain: MappedAddress | undefined;
  for (let at = HEADER_BYTES; at + 4 <= end;) {
    const type = view.getUint16(at);
    const length = view.getUint16(at + 2);
    const value = at + 4;
    if (value + length > end) break;
    if (type === ATTR_XOR_MAPPED_ADDRESS) {
      const found = readAddress(view, value, length, answer.subarray(4, HEADER_BYTES));
      if (found) return found;
    } else if (type === ATTR_MAPPED_ADDRESS) {
      plain ??= readAddress(view, value, length);
    }
    at = value + length + ((4 - (length % 4)) % 4);
  }
  return plain;
}

/** An address attribute's value; XORed with the cookie and transaction id when `xor` is given. */
function readAddress(
  view: DataView,
  at: number,
  length: number,
  xor?: Uint8Array,
): MappedAddress | undefined {
  const family = view.getUint8(at + 1);
  const size = family === 1 ? 4 : family === 2 ? 16 : 0;
  if (size === 0 || length < 4 + size) return undefined;
  const port = view.getUint16(at + 2) ^ (xor ? MAGIC_COOKIE >>> 16 : 0);
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = view.getUint8(at + 4 + i) ^ (xor?.[i] ?? 0);
  if (size === 4) return { ip: bytes.join("."), port };
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return { ip: groups.join(":"), port };
}

/**
 * Asks the STUN server at `ip`:`port` for this host's mapped address, from a socket bound to
 * `localPort` on every interface. Rejects on a bind or send failure, a bad answer, or no
 * answer within `timeoutMs`; the socket is closed in every case.
 */
export function testStunServer(
  ip: string,
  port: number,
  localPort = 0,
  timeoutMs = STUN_TEST_TIMEOUT_MS,
): Promise<MappedAddress> {
  const ipv6 = ip.includes(":");
  const socket: Socket = createSocket(ipv6 ? "udp6" : "udp4");
  const request = bindingRequest();
  return new Promise<MappedAddress>((resolve, reject) => {
    let settled = false;
    // Settles once, after the socket is closed (its port is free again by then).
    const finish = (result: MappedAddress | Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.close(() => result instanceof Error ? reject(result) : resolve(result));
    };
    const timer = setTimeout(
      () => finish(new Error("No response to the STUN Binding test")),
      timeoutMs,
    );
    socket.on("error", (e) => finish(e));
    // The reference reads one datagram, whatever it is.
    socket.once("message", (message: Uint8Array) => {
      finish(mappedAddress(message, request) ?? new Error("Unexpected STUN response"));
    });
    socket.bind(localPort, ipv6 ? "::" : "0.0.0.0", () => {
      socket.send(request, port, ip, (e) => {
        if (e) finish(e);
      });
    });
  });
}
