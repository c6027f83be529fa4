/**
 * janode's TextRoom module (`janode/plugins/textroom`, janode 1.8.0 under Node) drives the
 * gateway over WebSocket: room management through its methods (exists, create, list,
 * announcement, kick, destroy), setup/ack answered by a node-datachannel peer in the Node
 * process, and the chat (join, public message, whisper) on that data channel. What it sees must
 * equal what the same script sees against Janus 1.1.2, including where janode's module does not
 * understand Janus's replies (errors, listparticipants, kick: "unexpected response").
 *
 * @module
 */
import assert from "node:assert/strict";
import { assertInsideNetns } from "../_helpers/netns.ts";
import { startTextRoomGateway } from "../plugins/_textroom_peers.ts";
import { DATACHANNEL_ENTRY, runJanodeScript } from "./_janode.ts";

/**
 * What `janode_textroom_client.mjs` printed against Janus 1.1.2 (its WebSocket on loopback,
 * `node janode_textroom_client.mjs ws://127.0.0.1:18188 <entry> any`).
 */
const REFERENCE_SEEN = {
  stockExists: true,
  missingExists: false,
  created: { room: 4321, permanent: false },
  listed: [1234, 4321],
  createTwice: "unexpected response to create request",
  ack: {},
  aliceJoin: { textroom: "success", participants: [] },
  bobJoin: { textroom: "success", participants: [{ username: "alice", display: "Alice" }] },
  aliceSawBobJoin: { username: "bob", display: "Bob" },
  listParticipantsMethod: "unexpected response to listparticipants request",
  participants: ["alice", "bob"],
  publicReply: "success",
  bobGotPublic: { from: "alice" },
  aliceGotWhisper: { from: "bob", whisper: true },
  announcement: {},
  aliceGotAnnouncement: "notice",
  bobGotAnnouncement: "notice",
  badSecret: "unexpected response to announcement request",
  kick: "unexpected response to kick request",
  aliceSawKick: "bob",
  afterKick: ["alice"],
  destroyed: { room: 4321, permanent: false },
  aliceSawDestroyed: 4321,
  destroyMissing: "unexpected response to destroy request",
};

Deno.test({
  name: "janode's TextRoom module (Node) manages a room, sets up a data channel answered by " +
    "node-datachannel and chats over it, seeing what it sees against Janus 1.1.2",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    assertInsideNetns();
    await using gw = await startTextRoomGateway();
    const seen = await runJanodeScript("janode_textroom_client.mjs", [gw.wsUrl, DATACHANNEL_ENTRY]);
    assert.deepEqual(seen, REFERENCE_SEEN);
    const c = gw.counts();
    assert.deepEqual([c.sessions, c.handles, c.peers], [0, 0, 0], JSON.stringify(c));
    assert.deepEqual(gw.textroom(), { rooms: 1, participants: 0, sessions: 0, posts: 0 });
  },
});
