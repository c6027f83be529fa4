/**
 * End-to-end VideoRoom quality in Chromium on the OFFICIAL demo (`videoroomtest.html`): pages
 * that join and publish with the fake camera, the stats of what each one decodes and sends,
 * and a probe subscriber (a handle attached through the page's own janus.js) timing how soon
 * video shows again after `start` (resume), `switch` and `join`.
 *
 * Shared by tests/interop/videoroom_quality_test.ts and the bench's browser phase.
 *
 * @module
 */
import type { Browser, Page } from "playwright-core";
import type { ConfigInput } from "../../core/config.ts";
import { capturePageLog, type PageLog, pollUntil } from "../_helpers/browser.ts";
import type { TestGateway } from "../_helpers/gateway.ts";
import { officialDemoUrl, present, startDemo } from "./official_demos.ts";

/** The demo's room. */
export const DEMO_ROOM = 1234;

/**
 * Chromium's fake camera at 30 fps (its default is 20): 640x480 at the rate of a common
 * webcam, so that "20 fps or more" is not the source's own rate.
 */
export const FAKE_CAMERA_30FPS = ["--use-fake-device-for-media-stream=fps=30"];

/**
 * VideoRoom on the rtp engine with the demo's room 1234 as in the stock config but without
 * its 128 kbit/s cap: at that cap Chromium sends 320x240 (`qualityLimitationReason:
 * "bandwidth"`), and the demo's Bandwidth menu is the only other way up.
 */
export function qualityConfig(workers = 1): ConfigInput {
  return {
    media: { workers, engines: { "janus.plugin.videoroom": "rtp" } },
    plugins: {
      "janus.plugin.videoroom": {
        rooms: [{
          room: DEMO_ROOM,
          description: "Demo Room",
          publishers: 6,
          bitrate: 0,
          fir_freq: 10,
          audiocodec: "opus",
          videocodec: "vp8",
        }],
      },
    },
  };
}

/** A demo page and what it printed. */
export interface DemoPage {
  name: string;
  page: Page;
  log: PageLog;
}

/**
 * Opens the demo over `transport` in a fresh context and starts its session; with `publish`
 * it also joins as `name` and publishes the fake camera (resolves once the local video shows).
 * `query` goes after the page's URL (the demo reads e.g. `vcodec=h264`).
 */
export async function openDemo(
  browser: Browser,
  gw: TestGateway,
  name: string,
  options: { transport?: "http" | "ws"; publish: boolean; query?: string },
): Promise<DemoPage> {
  const page = await (await browser.newContext()).newPage();
  const log = capturePageLog(page, name);
  const describe = () => `${name}:\n${log.tail(40)}`;
  const url = officialDemoUrl(gw, options.transport ?? "http", "videoroomtest.html");
  await startDemo(page, options.query ? `${url}?${options.query}` : url);
  // The username field shows once the session exists and the publisher handle is attached.
  await page.waitForSelector("#username", { state: "visible", timeout: 20_000 });
  if (options.publish) {
    await page.fill("#username", name);
    await page.click("#register");
    await pollUntil(`${name} publishing`, () => present(page, "#videolocal video"), { describe });
  }
  return { name, page, log };
}

/** The publisher id the demo got in `joined` (`myid`). */
export async function publisherId(page: Page): Promise<number> {
  return await pollUntil("publisher id", () =>
    page.evaluate(() => {
      const id = (globalThis as { myid?: unknown }).myid;
      return typeof id === "number" ? id : undefined;
    }));
}

