/**
 * A test gateway with its own media engine: the engine is started from the same test
 * configuration, handed to the gateway and closed with it (or at once when the gateway fails
 * to start).
 *
 * @module
 */
import assert from "node:assert/strict";
import { type ConfigInput, parseConfig } from "../../core/config.ts";
import { startMediaEngine } from "../../core/media/start.ts";
import type { MediaEngine } from "../../core/media/types.ts";
import { startTestGateway, testConfig, type TestGateway } from "./gateway.ts";

/** A test gateway and the media engine it uses. */
export type MediaTestGateway = TestGateway & { media: MediaEngine };

/**
 * Starts a media engine for `overrides` (on top of the test configuration) and a gateway
 * using it. `afterStop` runs once the gateway has stopped, before the engine is closed (e.g.
 * to assert that no media source is left).
 */
export async function startMediaTestGateway(
  overrides: ConfigInput,
  afterStop?: (media: MediaEngine) => void,
): Promise<MediaTestGateway> {
  const config = testConfig(overrides);
  const media = await startMediaEngine(parseConfig(config));
  assert.ok(media, "a media engine");
  try {
    const gw = await startTestGateway(config, { media });
    const stop = gw.stop;
    const stopAll = async () => {
      try {
        await stop();
        afterStop?.(media);
      } finally {
        await media.close();
      }
    };
    return Object.assign(gw, { media, stop: stopAll, [Symbol.asyncDispose]: stopAll });
  } catch (e) {
    await media.close();
    throw e;
  }
}
