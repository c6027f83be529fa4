/**
 * `/metrics`: the Prometheus text parsed by a real parser (npm parse-prometheus-text-format)
 * before and after real traffic, on the admin listener and (with `metrics.public`) the API one.
 */
import assert from "node:assert/strict";
import dgram from "node:dgram";
import parsePrometheus from "parse-prometheus-text-format";
import {
  attachEcho,
  checkClientCandidates,
  createSession,
  echoCallUp,
  echoMessage,
  expectSuccess,
  framesAtLeast,
  startEchoGateway,
  trickle,
  trickleAll,
} from "../plugins/_echotest.ts";
import { peerTest, until } from "../plugins/_peers.ts";
import { openSignal } from "../plugins/_signal.ts";
import { startTestGateway, type TestGateway } from "../_helpers/gateway.ts";

interface Sample {
  value?: string;
  labels?: Record<string, string>;
  buckets?: Record<string, string>;
  count?: string;
  sum?: string;
}
interface ParsedFamily {
  name: string;
  help: string;
  type: string;
  metrics: Sample[];
}

const parse = parsePrometheus as (text: string) => ParsedFamily[];

/** Parsed families by name. */
type Scrape = Map<string, ParsedFamily>;

function metricsUrl(base: string): string {
  return new URL("/metrics", base).href;
}

async function scrape(url: string, headers: Record<string, string> = {}): Promise<Scrape> {
  const response = await fetch(url, { headers });
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  const families = parse(await response.text());
  return new Map(families.map((f) => [f.name, f]));
}

/** The value of the sample of `name` whose labels include `labels` (0 when absent). */
function value(s: Scrape, name: string, labels: Record<string, string> = {}): number {
  const family = s.get(name);
  assert.ok(family, `family ${name}`);
  const sample = family.metrics.find((m) =>
    Object.entries(labels).every(([k, v]) => m.labels?.[k] === v)
  );
  if (!sample) return 0;
  return Number(sample.value ?? sample.count);
}

/** An engine's media counters, as `<name>/<kind>` (name without `janus_media_`, `_total`). */
function mediaCounts(s: Scrape, engine = "rtp"): Record<string, number> {
  const out: Record<string, number> = {};
  const names = ["packets_received", "bytes_received", "packets_sent", "bytes_sent"];
  for (const name of [...names, "nacks_received", "nacks_sent", "plis_received", "plis_sent"]) {
    for (const kind of ["audio", "video"]) {
      const family = `janus_media_${name}_total`;
      assert.equal(s.get(family)?.type, "COUNTER", family);
      out[`${name}/${kind}`] = value(s, family, { engine, kind });
    }
  }
  return out;
}

async function post(gw: TestGateway, path: string, body: Record<string, unknown>) {
  const r = await fetch(gw.httpUrl + path, { method: "POST", body: JSON.stringify(body) });
  return await r.json();
}