/** One page's view of the room at one instant, from `getStats`. */
export interface QualitySample {
  /** `performance.now()` in the page, ms. */
  at: number;
  /** The demo's subscriber PeerConnections (`feeds[...]`): their inbound video and audio. */
  video: {
    frameWidth: number;
    frameHeight: number;
    framesDecoded: number;
    keyFramesDecoded: number;
    freezeCount: number;
    totalFreezesDuration: number;
    packetsLost: number;
    /** Why a freeze happened: late frames (jitter buffer), drops, NACKs, PLIs. */
    framesReceived: number;
    framesDropped: number;
    nackCount: number;
    pliCount: number;
    jitterBufferDelay: number;
    jitterBufferEmittedCount: number;
  };
  audio: { packetsReceived: number; bytesReceived: number };
  /** The page's publisher PeerConnection (`sfutest`): outbound video and its camera. */
  sent: {
    frameWidth: number;
    frameHeight: number;
    framesEncoded: number;
    framesPerSecond: number;
    qualityLimitationReason: string;
    qualityLimitationDurations: Record<string, number>;
    sourceWidth: number;
    sourceHeight: number;
    sourceFramesPerSecond: number;
  };
}

/** Reads a {@link QualitySample} of the demo page (one remote feed expected). */
export function sampleQuality(page: Page): Promise<QualitySample> {
  return page.evaluate(async () => {
    type Report = Record<string, unknown> & { type: string; kind?: string };
    type StatsPc = { getStats(): Promise<Map<string, Report>> };
    type Handle = { webrtcStuff?: { pc?: StatsPc } } | null | undefined;
    const g = globalThis as { feeds?: Handle[]; sfutest?: Handle };
    const num = (v: unknown) => typeof v === "number" ? v : 0;
    const out = {
      at: performance.now(),
      video: {
        frameWidth: 0,
        frameHeight: 0,
        framesDecoded: 0,
        keyFramesDecoded: 0,
        freezeCount: 0,
        totalFreezesDuration: 0,
        packetsLost: 0,
        framesReceived: 0,
        framesDropped: 0,
        nackCount: 0,
        pliCount: 0,
        jitterBufferDelay: 0,
        jitterBufferEmittedCount: 0,
      },
      audio: { packetsReceived: 0, bytesReceived: 0 },
      sent: {
        frameWidth: 0,
        frameHeight: 0,
        framesEncoded: 0,
        framesPerSecond: 0,
        qualityLimitationReason: "",
        qualityLimitationDurations: {} as Record<string, number>,
        sourceWidth: 0,
        sourceHeight: 0,
        sourceFramesPerSecond: 0,
      },
    };
    for (const feed of g.feeds ?? []) {
      const pc = feed?.webrtcStuff?.pc;
      if (!pc) continue;
      (await pc.getStats()).forEach((r) => {
        if (r.type !== "inbound-rtp") return;
        if (r.kind === "video") {
          const v = out.video;
          v.frameWidth = num(r.frameWidth);
          v.frameHeight = num(r.frameHeight);
          v.framesDecoded += num(r.framesDecoded);
          v.keyFramesDecoded += num(r.keyFramesDecoded);
          v.freezeCount += num(r.freezeCount);
          v.totalFreezesDuration += num(r.totalFreezesDuration);
          v.packetsLost += num(r.packetsLost);
          v.framesReceived += num(r.framesReceived);
          v.framesDropped += num(r.framesDropped);
          v.nackCount += num(r.nackCount);
          v.pliCount += num(r.pliCount);
          v.jitterBufferDelay += num(r.jitterBufferDelay);
          v.jitterBufferEmittedCount += num(r.jitterBufferEmittedCount);
        } else if (r.kind === "audio") {
          out.audio.packetsReceived += num(r.packetsReceived);
          out.audio.bytesReceived += num(r.bytesReceived);
        }
      });
    }
    const pub = g.sfutest?.webrtcStuff?.pc;
    if (pub) {
      (await pub.getStats()).forEach((r) => {
        const s = out.sent;
        if (r.type === "outbound-rtp" && r.kind === "video") {
          s.frameWidth = num(r.frameWidth);
          s.frameHeight = num(r.frameHeight);
          s.framesEncoded = num(r.framesEncoded);
          s.framesPerSecond = num(r.framesPerSecond);
          s.qualityLimitationReason = String(r.qualityLimitationReason ?? "");
          s.qualityLimitationDurations = (r.qualityLimitationDurations ?? {}) as Record<
            string,
            number
          >;
        } else if (r.type === "media-source" && r.kind === "video") {
          s.sourceWidth = num(r.width);
          s.sourceHeight = num(r.height);
          s.sourceFramesPerSecond = num(r.framesPerSecond);
        }
      });
    }
    return out;
  });
}

