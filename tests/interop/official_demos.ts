/**
 * Shared by the tests that drive the OFFICIAL Janus demo pages (Debian `janus-demos`), which
 * the gateway serves under `/demos/http/` and `/demos/ws/` (transports/demo/official.ts).
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { DEFAULT_DEMOS_DIR } from "../../transports/demo/official.ts";
import { capturePageLog, type PageLog, pollUntil } from "../_helpers/browser.ts";
import type { TestGateway } from "../_helpers/gateway.ts";
import { streamingCounts } from "../plugins/_streaming.ts";

/** The Janus transports the demo pages are driven over. */
export const DEMO_TRANSPORTS = ["http", "ws"] as const;

/** Fails with the package to install when the official demos are missing. */
export async function requireOfficialDemos(page: string): Promise<void> {
  try {
    await Deno.stat(`${DEFAULT_DEMOS_DIR}/${page}`);
  } catch {
    throw new Error(
      `${DEFAULT_DEMOS_DIR}/${page} is missing: install the Debian package janus-demos ` +
        "('apt-get install -y janus-demos'; `deno task test` does it when run as root)",
    );
  }
}

/** The URL of an official demo page on `gw`, talking over `transport`. */
export function officialDemoUrl(
  gw: TestGateway,
  transport: "http" | "ws",
  page: string,
): string {
  return `http://127.0.0.1:${gw.app.ports.http}/demos/${transport}/${page}`;
}

/** One video stream of a page's PeerConnections, from `getStats`. */
export interface VideoStream {
  mimeType: string;
  frames: number;
  width: number;
}

/**
 * The inbound (or outbound) video streams of the PeerConnections `pcs` returns (a page-side
 * function body), each with its codec's MIME type, frames decoded (encoded) and width.
 */
export function videoStreams(
  page: Page,
  pcs: string,
  direction: "in" | "out",
): Promise<VideoStream[]> {
  return page.evaluate(async ({ body, direction }) => {
    type Report = Record<string, unknown> & { type: string; kind?: string; id: string };
    type StatsPc = { getStats(): Promise<Map<string, Report>> };
    let list: (StatsPc | null | undefined)[] = [];
    try {
      list = new Function(body)() as (StatsPc | null | undefined)[];
    } catch {
      return [];
    }
    const out: { mimeType: string; frames: number; width: number }[] = [];
    const type = direction === "in" ? "inbound-rtp" : "outbound-rtp";
    for (const pc of list) {
      if (!pc) continue;
      const stats = await pc.getStats();
      stats.forEach((r) => {
        if (r.type !== type || r.kind !== "video") return;
        const codec = stats.get(String(r.codecId));
        out.push({
          mimeType: String(codec?.mimeType ?? ""),
          frames: Number((direction === "in" ? r.framesDecoded : r.framesEncoded) ?? 0),
          width: Number(r.frameWidth ?? 0),
        });
      });
    }
    return out;
  }, { body: pcs, direction });
}

/**
 * Inbound video frames decoded, summed over the PeerConnections that `pcs` (a page-side
 * function body returning an array of them, e.g. `return [echotest.webrtcStuff.pc]`) returns.
 */
export async function framesDecoded(page: Page, pcs: string): Promise<number> {
  return (await videoStreams(page, pcs, "in")).reduce((n, s) => n + s.frames, 0);
}

/**
 * Inbound audio summed over the PeerConnections `pcs` returns (as {@link framesDecoded}):
 * energy, packets, and the highest level.
 */
export function inboundAudio(
  page: Page,
  pcs: string,
): Promise<{ energy: number; packets: number; level: number }> {
  return page.evaluate(async (body) => {
    type StatsPc = { getStats(): Promise<Map<string, unknown>> };
    const out = { energy: 0, packets: 0, level: 0 };
    let list: (StatsPc | null | undefined)[] = [];
    try {
      list = new Function(body)() as (StatsPc | null | undefined)[];
    } catch {
      return out;
    }
    for (const pc of list) {
      if (!pc) continue;
      (await pc.getStats()).forEach((value) => {
        const r = value as {
          type: string;
          kind?: string;
          totalAudioEnergy?: number;
          packetsReceived?: number;
          audioLevel?: number;
        };
        if (r.type !== "inbound-rtp" || r.kind !== "audio") return;
        out.energy += r.totalAudioEnergy ?? 0;
        out.packets += r.packetsReceived ?? 0;
        out.level = Math.max(out.level, r.audioLevel ?? 0);
      });
    }
    return out;
  }, pcs);
}

/** The text of any bootbox dialog the page shows (the demos report errors that way). */
export async function dialogText(page: Page): Promise<string> {
  return (await page.locator(".bootbox-body").allTextContents()).join(" | ");
}

/**
 * Closes every bootbox dialog the page shows (its OK button) and returns their texts, so that
 * a dialog's modal backdrop does not block the next click.
 */
export async function dismissDialogs(page: Page): Promise<string[]> {
  const texts: string[] = [];
  const accept = page.locator(".bootbox .bootbox-accept:visible");
  while ((await accept.count()) > 0) {
    texts.push(...await page.locator(".bootbox:visible .bootbox-body").allTextContents());
    await accept.first().click();
    await page.locator(".bootbox").first().waitFor({ state: "detached", timeout: 5_000 });
  }
  return texts;
}

/**
 * Clicks `selector`, first closing any bootbox dialog in the way (one may appear while
 * waiting); returns the texts of the dialogs closed.
 */
export async function clickPastDialogs(
  page: Page,
  selector: string,
  timeoutMs = 15_000,
): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  const texts: string[] = [];
  for (;;) {
    texts.push(...await dismissDialogs(page));
    try {
      await page.click(selector, { timeout: 1_000 });
      return texts;
    } catch (e) {
      if (Date.now() > deadline) throw e;
    }
  }
}