Deno.test("metrics: sessions, requests and errors move with real requests; names and types parse", async () => {
  await using gw = await startTestGateway({ metrics: { public: true } });
  const admin = metricsUrl(gw.adminUrl);
  const before = await scrape(admin);
  for (
    const [name, type] of [
      ["janus_sessions", "GAUGE"],
      ["janus_handles", "GAUGE"],
      ["janus_peerconnections", "GAUGE"],
      ["janus_requests_total", "COUNTER"],
      ["janus_request_errors_total", "COUNTER"],
      ["janus_request_duration_seconds", "HISTOGRAM"],
      ["janus_webrtc_setup_seconds", "HISTOGRAM"],
      ["janus_event_queue_events", "GAUGE"],
      ["janus_media_workers", "GAUGE"],
      ["janus_media_worker_failures_total", "COUNTER"],
      ["janus_ice_failures_total", "COUNTER"],
      ["janus_dtls_failures_total", "COUNTER"],
      ["process_resident_memory_bytes", "GAUGE"],
      ["process_cpu_seconds_total", "COUNTER"],
      ["janus_plugin_rooms", "GAUGE"],
    ] as const
  ) {
    assert.equal(before.get(name)?.type, type, name);
  }
  assert.equal(value(before, "janus_sessions"), 0);
  assert.equal(value(before, "janus_requests_total", { janus: "create" }), 0);
  assert.ok(value(before, "process_resident_memory_bytes") > 1e6);
  assert.equal(value(before, "janus_plugin_rooms", { plugin: "janus.plugin.videoroom" }), 2);

  const ids: number[] = [];
  for (let i = 0; i < 3; i++) {
    const created = await post(gw, "", { janus: "create", transaction: `c${i}` });
    ids.push(created.data.id);
  }
  const attached = await post(gw, `/${ids[0]}`, {
    janus: "attach",
    plugin: "janus.plugin.videoroom",
    transaction: "a",
  });
  const handle = attached.data.id as number;
  const joined = await post(gw, `/${ids[0]}/${handle}`, {
    janus: "message",
    body: { request: "join", ptype: "publisher", room: 1234, display: "m" },
    transaction: "j",
  });
  assert.equal(joined.janus, "ack");
  await post(gw, "", { janus: "nonsense", transaction: "x" }); // 457 at the root
  await post(gw, `/${ids[1]}`, { janus: "attach", plugin: "no.such.plugin", transaction: "y" });

  const during = await scrape(admin);
  assert.equal(value(during, "janus_sessions"), 3);
  assert.equal(value(during, "janus_handles"), 1);
  assert.equal(value(during, "janus_requests_total", { janus: "create" }), 3);
  assert.equal(value(during, "janus_requests_total", { janus: "attach" }), 2);
  assert.equal(value(during, "janus_requests_total", { janus: "unknown" }), 1);
  assert.equal(value(during, "janus_request_errors_total", { janus: "unknown", code: "457" }), 1);
  assert.equal(value(during, "janus_request_errors_total", { janus: "attach", code: "460" }), 1);
  // Every request so far: 3 create, 2 attach, 1 message, 1 unknown.
  assert.equal(value(during, "janus_request_duration_seconds"), 7);
  // The join completes after its ack.
  await until(
    "participant counted",
    async () =>
      value(await scrape(admin), "janus_plugin_participants", {
        plugin: "janus.plugin.videoroom",
      }) === 1,
  );
  // The public copy on the API listener is the same registry.
  const pub = await scrape(metricsUrl(gw.httpUrl));
  assert.equal(value(pub, "janus_requests_total", { janus: "create" }), 3);

  for (const id of ids) {
    assert.equal(
      (await post(gw, `/${id}`, { janus: "destroy", transaction: "d" })).janus,
      "success",
    );
  }
  const after = await scrape(admin);
  assert.equal(value(after, "janus_sessions"), 0);
  assert.equal(value(after, "janus_handles"), 0);
  assert.equal(value(after, "janus_requests_total", { janus: "destroy" }), 3);
  assert.equal(value(after, "janus_plugin_participants", { plugin: "janus.plugin.videoroom" }), 0);
});

Deno.test("metrics: off the API listener unless public; a token is required when configured", async () => {
  {
    await using gw = await startTestGateway();
    const r = await fetch(metricsUrl(gw.httpUrl));
    assert.equal(r.status, 404);
    await r.body?.cancel();
    assert.equal(value(await scrape(metricsUrl(gw.adminUrl)), "janus_sessions"), 0);
  }
  {
    await using gw = await startTestGateway({ metrics: { public: true, token: "s3cret" } });
    for (const url of [metricsUrl(gw.adminUrl), metricsUrl(gw.httpUrl)]) {
      const refused: Record<string, string>[] = [{}, { authorization: "Bearer wrong" }];
      for (const headers of refused) {
        const r = await fetch(url, { headers });
        assert.equal(r.status, 401);
        await r.body?.cancel();
      }
      assert.equal(
        value(await scrape(url, { authorization: "Bearer s3cret" }), "janus_sessions"),
        0,
      );
    }
  }
});

