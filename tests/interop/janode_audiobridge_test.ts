/**
 * janode's AudioBridge module (`janode/plugins/audiobridge`, janode 1.8.0 under Node) drives the
 * gateway over WebSocket: exists, create, list, join (two participants), configure with a
 * node-datachannel Opus offer (answer, webrtcup) and muted, listparticipants, leave and destroy,
 * with the refusals janode turns into errors. What janode resolves and emits must equal what
 * the same script sees against Janus 1.1.2.
 *
 * @module
 */
import assert from "node:assert/strict";
import { assertInsideNetns } from "../_helpers/netns.ts";
import { audioBridgeCounts, startAudioBridgeGateway } from "../plugins/_audiobridge.ts";
import { DATACHANNEL_ENTRY, runJanodeScript } from "./_janode.ts";

const alice = { feed: "alice", display: "Alice" };
const bob = { feed: "bob", display: "Bob" };

/**
 * What `janode_audiobridge_client.mjs` printed against Janus 1.1.2 (its WebSocket on loopback,
 * `node janode_audiobridge_client.mjs ws://127.0.0.1:18188 <entry> any`).
 */
const REFERENCE_SEEN = {
  stockExists: true,
  missingExists: false,
  created: { room: 4322, permanent: false },
  listed: [{ room: 4322, description: "janode", num_participants: 0 }],
  createTwice: "486 Room 4322 already exists",
  joinMissing: "485 No such room (4323)",
  aliceJoin: { room: 4322, feed: "alice", participants: [] },
  bobJoin: { room: 4322, feed: "bob", participants: [{ ...alice, muted: false, setup: false }] },
  aliceSawBob: { room: 4322, ...bob, muted: false, setup: false },
  joinTwice: "491 Already in a room (use changeroom to join another one)",
  answered: { type: "answer", audio: true, opus: true },
  webrtcup: true,
  bobSawSetup: { room: 4322, ...alice, muted: false, setup: true },
  aliceMuted: { feed: "alice", room: 4322, muted: true },
  bobSawMute: { room: 4322, ...alice, muted: true, setup: true },
  participants: [{ ...alice, muted: true, setup: true }, { ...bob, muted: false, setup: false }],
  bobLeft: { room: 4322, feed: "bob" },
  aliceSawLeave: { room: 4322, feed: "bob" },
  leaveTwice: "487 Can't leave (not in a room)",
  destroyed: { room: 4322 },
  aliceSawDestroyed: { room: 4322 },
  destroyMissing: "485 No such room (4322)",
};

Deno.test({
  name: "janode's AudioBridge module (Node) manages a room, joins two participants, sets one up " +
    "with a node-datachannel offer and mutes it, lists, leaves and destroys, seeing what it " +
    "sees against Janus 1.1.2",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    assertInsideNetns();
    await using gw = await startAudioBridgeGateway();
    const seen = await runJanodeScript("janode_audiobridge_client.mjs", [
      gw.wsUrl,
      DATACHANNEL_ENTRY,
    ]);
    assert.deepEqual(seen, REFERENCE_SEEN);
    const c = gw.counts();
    assert.deepEqual([c.sessions, c.handles, c.peers], [0, 0, 0], JSON.stringify(c));
    assert.deepEqual(audioBridgeCounts(gw), { rooms: 1, participants: 0, sessions: 0 });
  },
});
