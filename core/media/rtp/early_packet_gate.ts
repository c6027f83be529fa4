/**
 * Holds back a peer's packets from our first offer until its answer is stored.
 *
 * Why: libdatachannel 0.24.5's `PeerConnection::setRemoteDescription` hands the answer to the
 * ICE agent before it stores it. A browser checks us from the moment it has our offer; libjuice
 * answers those early checks (RFC 8445 7.3) and keeps the browser as a peer-reflexive
 * candidate, so the answer's arrival connects ICE at once, and the browser's DTLS handshake
 * (its ClientHello already waiting in the library) can reach the fingerprint check, which finds
 * no remote description yet and fails: "DTLS error". It takes the calling thread being
 * preempted inside that call, which a loaded machine does: with Chromium answering 1000 of our
 * offers on busy CPUs, 21 failed so (`tests/media/rtp_offer_dtls_race_browser_test.ts`).
 *
 * The gate: a socket filter dropping every datagram on the ICE agent's UDP socket, attached
 * before the offer leaves and detached once the answer is stored. Nothing the peer sends
 * reaches the library before its answer is there; the peer's checks are retried and answered
 * after. With the gate, none of those 1000 failed, and webrtcup came as soon as without it
 * (Chromium retries every 50 ms or so). A libjuice client, whose retries back off, can wait a
 * few hundred ms more (`tests/media/rtp_offer_ice_race_test.ts`). Dropping only DTLS would let
 * ICE connect early but cost such clients a DTLS retransmission (a second or more).
 * The RTP engine uses no STUN or TURN server, so nothing else comes to that socket before the
 * answer.
 *
 * Linux only (glibc, 64-bit `sock_fprog`); where it cannot attach, {@link shutEarlyPackets}
 * returns undefined and the offer goes out ungated.
 *
 * @module
 */

const SOL_SOCKET = 1;
const SO_ATTACH_FILTER = 26;
const SO_DETACH_FILTER = 27;
/** `BPF_RET | BPF_K` with k = 0: keep no byte of the packet (drop it). */
const DROP_ALL = new Uint8Array([0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]);

type Libc = Deno.DynamicLibrary<{
  getsockname: { parameters: ["i32", "buffer", "buffer"]; result: "i32" };
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"]; result: "i32" };
}>;
let libc: Libc | null | undefined;

function openLibc(): Libc | null {
  if (Deno.build.os !== "linux") return null;
  try {
    return Deno.dlopen("libc.so.6", {
      getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
      setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
    });
  } catch {
    return null; // no FFI permission or no glibc
  }
}

/** The local port a socket is bound to; undefined for a descriptor that is no IP socket. */
function localPort(lib: Libc, fd: number): number | undefined {
  const addr = new Uint8Array(128);
  const len = new Uint32Array([addr.length]);
  if (lib.symbols.getsockname(fd, addr, len) !== 0) return undefined;
  const family = addr[0]! | (addr[1]! << 8);
  if (family !== 2 && family !== 10) return undefined; // AF_INET, AF_INET6
  return (addr[2]! << 8) | addr[3]!;
}

/** Our open descriptors bound to one of `ports`, newest first. */
function socketsOn(lib: Libc, ports: ReadonlySet<number>): number[] {
  let fds: number[];
  try {
    fds = [...Deno.readDirSync("/proc/self/fd")].map((e) => Number(e.name));
  } catch {
    return [];
  }
  const found: number[] = [];
  for (const fd of fds.sort((a, b) => b - a)) {
    const port = localPort(lib, fd);
    if (port !== undefined && ports.has(port)) found.push(fd);
  }
  return found;
}

/** A shut gate: {@link EarlyPacketGate.open} lets packets through again; idempotent. */
export interface EarlyPacketGate {
  open(): void;
  /** Forgets the sockets without touching them (closed with their PeerConnection). */
  forget(): void;
}

/**
 * Drops every datagram arriving on our UDP sockets bound to `ports` (the ICE agent's, from
 * the offer's candidates) until the gate is opened. Undefined where no socket could be gated.
 */
export function shutEarlyPackets(ports: ReadonlySet<number>): EarlyPacketGate | undefined {
  libc ??= openLibc();
  const lib = libc;
  if (!lib || ports.size === 0) return undefined;
  // struct sock_fprog { unsigned short len; struct sock_filter *filter; } (LP64 layout)
  const program = new Uint8Array(16);
  const view = new DataView(program.buffer);
  view.setUint16(0, 1, true);
  view.setBigUint64(8, BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(DROP_ALL))), true);
  const shut = socketsOn(lib, ports).filter((fd) =>
    lib.symbols.setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, program, program.length) === 0
  );
  if (shut.length === 0) return undefined;
  let fds: number[] = shut;
  return {
    open() {
      const none = new Uint8Array(4);
      for (const fd of fds) lib.symbols.setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, none, 4);
      fds = [];
    },
    forget() {
      fds = [];
    },
  };
}

/** The ports of an SDP's `a=candidate` lines (UDP ones: the agent's sockets). */
export function candidatePorts(sdp: string): Set<number> {
  const ports = new Set<number>();
  for (const m of sdp.matchAll(/^a=candidate:\S+ \d+ udp \d+ \S+ (\d+) /gim)) {
    ports.add(Number(m[1]));
  }
  return ports;
}