peerTest(
  "metrics: an EchoTest call with a real peer counts a webrtcup and a connected PeerConnection",
  async (host) => {
    await using gw = await startEchoGateway("rtp");
    const admin = metricsUrl(gw.adminUrl);
    const before = await scrape(admin);
    assert.equal(value(before, "janus_webrtc_setup_seconds"), 0);
    assert.ok(value(before, "janus_media_workers") >= 1);
    const sig = await openSignal("http", gw);
    const client = await host.peer({ audio: true, video: true });
    try {
      const { s } = await echoCallUp(sig, client, 5);
      const during = await scrape(admin);
      assert.equal(value(during, "janus_webrtc_setup_seconds"), 1);
      const setup = during.get("janus_webrtc_setup_seconds")?.metrics[0];
      assert.ok(Number(setup?.sum) > 0 && Number(setup?.sum) < 10, `setup ${setup?.sum} s`);
      assert.equal(value(during, "janus_peerconnections", { state: "connected" }), 1);
      assert.equal(value(during, "janus_plugin_calls", { plugin: "janus.plugin.echotest" }), 1);
      assert.equal(value(during, "janus_media_peers"), 1);
      assert.ok(value(during, "janus_media_worker_resident_memory_bytes") > 1e6);
      assert.ok(value(during, "janus_requests_total", { janus: "message" }) >= 1);
      // Media counters of the rtp engine: they grow while the echo runs.
      const rtp = (kind: string) => ({ engine: "rtp", kind });
      const first = mediaCounts(during);
      for (const kind of ["audio", "video"]) {
        for (const name of ["packets_received", "bytes_received", "packets_sent", "bytes_sent"]) {
          assert.ok(first[`${name}/${kind}`]! > 0, `${name} ${kind}: ${first[`${name}/${kind}`]}`);
        }
      }
      assert.ok(first["bytes_received/video"]! > first["packets_received/video"]!);
      // The echo asks the client for a keyframe as the call starts.
      assert.ok(value(during, "janus_media_plis_sent_total", rtp("video")) >= 1);
      for (const name of ["nacks_received", "nacks_sent", "plis_received", "rtx_sent"]) {
        assert.equal(during.get(`janus_media_${name}_total`)?.type, "COUNTER", name);
      }
      await framesAtLeast(client, 10);
      const second = mediaCounts(await scrape(admin));
      for (const key of ["packets_received/video", "bytes_sent/video", "packets_sent/audio"]) {
        assert.ok(second[key]! > first[key]!, `${key}: ${first[key]} then ${second[key]}`);
      }
      await expectSuccess(sig, { janus: "destroy", session_id: s });
      await until("no peer left", () => Promise.resolve(gw.counts().peers === 0));
      const after = await scrape(admin);
      assert.equal(value(after, "janus_peerconnections", { state: "connected" }), 0);
      assert.equal(value(after, "janus_plugin_sessions", { plugin: "janus.plugin.echotest" }), 0);
      assert.equal(value(after, "janus_webrtc_setup_seconds"), 1);
      // The closed peer's packets stay counted.
      const third = mediaCounts(after);
      for (const [key, n] of Object.entries(second)) {
        assert.ok(third[key]! >= n, `${key}: ${n} then ${third[key]}`);
      }
    } finally {
      await client.close();
      await sig.close();
    }
  },
);

peerTest(
  "metrics: an EchoTest call on the wrtc engine counts its packets and bytes from the " +
    "PeerConnection's stats, and they stay counted after the peer closes",
  async (host) => {
    await using gw = await startEchoGateway("wrtc");
    const admin = metricsUrl(gw.adminUrl);
    const zero = mediaCounts(await scrape(admin), "wrtc");
    assert.ok(Object.values(zero).every((n) => n === 0), JSON.stringify(zero));
    const sig = await openSignal("http", gw);
    const client = await host.peer({ audio: true, video: true });
    try {
      const { s } = await echoCallUp(sig, client, 5);
      const first = mediaCounts(await scrape(admin), "wrtc");
      for (const kind of ["audio", "video"]) {
        for (const name of ["packets_received", "bytes_received", "packets_sent", "bytes_sent"]) {
          assert.ok(first[`${name}/${kind}`]! > 0, `${name} ${kind}: ${JSON.stringify(first)}`);
        }
      }
      assert.ok(first["bytes_received/video"]! > first["packets_received/video"]!);
      // The rtp engine's counters are its own: this call is not in them.
      const rtp = mediaCounts(await scrape(admin), "rtp");
      assert.ok(Object.values(rtp).every((n) => n === 0), JSON.stringify(rtp));
      await framesAtLeast(client, 10);
      const second = mediaCounts(await scrape(admin), "wrtc");
      for (const key of ["packets_received/video", "bytes_sent/video", "packets_sent/audio"]) {
        assert.ok(second[key]! > first[key]!, `${key}: ${first[key]} then ${second[key]}`);
      }
      await expectSuccess(sig, { janus: "destroy", session_id: s });
      await until("no peer left", () => Promise.resolve(gw.counts().peers === 0));
      // The closed peer's packets stay counted, with what went after the last poll.
      const third = mediaCounts(await scrape(admin), "wrtc");
      for (const [key, n] of Object.entries(second)) {
        assert.ok(third[key]! >= n, `${key}: ${n} then ${third[key]}`);
      }
    } finally {
      await client.close();
      await sig.close();
    }
  },
);

