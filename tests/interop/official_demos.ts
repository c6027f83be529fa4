/**
 * Shared by the tests that drive the OFFICIAL Janus demo pages (Debian `janus-demos`), which
 * the gateway serves under `/demos/http/` and `/demos/ws/` (transports/demo/official.ts).
 *
 * @module
 */
import type { Page } from "playwright-core";
import { DEFAULT_DEMOS_DIR } from "../../transports/demo/official.ts";
import type { TestGateway } from "../_helpers/gateway.ts";

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

/**
 * Inbound video frames decoded, summed over the PeerConnections that `pcs` (a page-side
 * function body returning an array of them, e.g. `return [echotest.webrtcStuff.pc]`) returns.
 */
export function framesDecoded(page: Page, pcs: string): Promise<number> {
  return page.evaluate(async (body) => {
    type StatsPc = { getStats(): Promise<Map<string, unknown>> };
    let list: (StatsPc | null | undefined)[] = [];
    try {
      list = new Function(body)() as (StatsPc | null | undefined)[];
    } catch {
      return 0;
    }
    let frames = 0;
    for (const pc of list) {
      if (!pc) continue;
      (await pc.getStats()).forEach((value) => {
        const r = value as { type: string; kind?: string; framesDecoded?: number };
        if (r.type === "inbound-rtp" && r.kind === "video") frames += r.framesDecoded ?? 0;
      });
    }
    return frames;
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