/** What a page decoded and sent between two samples. */
export interface QualityWindow {
  seconds: number;
  /** Inbound video frames decoded per second over the window. */
  fps: number;
  /** Freezes that began inside the window (`freezeCount` delta). */
  freezes: number;
  freezeSeconds: number;
  audioPackets: number;
  audioBytes: number;
  /** Outbound video frames encoded per second by the page's publisher. */
  encodedFps: number;
  framesDropped: number;
  packetsLost: number;
  nacks: number;
  plis: number;
  /** Mean jitter-buffer delay of the frames emitted in the window, ms. */
  jitterBufferMs: number;
}

/** The deltas between `a` and a later `b`. */
export function qualityWindow(a: QualitySample, b: QualitySample): QualityWindow {
  const seconds = (b.at - a.at) / 1000;
  return {
    seconds,
    fps: (b.video.framesDecoded - a.video.framesDecoded) / seconds,
    freezes: b.video.freezeCount - a.video.freezeCount,
    freezeSeconds: b.video.totalFreezesDuration - a.video.totalFreezesDuration,
    audioPackets: b.audio.packetsReceived - a.audio.packetsReceived,
    audioBytes: b.audio.bytesReceived - a.audio.bytesReceived,
    encodedFps: (b.sent.framesEncoded - a.sent.framesEncoded) / seconds,
    framesDropped: b.video.framesDropped - a.video.framesDropped,
    packetsLost: b.video.packetsLost - a.video.packetsLost,
    nacks: b.video.nackCount - a.video.nackCount,
    plis: b.video.pliCount - a.video.pliCount,
    jitterBufferMs: (b.video.jitterBufferDelay - a.video.jitterBufferDelay) * 1000 /
      Math.max(1, b.video.jitterBufferEmittedCount - a.video.jitterBufferEmittedCount),
  };
}

/** How soon video came back after one request of the probe, in ms (page clock). */
export interface ProbeTiming {
  /** Request sent to its ack. */
  ackMs: number;
  /** Ack to the plugin's event (`started`, `switched`, `paused`, ...). */
  eventMs: number | null;
  /** Ack to the first frame decoded from a new keyframe; null if none came in time. */
  frameMs: number | null;
}

/**
 * Attaches a subscriber handle through the page's janus.js session (`janus.attach`), joins it
 * to `feed` and answers the offer as the demo does; resolves the ms from the join's ack to the
 * first decoded frame (null past `timeoutMs`). The handle lives in the page as `vrProbe`.
 */
