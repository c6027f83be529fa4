/**
 * Shared setup of the VideoRoom tests with real wrtc peers (`videoroom_media_test.ts`,
 * `videoroom_control_test.ts`, `videoroom_talking_test.ts`): a gateway with one media
 * worker inside the test network namespace, and the offer/answer steps of a client peer
 * with its candidates gathered into the SDP (no trickle).
 *
 * @module
 */
import assert from "node:assert/strict";
import { startMediaEngine } from "../../core/media/start.ts";
import { parseConfig } from "../../core/config.ts";
import { startTestGateway, testConfig, type TestGateway } from "../_helpers/gateway.ts";
import { assertInsideNetns } from "../_helpers/netns.ts";
import { ClientPeer, type ClientPeerOptions, waitUntil, type Wrtc } from "../media/_client.ts";
import type { TestJsep } from "./videoroom_client.ts";

/** A test gateway with a media engine of one worker (asserts the test network namespace). */
export async function gateway(): Promise<TestGateway> {
  assertInsideNetns();
  const media = await startMediaEngine(parseConfig(testConfig({ media: { workers: 1 } })));
  assert.ok(media, "media engine");
  return await startTestGateway({ media: { workers: 1 } }, { media });
}

/** The local SDP of `peer` once ICE gathering completed. */
export async function gathered(peer: ClientPeer): Promise<string> {
  await waitUntil("ICE gathering", () => peer.pc.iceGatheringState === "complete", 5000);
  return peer.pc.localDescription?.sdp ?? "";
}

/** The answer of `peer` to our `offer`, once gathered. */
export async function answerOf(peer: ClientPeer, offer: TestJsep): Promise<TestJsep> {
  await peer.pc.setRemoteDescription({ type: "offer", sdp: offer.sdp });
  await peer.pc.setLocalDescription(await peer.pc.createAnswer());
  return { type: "answer", sdp: await gathered(peer) };
}

/** A publishing peer (every transceiver sendonly) and its gathered offer. */
export async function sendonlyOffer(
  wrtc: Wrtc,
  options: ClientPeerOptions,
): Promise<{ peer: ClientPeer; offer: TestJsep }> {
  const peer = new ClientPeer(wrtc, options);
  for (const t of peer.pc.getTransceivers()) t.direction = "sendonly";
  await peer.offer();
  return { peer, offer: { type: "offer", sdp: await gathered(peer) } };
}
