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

/** Where `deno task test` installs janode for Node (before entering the network namespace). */
const JANODE_DIR = new URL("../../node_modules/.janode-1.8.0", import.meta.url).pathname;
/** node-datachannel as Deno installed it (deno.json's version); Node loads its ESM entry. */
const DATACHANNEL_ENTRY = new URL(
  "../../node_modules/.deno/node-datachannel@0.33.4/node_modules/node-datachannel/dist/esm/lib/index.mjs",
  import.meta.url,
).pathname;

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

async function janodeFolder(): Promise<string> {
  try {
    await Deno.stat(`${JANODE_DIR}/node_modules/janode/package.json`);
    return JANODE_DIR;
  } catch {
    throw new Error(
      "janode is not installed: run the suite through `deno task test`, which installs it with npm",
    );
  }
}

Deno.test({
  name: "janode's TextRoom module (Node) manages a room, sets up a data channel answered by " +
    "node-datachannel and chats over it, seeing what it sees against Janus 1.1.2",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    assertInsideNetns();
    const dir = await janodeFolder();
    const script = `${dir}/janode_textroom_client.mjs`;
    await Deno.copyFile(new URL("./janode_textroom_client.mjs", import.meta.url), script);
    await using gw = await startTextRoomGateway();
    const out = await new Deno.Command("node", {
      args: [script, gw.wsUrl, DATACHANNEL_ENTRY],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    const stderr = new TextDecoder().decode(out.stderr);
    assert.ok(out.success, `janode failed:\n${stdout.slice(-4000)}\n${stderr.slice(-4000)}`);
    const seen = JSON.parse(stdout.trim().split("\n").pop() ?? "{}");
    assert.deepEqual(seen, REFERENCE_SEEN);
    const c = gw.counts();
    assert.deepEqual([c.sessions, c.handles, c.peers], [0, 0, 0], JSON.stringify(c));
    assert.deepEqual(gw.textroom(), { rooms: 1, participants: 0, sessions: 0, posts: 0 });
  },
});
