/**
 * UDP sockets through libc (Linux, LP64) for RTP sources, read in batches. Waking the worker's
 * event loop costs about 100 µs of CPU on a loaded machine whatever it then does, and
 * node:dgram wakes it once per datagram (a promise, an event and a Buffer each); so one
 * process-wide reader wakes every `TICK_MS` while datagrams flow and drains every socket with
 * `recvmmsg(MSG_DONTWAIT)` into one reused buffer, handing each datagram to its socket's
 * `onPacket` synchronously (a view of that buffer). A source of ~150 packets/s then costs 50
 * wakeups/s, and a datagram waits up to `TICK_MS` (jitter that a receiver's jitter buffer
 * absorbs). After `IDLE_TICKS` empty ticks the reader waits in `poll` instead, on a thread of
 * Deno's blocking pool (a nonblocking FFI call), over every socket plus an eventfd, so an idle
 * source costs nothing; the first datagram brings the ticks back. Adding or closing a socket
 * writes the eventfd so a pending `poll` returns at once; with no socket left no call, timer
 * or fd remains. A socket closed while `poll` waits has its fd closed when `poll` returns
 * (which holds the file, and so the port, until then).
 *
 * @module
 */
import type { UdpFrom, UdpHandler, UdpSocket } from "./udp_socket.ts";

const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_DGRAM = 2;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const EFD_NONBLOCK = 0o4000;
const EFD_CLOEXEC = 0o2000000;
const MSG_DONTWAIT = 0x40;
const MSG_TRUNC = 0x20;
const POLLIN = 0x1;
const EINTR = 4;
const EADDRINUSE = 98;
const SOL_SOCKET = 1;
const SO_RCVBUF = 8;
/** Receive buffer asked for (the kernel caps it): a tick of a high-rate source must fit. */
const RCVBUF_OPTION = new Uint8Array(new Int32Array([1 << 20]).buffer);

/**
 * How often flowing sockets are read: the wakeups, not the datagrams, cost the CPU (bench: the
 * fed source with no viewer took 2.1% of a core with node:dgram, 1.5% reading every 10 ms,
 * 0.9-1.5% every 20 ms, against the reference's 1.1-1.3%).
 */
export const TICK_MS = 20;
/** Empty ticks before waiting in `poll` again (an idle source costs nothing). */
const IDLE_TICKS = 10;

/** Datagrams read per `recvmmsg` call. */
const BATCH = 64;
/** Bytes per datagram slot: RTP over UDP stays under an Ethernet MTU; bigger ones are dropped. */
const SLOT = 2048;
/** `struct sockaddr_storage` would do; a sockaddr_in6 is 28 bytes. */
const NAME = 32;
/** sizeof(struct mmsghdr), sizeof(struct iovec) and sizeof(struct pollfd) on LP64 Linux. */
const MMSGHDR = 64;
const IOVEC = 16;
const POLLFD = 8;

const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  inet_pton: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  sendto: {
    parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"],
    result: "isize",
  },
  recvmmsg: { parameters: ["i32", "pointer", "u32", "i32", "pointer"], result: "i32" },
  poll: { parameters: ["pointer", "u64", "i32"], result: "i32", nonblocking: true },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

let libc: Libc | null | undefined;

function openLibc(): Libc | null {
  if (libc !== undefined) return libc;
  libc = null;
  if (Deno.build.os !== "linux") return libc;
  if (Deno.build.arch !== "x86_64" && Deno.build.arch !== "aarch64") return libc;
  try {
    libc = Deno.dlopen("libc.so.6", SYMBOLS).symbols;
  } catch {
    // No FFI permission, or not glibc: node:dgram then.
  }
  return libc;
}

/** Whether libc sockets can be used in this process. */
export function libcUdpAvailable(): boolean {
  return openLibc() !== null;
}

function errno(c: Libc): number {
  const p = c.__errno_location();
  return p ? new Deno.UnsafePointerView(p).getInt32() : 0;
}

const encoder = new TextEncoder();

