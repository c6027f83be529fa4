/**
 * Headless Debian Chromium for end-to-end tests, with fake media devices and a
 * fresh profile; never a downloaded browser.
 *
 * @module
 */
import { type Browser, chromium, type Page } from "playwright-core";

/** Where Debian puts Chromium (`apt-get install -y chromium`). */
export const CHROMIUM_PATH = "/usr/bin/chromium";

/** The launch flags every browser test uses. */
export const CHROMIUM_FLAGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--use-fake-ui-for-media-stream",
  "--use-fake-device-for-media-stream",
];

/**
 * Launches Chromium; fails with the install command when it is missing. `extraFlags` come
 * after {@link CHROMIUM_FLAGS}, so a repeated switch overrides it (e.g.
 * `--use-fake-device-for-media-stream=fps=30`).
 */
export async function launchChromium(extraFlags: readonly string[] = []): Promise<Browser> {
  try {
    await Deno.stat(CHROMIUM_PATH);
  } catch {
    throw new Error(`${CHROMIUM_PATH} is missing: install it with 'apt-get install -y chromium'`);
  }
  // Playwright gives every launch a fresh temporary profile (user-data-dir).
  return await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [...CHROMIUM_FLAGS, ...extraFlags],
  });
}

/** What a page printed (console, uncaught errors, failed loads), kept for failure reports. */
export interface PageLog {
  /** The kept lines, oldest first. */
  readonly lines: readonly string[];
  /** The last `n` lines, one per line. */
  tail(n?: number): string;
}

/**
 * Records `page`'s console messages, uncaught errors, failed requests and HTTP error
 * responses, each line prefixed with the seconds since the call and `label`; keeps the last
 * `limit` lines.
 */
export function capturePageLog(page: Page, label: string, limit = 3000): PageLog {
  const lines: string[] = [];
  const start = performance.now();
  const push = (line: string) => {
    const at = ((performance.now() - start) / 1000).toFixed(3).padStart(8);
    lines.push(`${at} [${label}] ${line}`);
    if (lines.length > limit) lines.splice(0, lines.length - limit);
  };
  page.on("console", (m) => push(`${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => push(`pageerror: ${e.message}`));
  page.on("crash", () => push("the page crashed"));
  page.on(
    "requestfailed",
    (r) => push(`requestfailed: ${r.url()} ${r.failure()?.errorText ?? ""}`),
  );
  page.on("response", (r) => {
    if (r.status() >= 400) push(`http ${r.status()}: ${r.request().method()} ${r.url()}`);
  });
  return {
    lines,
    tail: (n = 80) => lines.slice(-n).join("\n"),
  };
}

/**
 * Polls `fn` every 200 ms until it returns a truthy value, and returns it; past `timeoutMs`
 * throws an error naming `what`, with `describe()`'s text appended when given.
 */
export async function pollUntil<T>(
  what: string,
  fn: () => Promise<T | undefined | null | false>,
  options: { timeoutMs?: number; describe?: () => Promise<string> | string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) {
      const details = options.describe ? `\n${await options.describe()}` : "";
      throw new Error(`Timed out waiting for ${what}${details}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