export function attachProbe(page: Page, feed: number, timeoutMs = 10_000): Promise<ProbeTiming> {
  return page.evaluate(async ({ feed, room, timeoutMs }) => {
    type Report = Record<string, unknown> & { type: string; kind?: string };
    type Msg = Record<string, unknown>;
    type Jsep = { type: string; sdp: string };
    type SendOptions = {
      message: Msg;
      jsep?: Jsep;
      success?: (data?: Msg) => void;
      error?: (e: unknown) => void;
    };
    type ProbeHandle = {
      send(options: SendOptions): void;
      createAnswer(options: Record<string, unknown>): void;
      detach(options?: Record<string, unknown>): void;
      webrtcStuff: { pc?: { getStats(): Promise<Map<string, Report>> } };
    };
    // No DOM types here (Deno): the little of the page's DOM used, typed by hand.
    type VideoElement = { srcObject: unknown; remove(): void };
    type Probe = {
      handle: ProbeHandle;
      events: { at: number; event: Msg }[];
      video: VideoElement;
    };
    const g = globalThis as unknown as {
      janus: { attach(options: Record<string, unknown>): void };
      vrProbe?: Probe;
      document: {
        createElement(tag: "video"): VideoElement;
        body: { appendChild(e: VideoElement): void };
      };
      MediaStream: new (tracks: unknown[]) => unknown;
    };
    const video = g.document.createElement("video");
    Object.assign(video, { muted: true, autoplay: true, playsInline: true });
    g.document.body.appendChild(video);
    const events: Probe["events"] = [];
    const handle = await new Promise<ProbeHandle>((resolve, reject) => {
      let h: ProbeHandle | undefined;
      g.janus.attach({
        plugin: "janus.plugin.videoroom",
        success: (attached: ProbeHandle) => resolve(h = attached),
        error: reject,
        onmessage: (msg: Msg, jsep?: Jsep) => {
          events.push({ at: performance.now(), event: msg });
          if (!jsep || !h) return;
          const answerer = h;
          answerer.createAnswer({
            jsep,
            tracks: [{ type: "data" }],
            success: (answer: Jsep) =>
              answerer.send({ message: { request: "start", room }, jsep: answer }),
            error: (e: unknown) => events.push({ at: performance.now(), event: { error: `${e}` } }),
          });
        },
        onremotetrack: (track: { kind: string }, _mid: string, on: boolean) => {
          if (on && track.kind === "video") video.srcObject = new g.MediaStream([track]);
        },
      });
    });
    g.vrProbe = { handle, events, video };
    const sent = performance.now();
    const ack = await new Promise<number>((resolve, reject) =>
      handle.send({
        message: { request: "join", room, ptype: "subscriber", streams: [{ feed }] },
        success: () => resolve(performance.now()),
        error: reject,
      })
    );
    const deadline = ack + timeoutMs;
    while (performance.now() < deadline) {
      const pc = handle.webrtcStuff.pc;
      let frames = 0;
      if (pc) {
        (await pc.getStats()).forEach((r) => {
          if (r.type === "inbound-rtp" && r.kind === "video") {
            frames += typeof r.framesDecoded === "number" ? r.framesDecoded : 0;
          }
        });
      }
      if (frames > 0) return { ackMs: ack - sent, eventMs: null, frameMs: performance.now() - ack };
      await new Promise((r) => setTimeout(r, 5));
    }
    return { ackMs: ack - sent, eventMs: null, frameMs: null };
  }, { feed, room: DEMO_ROOM, timeoutMs });
}

/**
 * Sends `message` on the probe handle and times it: to the ack, to the plugin's event, and
 * (with `awaitFrame`) from the ack to the first frame decoded from a keyframe that arrived
 * after it (a resumed or switched line starts on a keyframe). Stats are polled every 5 ms.
 */