/** The same fingerprint with its first byte changed: a certificate that is not the peer's. */
function wrongFingerprint(sdp: string): string {
  return sdp.replace(
    /^(a=fingerprint:sha-256 )([0-9A-F]{2})/m,
    (_, head: string, byte: string) =>
      head + ((parseInt(byte, 16) + 1) % 256).toString(16).padStart(2, "0").toUpperCase(),
  );
}

for (const engine of ["rtp", "wrtc"] as const) {
  peerTest(
    `metrics: ${engine} engine: a peer that never answers ICE is an ICE failure, one whose ` +
      "certificate does not match its fingerprint a DTLS failure (real connectivity checks and " +
      "handshake)",
    async (host) => {
      await using gw = await startEchoGateway(engine);
      const admin = metricsUrl(gw.adminUrl);
      const failures = async () => {
        const s = await scrape(admin);
        return [value(s, "janus_ice_failures_total"), value(s, "janus_dtls_failures_total")];
      };
      assert.deepEqual(await failures(), [0, 0]);
      const sig = await openSignal("http", gw);
      // The only remote candidate: a socket that reads the checks and never answers.
      const silent = dgram.createSocket("udp4");
      let checks = 0;
      silent.on("message", () => checks++);
      await new Promise<void>((resolve) => silent.bind(0, "127.0.0.1", resolve));
      const quiet = await host.peer({ audio: true, video: true });
      const liar = await host.peer({ audio: true, video: true });
      try {
        const s = await createSession(sig);
        const h1 = await attachEcho(sig, s);
        const offer = await quiet.offer();
        await echoMessage(sig, s, h1, { audio: true, video: true }, { type: "offer", sdp: offer });
        const port = silent.address().port;
        await trickle(sig, s, h1, {
          candidate: {
            candidate: `candidate:1 1 udp 2122260223 127.0.0.1 ${port} typ host`,
            sdpMid: "0",
            sdpMLineIndex: 0,
          },
        });
        await trickle(sig, s, h1, { candidate: { completed: true } });
        const iceHangup = await sig.take(
          "hangup after ICE failed",
          (m) => m.janus === "hangup" && m.sender === h1,
          120_000,
        );
        assert.equal(iceHangup.msg.reason, "ICE failed");
        assert.ok(checks > 0, "connectivity checks reached the silent socket");
        assert.deepEqual(await failures(), [1, 0]);

        // DTLS: ICE connects, then the certificate is not the one the offer vouched for.
        const h2 = await attachEcho(sig, s);
        const { event } = await echoMessage(sig, s, h2, { audio: true, video: true }, {
          type: "offer",
          sdp: wrongFingerprint(await liar.offer()),
        });
        await liar.answer(String((event.msg.jsep as { sdp: string }).sdp));
        await trickleAll(sig, s, h2, checkClientCandidates(await liar.candidates()));
        const dtlsHangup = await sig.take(
          "hangup after the DTLS handshake failed",
          (m) => m.janus === "hangup" && m.sender === h2,
          60_000,
        );
        assert.equal(dtlsHangup.msg.reason, "DTLS error");
        assert.ok(
          !sig.events.some((e) => e.msg.janus === "webrtcup" && e.msg.sender === h2),
          "no webrtcup",
        );
        assert.deepEqual(await failures(), [1, 1]);
        await expectSuccess(sig, { janus: "destroy", session_id: s });
      } finally {
        await new Promise<void>((resolve) => silent.close(() => resolve()));
        await quiet.close();
        await liar.close();
        await sig.close();
      }
    },
  );
}
