/**
 * Headless Debian Chromium for end-to-end tests, with fake media devices and a
 * fresh profile; never a downloaded browser.
 *
 * @module
 */
import { type Browser, chromium } from "playwright-core";

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

/** Launches Chromium; fails with the install command when it is missing. */
export async function launchChromium(): Promise<Browser> {
  try {
    await Deno.stat(CHROMIUM_PATH);
  } catch {
    throw new Error(`${CHROMIUM_PATH} is missing: install it with 'apt-get install -y chromium'`);
  }
  // Playwright gives every launch a fresh temporary profile (user-data-dir).
  return await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_FLAGS] });
}
