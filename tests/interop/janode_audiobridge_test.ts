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

/** Where `deno task test` installs janode for Node (before entering the network namespace). */
const JANODE_DIR = new URL("../../node_modules/.janode-1.8.0", import.meta.url).pathname;
/** node-datachannel as Deno installed it (deno.json's version); Node loads its ESM entry. */
const DATACHANNEL_ENTRY = new URL(
  "../../node_modules/.deno/node-datachannel@0.33.4/node_modules/node-datachannel/dist/esm/lib/index.mjs",
  import.meta.url,
).pathname;

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
  name: "janode's AudioBridge module (Node) manages a room, joins two participants, sets one up " +
    "with a node-datachannel offer and mutes it, lists, leaves and destroys, seeing what it " +
    "sees against Janus 1.1.2",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    assertInsideNetns();
    const dir = await janodeFolder();
    const script = `${dir}/janode_audiobridge_client.mjs`;
    await Deno.copyFile(new URL("./janode_audiobridge_client.mjs", import.meta.url), script);
    await using gw = await startAudioBridgeGateway();
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
    assert.deepEqual(audioBridgeCounts(gw), { rooms: 1, participants: 0, sessions: 0 });
  },
});