/** The sockaddr for `host:port`, or undefined when `host` is not a numeric address. */
function sockaddr(c: Libc, host: string, port: number): Uint8Array | undefined {
  const v6 = host.includes(":");
  const text = encoder.encode(host + "\0");
  const addr = new Uint8Array(v6 ? 28 : 16);
  const view = new DataView(addr.buffer);
  view.setUint16(0, v6 ? AF_INET6 : AF_INET, true);
  view.setUint16(2, port, false);
  const ok = c.inet_pton(v6 ? AF_INET6 : AF_INET, text, addr.subarray(v6 ? 8 : 4));
  return ok === 1 ? addr : undefined;
}

/** The sender in `name` (a sockaddr_in or sockaddr_in6). */
function decodeFrom(name: Uint8Array, view: DataView): UdpFrom {
  const port = view.getUint16(2, false);
  if (view.getUint16(0, true) === AF_INET) {
    return { address: `${name[4]}.${name[5]}.${name[6]}.${name[7]}`, port };
  }
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(view.getUint16(8 + i * 2, false));
  // An IPv4 sender on a dual-stack socket, as node:dgram writes it.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return { address: `::ffff:${name[20]}.${name[21]}.${name[22]}.${name[23]}`, port };
  }
  return { address: ipv6Text(groups), port };
}

/** RFC 5952 text: the longest run of two or more zero groups (the first of equals) is `::`. */
function ipv6Text(groups: number[]): string {
  let best = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      best = i;
      bestLength = j - i;
    }
    i = j === i ? i + 1 : j;
  }
  const hex = (from: number, to: number) =>
    groups.slice(from, to).map((g) => g.toString(16)).join(":");
  if (best < 0) return hex(0, 8);
  return `${hex(0, best)}::${hex(best + bestLength, 8)}`;
}

class LibcSocket implements UdpSocket {
  readonly fd: number;
  readonly port: number;
  onPacket: UdpHandler = () => {};
  closed = false;
  /** The last sender, its raw sockaddr kept to reuse the object while it does not change. */
  from: UdpFrom = { address: "", port: 0 };
  readonly fromRaw = new Uint8Array(NAME);
  readonly #c: Libc;
  readonly #poller: Poller;

  constructor(c: Libc, poller: Poller, fd: number, port: number) {
    this.#c = c;
    this.#poller = poller;
    this.fd = fd;
    this.port = port;
  }

  send(buf: Uint8Array, port: number, address: string): void {
    if (this.closed) return;
    const to = sockaddr(this.#c, address, port);
    if (to) this.#c.sendto(this.fd, buf, BigInt(buf.length), MSG_DONTWAIT, to, to.length);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.#poller.remove(this);
  }
}

/**
 * The process's reader of every libc socket. While datagrams flow it drains them all every
 * `TICK_MS` from a timer; after `IDLE_TICKS` empty ticks it waits in `poll` instead, and the
 * first datagram brings the timer back.
 */
class Poller {
  readonly #c: Libc;
  readonly #sockets = new Map<number, LibcSocket>();
  /** The eventfd that wakes a waiting `poll`: open while there are sockets. */
  #wakeFd = -1;
  readonly #one = new BigUint64Array([1n]);
  readonly #drainBuf = new Uint8Array(8);
  /** Read by the `poll` thread: big enough that V8 keeps it off its moving heap. */
  #pollfds = new Uint8Array(64 * POLLFD);
  #pollView = new DataView(this.#pollfds.buffer);
  #pollPtr: Deno.PointerValue = null;
  #pollCount = 0;
  /** The socket set changed since `#pollfds` was built. */
  #dirty = true;
  /** A `poll` call is pending (its thread holds the fds listed). */
  #waiting = false;
  #timer: ReturnType<typeof setInterval> | undefined;
  #emptyTicks = 0;
  /** Sockets closed while `poll` waits: their fds are closed after it returns. */
  readonly #closing: number[] = [];
  readonly #data = new Uint8Array(BATCH * SLOT);
  readonly #names = new Uint8Array(BATCH * NAME);
  readonly #msgs = new Uint8Array(BATCH * MMSGHDR);
  readonly #msgsView = new DataView(this.#msgs.buffer);
  readonly #msgsPtr: Deno.PointerValue;
  /** Kept referenced: the iovecs point into `#data`, the headers into both. */
  readonly #iovs = new Uint8Array(BATCH * IOVEC);

