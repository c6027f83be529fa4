/**
 * The RTP sources' UDP sockets (`core/media/rtp/udp_socket.ts`), libc and node:dgram alike:
 * every datagram delivered with its bytes and sender, a port in use refused, `send`, and
 * closing frees the port and leaves no pending call, timer or fd (Deno's sanitizers and
 * /proc/self/fd). The libc reader is also followed through its modes: waiting in `poll` while
 * idle, ticking while datagrams flow, back to waiting, and closed while waiting.
 */
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { bindUdp, type UdpBackend, type UdpFrom } from "../../core/media/rtp/udp_socket.ts";
import { libcReaderMode, libcUdpAvailable } from "../../core/media/rtp/udp_libc.ts";

async function waitUntil(what: string, check: () => boolean, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function fdCount(): number {
  return [...Deno.readDirSync("/proc/self/fd")].length;
}

/** A node:dgram peer on loopback: sends, and keeps what it receives. */
async function peer(): Promise<{
  port: number;
  got: Uint8Array[];
  send(buf: Uint8Array, port: number): Promise<void>;
  close(): Promise<void>;
}> {
  const socket = dgram.createSocket("udp4");
  const got: Uint8Array[] = [];
  socket.on("message", (m: Uint8Array) => got.push(new Uint8Array(m)));
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", () => resolve()));
  return {
    port: socket.address().port,
    got,
    send: (buf, port) =>
      new Promise((resolve, reject) =>
        socket.send(buf, port, "127.0.0.1", (e: Error | null) => e ? reject(e) : resolve())
      ),
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}

function datagram(i: number): Uint8Array {
  const buf = new Uint8Array(100 + (i % 1200));
  buf.fill(i & 0xff);
  new DataView(buf.buffer).setUint32(0, i);
  return buf;
}

const backends: UdpBackend[] = libcUdpAvailable() ? ["libc", "dgram"] : ["dgram"];

for (const backend of backends) {
  Deno.test(`udp socket (${backend}): datagrams with their sender, send, port in use, close`, async () => {
    const fds = fdCount();
    const socket = await bindUdp("127.0.0.1", 0, backend);
    const from = await peer();
    try {
      assert.ok(socket.port > 0);
      const got: { bytes: Uint8Array; from: UdpFrom }[] = [];
      // Copied: a libc socket hands out views of a reused buffer.
      socket.onPacket = (buf, sender) => got.push({ bytes: new Uint8Array(buf), from: sender });
      const count = 60;
      for (let i = 0; i < count; i++) await from.send(datagram(i), socket.port);
      await waitUntil(`${count} datagrams`, () => got.length === count);
      for (let i = 0; i < count; i++) {
        assert.deepEqual(got[i]!.bytes, datagram(i), `datagram ${i}`);
        assert.deepEqual(got[i]!.from, { address: "127.0.0.1", port: from.port });
      }
      // One sender, one object.
      assert.equal(got[0]!.from, got[count - 1]!.from);

      socket.send(datagram(7), from.port, "127.0.0.1");
      await waitUntil("the datagram sent back", () => from.got.length === 1);
      assert.deepEqual(from.got[0], datagram(7));

      await assert.rejects(bindUdp("127.0.0.1", socket.port, backend), /EADDRINUSE|in use/i);
      await assert.rejects(bindUdp("127.0.0.1", from.port, backend), /EADDRINUSE|in use/i);
    } finally {
      socket.close();
      socket.close();
      await from.close();
    }
    // The port is free again once the reader lets go of it.
    let again: Awaited<ReturnType<typeof bindUdp>> | undefined;
    await waitUntil("the port bound again", () => {
      if (!again) {
        bindUdp("127.0.0.1", socket.port, backend).then((s) => again = s, () => {});
      }
      return again !== undefined;
    });
    again!.close();
    if (backend === "libc") {
      await waitUntil("the libc reader idle", () => libcReaderMode() === "idle");
    }
    await waitUntil("the fds closed", () => fdCount() === fds);
  });
}

/** Whether this host has IPv6 loopback (a private namespace may not). */
async function hasIpv6Loopback(): Promise<boolean> {
  const s = dgram.createSocket("udp6");
  try {
    await new Promise<void>((resolve, reject) => {
      s.once("error", reject);
      s.bind(0, "::1", () => resolve());
    });
    return true;
  } catch {
    return false;
  } finally {
    s.close();
  }
}

for (const backend of backends) {
  Deno.test(`udp socket (${backend}): IPv6 and dual-stack senders read as node:dgram gives them`, async () => {
    const any = await bindUdp("::", 0, backend);
    const v4 = await peer();
    try {
      const got: UdpFrom[] = [];
      any.onPacket = (_buf, from) => got.push(from);
      await v4.send(new Uint8Array([1]), any.port);
      await waitUntil("the IPv4 sender's datagram", () => got.length === 1);
      assert.deepEqual(got[0], { address: "::ffff:127.0.0.1", port: v4.port });
      if (await hasIpv6Loopback()) {
        const v6 = dgram.createSocket("udp6");
        await new Promise<void>((resolve) => v6.bind(0, "::1", () => resolve()));
        try {
          v6.send(new Uint8Array([2]), any.port, "::1");
          await waitUntil("the IPv6 sender's datagram", () => got.length === 2);
          assert.deepEqual(got[1], { address: "::1", port: v6.address().port });
        } finally {
          await new Promise<void>((resolve) => v6.close(() => resolve()));
        }
      }
    } finally {
      any.close();
      await v4.close();
    }
    if (backend === "libc") {
      await waitUntil("the libc reader idle", () => libcReaderMode() === "idle");
    }
  });
}

if (libcUdpAvailable()) {
  Deno.test("udp socket (libc): waits in poll while idle, ticks while datagrams flow, closes while waiting", async () => {
    const fds = fdCount();
    const a = await bindUdp("127.0.0.1", 0, "libc");
    const b = await bindUdp("127.0.0.1", 0, "libc");
    const from = await peer();
    try {
      const got: string[] = [];
      a.onPacket = (buf) => got.push(`a${buf[0]}`);
      b.onPacket = (buf) => got.push(`b${buf[0]}`);
      assert.equal(libcReaderMode(), "waiting");
      // The waiting poll wakes for a datagram on either socket.
      await from.send(new Uint8Array([1]), b.port);
      await waitUntil("b's datagram", () => got.length === 1);
      assert.deepEqual(got, ["b1"]);
      assert.equal(libcReaderMode(), "ticking");
      await from.send(new Uint8Array([2]), a.port);
      await from.send(new Uint8Array([3]), b.port);
      await waitUntil("two more datagrams", () => got.length === 3);
      assert.deepEqual(got.slice(1).sort(), ["a2", "b3"]);
      // Nothing more: back to waiting in poll, where a datagram still comes through.
      await waitUntil("waiting again", () => libcReaderMode() === "waiting");
      await from.send(new Uint8Array([4]), a.port);
      await waitUntil("a's datagram", () => got.length === 4);
      assert.equal(got[3], "a4");
      await waitUntil("waiting again", () => libcReaderMode() === "waiting");
      // A socket closed while the poll waits: its port comes free, the other still reads.
      a.close();
      let again: Awaited<ReturnType<typeof bindUdp>> | undefined;
      await waitUntil("a's port bound again", () => {
        if (!again) bindUdp("127.0.0.1", a.port, "libc").then((s) => again = s, () => {});
        return again !== undefined;
      });
      again!.close();
      await from.send(new Uint8Array([5]), b.port);
      await waitUntil("b's datagram", () => got.length === 5);
      assert.equal(got[4], "b5");
      await waitUntil("waiting again", () => libcReaderMode() === "waiting");
    } finally {
      a.close();
      b.close();
      await from.close();
    }
    // The last close wakes the poll: no call, timer or fd is left behind.
    await waitUntil("the libc reader idle", () => libcReaderMode() === "idle");
    await waitUntil("the fds closed", () => fdCount() === fds);
  });
}