export function probeRequest(
  page: Page,
  message: Record<string, unknown>,
  options: { awaitFrame: boolean; timeoutMs?: number },
): Promise<ProbeTiming> {
  return page.evaluate(async ({ message, awaitFrame, timeoutMs }) => {
    type Report = Record<string, unknown> & { type: string; kind?: string };
    type Msg = Record<string, unknown>;
    type Probe = {
      handle: {
        send(options: {
          message: Msg;
          success?: (data?: Msg) => void;
          error?: (e: unknown) => void;
        }): void;
        webrtcStuff: { pc?: { getStats(): Promise<Map<string, Report>> } };
      };
      events: { at: number; event: Msg }[];
    };
    const probe = (globalThis as { vrProbe?: Probe }).vrProbe;
    if (!probe) throw new Error("no probe handle: attachProbe first");
    const read = async () => {
      let frames = 0;
      let keyframes = 0;
      const pc = probe.handle.webrtcStuff.pc;
      if (!pc) return { frames, keyframes };
      (await pc.getStats()).forEach((r) => {
        if (r.type !== "inbound-rtp" || r.kind !== "video") return;
        frames += typeof r.framesDecoded === "number" ? r.framesDecoded : 0;
        keyframes += typeof r.keyFramesDecoded === "number" ? r.keyFramesDecoded : 0;
      });
      return { frames, keyframes };
    };
    const base = await read();
    const seen = probe.events.length;
    const sent = performance.now();
    const ack = await new Promise<number>((resolve, reject) =>
      probe.handle.send({ message, success: () => resolve(performance.now()), error: reject })
    );
    const eventMs = () => {
      const e = probe.events.slice(seen).find((e) => e.event.videoroom === "event");
      return e ? e.at - ack : null;
    };
    const deadline = ack + timeoutMs;
    let frameMs: number | null = null;
    while (performance.now() < deadline) {
      if (!awaitFrame && eventMs() !== null) break;
      if (awaitFrame) {
        const now = await read();
        if (now.keyframes > base.keyframes && now.frames > base.frames) {
          frameMs = performance.now() - ack;
          break;
        }
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    // The event may come after the frame (long poll): give it a moment.
    const until = performance.now() + 2_000;
    while (eventMs() === null && performance.now() < until) {
      await new Promise((r) => setTimeout(r, 5));
    }
    return { ackMs: ack - sent, eventMs: eventMs(), frameMs };
  }, { message, awaitFrame: options.awaitFrame, timeoutMs: options.timeoutMs ?? 5_000 });
}

/** Frames the probe decoded so far. */
export function probeFrames(page: Page): Promise<number> {
  return page.evaluate(async () => {
    type Report = Record<string, unknown> & { type: string; kind?: string };
    type Probe = { handle: { webrtcStuff: { pc?: { getStats(): Promise<Map<string, Report>> } } } };
    const pc = (globalThis as { vrProbe?: Probe }).vrProbe?.handle.webrtcStuff.pc;
    let frames = 0;
    if (!pc) return frames;
    (await pc.getStats()).forEach((r) => {
      if (r.type === "inbound-rtp" && r.kind === "video" && typeof r.framesDecoded === "number") {
        frames += r.framesDecoded;
      }
    });
    return frames;
  });
}

/** Detaches the probe handle (its PeerConnection closes). */
export function detachProbe(page: Page): Promise<void> {
  return page.evaluate(() =>
    new Promise<void>((resolve) => {
      type Probe = {
        handle: { detach(o: Record<string, unknown>): void };
        video: { remove(): void };
      };
      const g = globalThis as { vrProbe?: Probe };
      const probe = g.vrProbe;
      if (!probe) return resolve();
      probe.video.remove();
      delete g.vrProbe;
      probe.handle.detach({ success: () => resolve(), error: () => resolve() });
    })
  );
}

/** Waits until the probe's frames stop (paused): no new frame for `quietMs`. */
export async function probeStopped(page: Page, quietMs = 400, timeoutMs = 5_000): Promise<void> {
  let last = await probeFrames(page);
  let since = Date.now();
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    const now = await probeFrames(page);
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) {
      return;
    }
  }
  throw new Error(`the probe kept decoding for ${timeoutMs} ms after pause`);
}

/** The 1-minute load average of the machine (/proc/loadavg), when readable. */
export function loadAverage(): number | undefined {
  try {
    return Number(Deno.readTextFileSync("/proc/loadavg").split(" ")[0]);
  } catch {
    return undefined;
  }
}

/** A request's timings in one line, for logs and failure messages. */
export function formatTiming(t: ProbeTiming): string {
  const ms = (v: number | null) => v === null ? "none" : `${v.toFixed(0)} ms`;
  return `ack ${ms(t.ackMs)}, event ${ms(t.eventMs)}, frame ${ms(t.frameMs)}`;
}