  constructor(c: Libc) {
    this.#c = c;
    const ptr = (b: Uint8Array, offset: number) =>
      BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(b))) + BigInt(offset);
    const iov = new DataView(this.#iovs.buffer);
    for (let i = 0; i < BATCH; i++) {
      iov.setBigUint64(i * IOVEC, ptr(this.#data, i * SLOT), true);
      iov.setBigUint64(i * IOVEC + 8, BigInt(SLOT), true);
      const m = i * MMSGHDR;
      this.#msgsView.setBigUint64(m, ptr(this.#names, i * NAME), true);
      this.#msgsView.setUint32(m + 8, NAME, true);
      this.#msgsView.setBigUint64(m + 16, ptr(this.#iovs, i * IOVEC), true);
      this.#msgsView.setBigUint64(m + 24, 1n, true);
    }
    this.#msgsPtr = Deno.UnsafePointer.of(this.#msgs);
  }

  /** Opens a socket bound to `addr`; throws with the errno when it cannot. */
  open(addr: Uint8Array): LibcSocket {
    const c = this.#c;
    const family = new DataView(addr.buffer).getUint16(0, true);
    const fd = c.socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw new Error(`socket failed (errno ${errno(c)})`);
    let port: number;
    try {
      // Best effort: the default buffer still holds a tick of a typical source.
      c.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, RCVBUF_OPTION, 4);
      if (c.bind(fd, addr, addr.length) !== 0) {
        const e = errno(c);
        throw new Error(
          e === EADDRINUSE ? "EADDRINUSE: address already in use" : `bind errno ${e}`,
        );
      }
      const name = new Uint8Array(NAME);
      const len = new Uint32Array([NAME]);
      if (c.getsockname(fd, name, new Uint8Array(len.buffer)) !== 0) {
        throw new Error(`getsockname errno ${errno(c)}`);
      }
      port = new DataView(name.buffer).getUint16(2, false);
      if (this.#wakeFd < 0) {
        const wake = c.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (wake < 0) throw new Error(`eventfd failed (errno ${errno(c)})`);
        this.#wakeFd = wake;
      }
    } catch (e) {
      c.close(fd);
      throw e;
    }
    const socket = new LibcSocket(c, this, fd, port);
    this.#sockets.set(fd, socket);
    this.#dirty = true;
    if (this.#waiting) this.#wake();
    else if (this.#timer === undefined) this.#wait();
    return socket;
  }

  remove(socket: LibcSocket): void {
    if (this.#sockets.get(socket.fd) !== socket) return;
    this.#sockets.delete(socket.fd);
    this.#dirty = true;
    if (this.#waiting) {
      // The waiting thread holds the socket's file (and port) until `poll` returns, and closing
      // now could hand the fd number to a new socket that the returning `poll` would misread.
      this.#closing.push(socket.fd);
      this.#wake();
      return;
    }
    this.#c.close(socket.fd);
    if (this.#sockets.size === 0) this.#stop();
  }

  /** What the reader does now (for tests). */
  get mode(): LibcReaderMode {
    if (this.#waiting) return "waiting";
    return this.#timer !== undefined ? "ticking" : "idle";
  }

  #wake(): void {
    this.#c.write(this.#wakeFd, this.#one, 8n);
  }

  /** No socket left (and no `poll` pending): no timer, no fd. */
  #stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#c.close(this.#wakeFd);
    this.#wakeFd = -1;
  }

  #tick(): void {
    if (this.#drainAll() > 0) {
      this.#emptyTicks = 0;
      return;
    }
    if (++this.#emptyTicks < IDLE_TICKS) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#wait();
  }

  #startTicking(): void {
    this.#emptyTicks = 0;
    this.#timer ??= setInterval(() => this.#tick(), TICK_MS);
  }

  #rebuild(): void {
    const n = this.#sockets.size + 1;
    if (this.#pollfds.length < n * POLLFD) {
      this.#pollfds = new Uint8Array(n * 2 * POLLFD);
      this.#pollView = new DataView(this.#pollfds.buffer);
    }
    const v = this.#pollView;
    v.setInt32(0, this.#wakeFd, true);
    v.setInt16(4, POLLIN, true);
    let i = 1;
    for (const fd of this.#sockets.keys()) {
      v.setInt32(i * POLLFD, fd, true);
      v.setInt16(i * POLLFD + 4, POLLIN, true);
      i++;
    }
    this.#pollPtr = Deno.UnsafePointer.of(this.#pollfds);
    this.#pollCount = n;
    this.#dirty = false;
  }

  /** Waits in `poll` (on a thread) until a datagram comes, then ticks. */
  #wait(): void {
    this.#waiting = true;
    this.#waitLoop().catch(() => {
      // poll itself failed (not expected): read by the timer from now on.
      this.#waiting = false;
      if (this.#sockets.size > 0) this.#startTicking();
    });
  }

  async #waitLoop(): Promise<void> {
    const c = this.#c;
    for (;;) {
      if (this.#dirty) this.#rebuild();
      const v = this.#pollView;
      for (let i = 0; i < this.#pollCount; i++) v.setInt16(i * POLLFD + 6, 0, true);
      const n = await c.poll(this.#pollPtr, BigInt(this.#pollCount), -1);
      for (const fd of this.#closing.splice(0)) c.close(fd);
      if (n < 0 && errno(c) !== EINTR) throw new Error(`poll errno ${errno(c)}`);
      if (v.getInt16(6, true) !== 0) c.read(this.#wakeFd, this.#drainBuf, 8n);
      if (this.#sockets.size === 0) {
        this.#waiting = false;
        this.#stop();
        return;
      }
      let data = false;
      for (let i = 1; i < this.#pollCount && !data; i++) {
        data = v.getInt16(i * POLLFD + 6, true) !== 0;
      }
      if (data) {
        this.#waiting = false;
        this.#drainAll();
        if (this.#sockets.size === 0) this.#stop();
        else this.#startTicking();
        return;
      }
    }
  }

  /** Reads every socket's queued datagrams; returns how many. */
  #drainAll(): number {
    let total = 0;
    for (const socket of this.#sockets.values()) total += this.#drain(socket);
    return total;
  }

  /** Reads every queued datagram of `socket` and hands them to its handler. */
  #drain(socket: LibcSocket): number {
    const c = this.#c;
    const m = this.#msgsView;
    let total = 0;
    while (!socket.closed) {
      const got = c.recvmmsg(socket.fd, this.#msgsPtr, BATCH, MSG_DONTWAIT, null);
      if (got <= 0) break;
      total += got;
      for (let i = 0; i < got && !socket.closed; i++) {
        const h = i * MMSGHDR;
        const length = m.getUint32(h + 56, true);
        const flags = m.getInt32(h + 48, true);
        m.setUint32(h + 8, NAME, true);
        if (flags & MSG_TRUNC) continue;
        const from = this.#fromOf(socket, i);
        socket.onPacket(this.#data.subarray(i * SLOT, i * SLOT + length), from);
      }
      if (got < BATCH) break;
    }
    return total;
  }

  #fromOf(socket: LibcSocket, i: number): UdpFrom {
    const names = this.#names;
    const at = i * NAME;
    const raw = socket.fromRaw;
    let same = true;
    for (let k = 0; k < 28; k++) {
      if (names[at + k] !== raw[k]) {
        same = false;
        break;
      }
    }
    if (same) return socket.from;
    raw.set(names.subarray(at, at + NAME));
    socket.from = decodeFrom(raw, new DataView(raw.buffer));
    return socket.from;
  }
}

let poller: Poller | undefined;

/** Idle: no socket; waiting: in `poll` on a thread; ticking: drained by a timer. */
export type LibcReaderMode = "idle" | "waiting" | "ticking";

/** What the process's libc reader does now. */
export function libcReaderMode(): LibcReaderMode {
  return poller?.mode ?? "idle";
}

/**
 * A libc socket bound to `host:port`, or undefined when `host` is not a numeric address (or
 * libc is not available).
 *
 * @throws {Error} when the port cannot be bound
 */
export function bindLibcUdp(host: string, port: number): UdpSocket | undefined {
  const c = openLibc();
  if (!c) return undefined;
  const addr = sockaddr(c, host, port);
  if (!addr) return undefined;
  poller ??= new Poller(c);
  return poller.open(addr);
}