/** Whether `selector` matches anything on the page now. */
export async function present(page: Page, selector: string): Promise<boolean> {
  return (await page.locator(selector).count()) > 0;
}

/** One person's page in a demo test with several pages. */
export interface DemoParticipant {
  name: string;
  page: Page;
  log: PageLog;
}

/** The pages of a demo test, with what a failure report needs. */
export interface DemoPages {
  readonly people: DemoParticipant[];
  /**
   * `state()`, each page's dialog and last log lines; the full page logs go to a temporary
   * file it names.
   */
  describe(): Promise<string>;
  /** Fails if a page of `on` shows a dialog (the demos report every error in one). */
  noDialogs(step: string, on?: readonly DemoParticipant[]): Promise<void>;
}

/**
 * Opens one page per name, each in its own browser context (its own janus.js session),
 * recording its log. `logPrefix` names the full-log file, `state` heads the failure report
 * (e.g. the gateway's counts) and `extra` adds to a page's line in it.
 */
export async function openDemoPages(
  browser: Browser,
  names: readonly string[],
  options: {
    logPrefix: string;
    state: () => string;
    extra?: (p: DemoParticipant) => Promise<string>;
  },
): Promise<DemoPages> {
  const people: DemoParticipant[] = [];
  const describe = async () => {
    const full = await Deno.makeTempFile({ prefix: `${options.logPrefix}_`, suffix: ".log" });
    await Deno.writeTextFile(full, people.map((p) => p.log.lines.join("\n")).join("\n"));
    const parts = [`${options.state()}; full page logs: ${full}`];
    for (const p of people) {
      const dialog = await dialogText(p.page).catch(() => "");
      const extra = options.extra ? await options.extra(p) : "";
      parts.push(`--- ${p.name} (dialog: ${dialog || "none"}${extra})\n${p.log.tail(60)}`);
    }
    return parts.join("\n");
  };
  const noDialogs = async (step: string, on: readonly DemoParticipant[] = people) => {
    for (const p of on) {
      const text = await dialogText(p.page);
      // describe() writes a log file: only for a failure.
      if (text !== "") assert.fail(`${step}: ${p.name} shows '${text}':\n${await describe()}`);
    }
  };
  for (const name of names) {
    const page = await (await browser.newContext()).newPage();
    people.push({ name, page, log: capturePageLog(page, name) });
  }
  return { people, describe, noDialogs };
}

/** How long a demo page may take to load and initialise janus.js. */
const DEMO_READY_MS = 20_000;

/**
 * Opens an official demo page and clicks its Start button once janus.js is initialised: the
 * demos bind Start in `Janus.init`'s callback, so an earlier click would be lost. A page
 * whose scripts have not run within {@link DEMO_READY_MS} is reloaded once, with a warning
 * naming its state (CI saw a fresh page in a loaded run print nothing for 20 s); a second
 * such page fails the test.
 */
export async function startDemo(page: Page, url: string): Promise<void> {
  for (let attempt = 1;; attempt++) {
    await page.goto(url);
    try {
      await page.waitForFunction(
        () => (globalThis as { Janus?: { initDone?: boolean } }).Janus?.initDone === true,
        undefined,
        { timeout: DEMO_READY_MS },
      );
      break;
    } catch (e) {
      const state = await page.evaluate(
        "({ readyState: document.readyState, jquery: typeof jQuery, janus: typeof Janus })",
      ).catch((err) => `unknown (${err})`);
      const what = `${url}: janus.js not initialised in ${DEMO_READY_MS} ms (${e}); page: ${
        JSON.stringify(state)
      }`;
      if (attempt === 2) throw new Error(what);
      // Shown in the test output: a reload that helped is still worth seeing.
      await Deno.stderr.write(new TextEncoder().encode(`${what}; reloading it once\n`));
    }
  }
  await page.click("#start");
}

/**
 * On each page in turn: opens `url`, Start, types the page's name into the demo's
 * `#username` form and registers, then waits until `done(page, name)` (`${name} ${what}`).
 */
export async function startAndRegister(
  demo: DemoPages,
  url: string,
  what: string,
  done: (page: Page, name: string) => Promise<boolean>,
): Promise<void> {
  const { describe } = demo;
  for (const { name, page } of demo.people) {
    await startDemo(page, url);
    await page.waitForSelector("#username", { state: "visible", timeout: 20_000 })
      .catch(async (e) => {
        throw new Error(`${name}: no username field (${e}):\n${await describe()}`);
      });
    await page.fill("#username", name);
    await page.click("#register");
    await pollUntil(`${name} ${what}`, () => done(page, name), { describe });
  }
}

/** Waits until the gateway holds no session, handle or peer. */
export async function untilNothingLeft(
  gw: TestGateway,
  describe: () => Promise<string> | string,
): Promise<void> {
  await pollUntil(
    "no sessions, handles or peers left",
    () => {
      const c = gw.counts();
      return Promise.resolve(c.sessions === 0 && c.handles === 0 && c.peers === 0);
    },
    { describe },
  );
}

/**
 * On the official Streaming demo: clicks Stop (`stop`, then the page hangs up) and waits until
 * the gateway holds no viewer and no PeerConnection; no error dialog shows.
 */
export async function stopWatching(
  page: Page,
  gw: TestGateway,
  describe: () => Promise<string>,
): Promise<void> {
  await page.click("#watch");
  await pollUntil(
    "the viewer gone",
    () => Promise.resolve(streamingCounts(gw).viewers === 0 && gw.counts().peers === 0),
    { describe },
  );
  assert.equal(await dialogText(page).catch(() => ""), "", "no error dialog");
}
