/**
 * Setup steps the media engine tests share: connecting a client peer to an engine peer
 * (directly or through a {@link LossyRelay}), closing an engine with its clients, and
 * checking worker processes.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { MediaEngine, Peer } from "../../core/media/types.ts";
import { type ClientPeer, waitUntil } from "./_client.ts";
import {
  hostCandidate,
  loopbackUdpPort,
  type LossyRelay,
  withOnlyCandidate,
} from "./_lossy_relay.ts";

/** A pause. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Whether process `pid` still exists (a reaped worker does not). */
export function processExists(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

/** Connects `client` to `peer` (offer from the client, trickle both ways). */
export async function connectPeer(
  client: ClientPeer,
  peer: Peer,
  connected: () => boolean,
): Promise<void> {
  client.trickleTo((c) => peer.addRemoteCandidate(c));
  await client.answer(await peer.acceptOffer(await client.offer()));
  await waitUntil("connected", connected);
}

/**
 * Connects `client` to `peer` through `relay`: each side is told only the relay's socket
 * facing it. Does not wait for the connection.
 */
export async function connectThroughRelay(
  client: ClientPeer,
  peer: Peer,
  relay: LossyRelay,
): Promise<void> {
  let clientPort: number | undefined;
  client.pc.addEventListener("icecandidate", ({ candidate }) => {
    if (candidate) clientPort ??= loopbackUdpPort(candidate.candidate);
  });
  const answer = await peer.acceptOffer(await client.offer());
  const serverPort = loopbackUdpPort(answer);
  assert.ok(serverPort !== undefined, "a UDP 127.0.0.1 candidate in the answer");
  await waitUntil("the client's UDP 127.0.0.1 candidate", () => clientPort !== undefined);
  relay.connect(clientPort ?? 0, serverPort);
  await client.answer(withOnlyCandidate(answer, relay.clientFacingPort));
  const candidate = hostCandidate(relay.serverFacingPort);
  await peer.addRemoteCandidate({ candidate, sdpMid: "0", sdpMLineIndex: 0 });
}

/** Closes the clients and the engine, and checks that no peer or worker is left. */
export async function closeAll(engine: MediaEngine, clients: ClientPeer[]): Promise<void> {
  for (const c of clients) c.close();
  await engine.close();
  assert.deepEqual(engine.counts(), { peers: 0, workers: 0 });
}

/** Raises the slow-link threshold over any real loss, and checks that the reports stop. */
export async function assertSlowLinkStops(
  engine: MediaEngine,
  slow: readonly unknown[],
): Promise<void> {
  await engine.updateSettings?.({ slowLinkThreshold: 1000 });
  await sleep(1200); // a report of the second in progress may still come
  const count = slow.length;
  await sleep(2500);
  assert.equal(slow.length, count, "no report over the threshold");
}
