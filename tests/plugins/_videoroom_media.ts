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
import type { EngineName } from "../../core/media/engine_router.ts";
import { startTestGateway, testConfig, type TestGateway } from "../_helpers/gateway.ts";
import { assertInsideNetns } from "../_helpers/netns.ts";
import { ClientPeer, type ClientPeerOptions, waitUntil, type Wrtc } from "../media/_client.ts";
import type { JsonObject } from "../../core/protocol.ts";
import { dataOf, jsepOf, type TestJsep, type VideoRoomClient } from "./videoroom_client.ts";

/** The plugin package id. */
export const VIDEOROOM = "janus.plugin.videoroom";

/** The media engines VideoRoom runs on; its media suites run on each. */
export const VIDEOROOM_ENGINES: readonly EngineName[] = ["wrtc", "rtp"];

/**
 * A test gateway with a media engine of one worker per engine used, VideoRoom's peers on
 * `engine` (default: the configured default, `DEFAULT_MEDIA_ENGINES`); asserts the test
 * network namespace.
 */
export async function gateway(engine?: EngineName): Promise<TestGateway> {
  assertInsideNetns();
  const engines: Record<string, EngineName> = engine !== undefined ? { [VIDEOROOM]: engine } : {};
  const config = { media: { workers: 1, engines } };
  const media = await startMediaEngine(parseConfig(testConfig(config)));
  assert.ok(media, "media engine");
  return await startTestGateway(config, { media });
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

/** Directions of the audio/video m-lines of an SDP. */
export function directions(sdp: string): string[] {
  const out: string[] = [];
  for (const section of sdp.split(/\r\nm=/).slice(1)) {
    if (!/^(audio|video)/.test(section)) continue;
    out.push(/\r\na=(sendrecv|sendonly|recvonly|inactive)/.exec(section)?.[1] ?? "?");
  }
  return out;
}

/** Joins as publisher and publishes audio+video with `configure` + offer (videoroomtest.js). */
export async function publish(
  wrtc: Wrtc,
  c: VideoRoomClient,
  room: number,
  display: string,
): Promise<{ handle: number; id: number; peer: ClientPeer; joined: JsonObject }> {
  const handle = await c.attach();
  const joined = await c.ask(handle, { request: "join", ptype: "publisher", room, display });
  assert.equal(joined.videoroom, "joined");
  const { peer, offer } = await sendonlyOffer(wrtc, { audio: true, video: true });
  const event = await c.request(handle, { request: "configure", audio: true, video: true }, offer);
  const data = dataOf(event);
  assert.equal(data.configured, "ok", JSON.stringify(data));
  assert.equal(data.audio_codec, "opus");
  assert.equal(data.video_codec, "vp8");
  assert.deepEqual(data.streams, [
    { type: "audio", mindex: 0, mid: "0", codec: "opus", fec: true },
    { type: "video", mindex: 1, mid: "1", codec: "vp8" },
  ]);
  const jsep = jsepOf(event);
  assert.equal(jsep.type, "answer");
  assert.deepEqual(directions(jsep.sdp), ["recvonly", "recvonly"]);
  assert.doesNotMatch(jsep.sdp, /VP9|H264|AV1/, "only the room's codec is answered");
  await peer.answer(jsep.sdp);
  await c.take((e) => e.sender === handle && e.janus === "webrtcup");
  return { handle, id: joined.id as number, peer, joined };
}

/** Joins as subscriber to `feeds`, answers the offer with `start`. */
export async function subscribe(
  wrtc: Wrtc,
  c: VideoRoomClient,
  room: number,
  feeds: number[],
  privateId?: number,
): Promise<{ handle: number; peer: ClientPeer; attached: JsonObject }> {
  const handle = await c.attach();
  const body: JsonObject = {
    request: "join",
    ptype: "subscriber",
    room,
    streams: feeds.map((feed) => ({ feed })),
  };
  if (privateId !== undefined) body.private_id = privateId;
  const event = await c.request(handle, body);
  const attached = dataOf(event);
  assert.equal(attached.videoroom, "attached", JSON.stringify(attached));
  const offer = jsepOf(event);
  assert.equal(offer.type, "offer");
  assert.deepEqual(directions(offer.sdp), feeds.flatMap(() => ["sendonly", "sendonly"]));
  const peer = new ClientPeer(wrtc, {});
  const answer = await answerOf(peer, offer);
  assert.deepEqual(await c.ask(handle, { request: "start", room }, answer), {
    videoroom: "event",
    room,
    started: "ok",
  });
  await c.take((e) => e.sender === handle && e.janus === "webrtcup");
  return { handle, peer, attached };
}
