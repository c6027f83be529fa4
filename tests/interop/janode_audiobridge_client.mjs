// Runs under Node with janode's AudioBridge module (janode/plugins/audiobridge) against the
// gateway given in argv: node janode_audiobridge_client.mjs WS_URL NODE_DATACHANNEL_ESM_ENTRY [BIND]
// (BIND: the address ICE binds to, 127.0.0.1 unless "any").
// Room management, join, configure (with a node-datachannel offer, then muted),
// listparticipants, leave and destroy go through janode's methods; what janode resolves and
// emits is printed as one JSON line (random feed ids as "alice"/"bob").
import { pathToFileURL } from "node:url";
import Janode from "janode";
import AudioBridgePlugin from "janode/plugins/audiobridge";
import { withTimeout } from "./_janode_util.mjs";

const [url, datachannelEntry, bind = "127.0.0.1"] = process.argv.slice(2);
const bindAddress = bind === "any" ? {} : { bindAddress: bind };
const { PeerConnection, Audio, cleanup } = await import(pathToFileURL(datachannelEntry).href);

const ROOM = 4322;
const SECRET = "janode-secret";
const EV = AudioBridgePlugin.EVENT;
const seen = {};
const feeds = new Map();
/** A feed id as the name of who has it (ids are random). */
const who = (feed) => feeds.get(feed) ?? `unknown ${typeof feed}`;

/** The next `event` janode emits on `handle`. */
function next(handle, event, what) {
  return withTimeout(new Promise((resolve) => handle.once(event, resolve)), 8000, what);
}

/** A participant's janode data with its feed named and jsep left out. */
function named(data) {
  const { jsep: _jsep, ...rest } = data;
  if (rest.feed !== undefined) rest.feed = who(rest.feed);
  if (rest.participants) rest.participants = rest.participants.map(named);
  return rest;
}

/** A sendrecv Opus offer from node-datachannel, with its candidates gathered. */
async function offerer(name) {
  const pc = new PeerConnection(`janode-${name}`, { iceServers: [], ...bindAddress });
  const gathered = new Promise((resolve) => {
    pc.onGatheringStateChange((state) => state === "complete" && resolve());
  });
  const audio = new Audio("0", "SendRecv");
  audio.addOpusCodec(111);
  audio.addSSRC(0x1234 + name.length, name);
  pc.addTrack(audio);
  pc.setLocalDescription();
  await withTimeout(gathered, 5000, `${name} gathering`);
  return { pc, offer: { type: "offer", sdp: pc.localDescription().sdp } };
}

const connection = await Janode.connect({ is_admin: false, address: { url } });
const session = await connection.create();
const admin = await session.attach(AudioBridgePlugin);

// A room left by an earlier failed run against a long-lived server goes first.
await admin.destroy({ room: ROOM, secret: SECRET }).catch(() => {});
seen.stockExists = (await admin.exists({ room: 1234 })).exists;
seen.missingExists = (await admin.exists({ room: ROOM })).exists;
seen.created = await admin.create({ room: ROOM, description: "janode", secret: SECRET });
seen.listed = (await admin.list()).list.filter((r) => r.room === ROOM)
  .map(({ room, description, num_participants }) => ({ room, description, num_participants }));
seen.createTwice = await admin.create({ room: ROOM }).then(() => "ok", (e) => e.message);
seen.joinMissing = await admin.join({ room: ROOM + 1 }).then(() => "ok", (e) => e.message);

const alice = await session.attach(AudioBridgePlugin);
const bob = await session.attach(AudioBridgePlugin);
const aliceJoin = await alice.join({ room: ROOM, display: "Alice" });
feeds.set(aliceJoin.feed, "alice");
seen.aliceJoin = named(aliceJoin);
const bobSeen = next(alice, EV.AUDIOBRIDGE_PEER_JOINED, "bob joining");
const bobJoin = await bob.join({ room: ROOM, display: "Bob" });
feeds.set(bobJoin.feed, "bob");
seen.bobJoin = named(bobJoin);
seen.aliceSawBob = named(await bobSeen);
seen.joinTwice = await alice.join({ room: ROOM }).then(() => "ok", (e) => e.message);

// Alice's offer goes with a configure, as janode's AudioBridge example does after joining.
const { pc, offer } = await offerer("alice");
const up = next(alice, Janode.EVENT.HANDLE_WEBRTCUP, "alice's webrtcup");
const bobSawSetup = next(bob, EV.AUDIOBRIDGE_PEER_CONFIGURED, "alice set up");
const configured = await alice.configure({ jsep: offer });
seen.answered = {
  type: configured.jsep?.type,
  audio: /^m=audio [1-9]/m.test(configured.jsep?.sdp ?? ""),
  opus: /^a=rtpmap:\d+ opus\/48000\/2/m.test(configured.jsep?.sdp ?? ""),
};
pc.setRemoteDescription(configured.jsep.sdp, "answer");
await up;
seen.webrtcup = true;
seen.bobSawSetup = named(await bobSawSetup);

const bobSawMute = next(bob, EV.AUDIOBRIDGE_PEER_CONFIGURED, "alice muted");
seen.aliceMuted = named(await alice.configure({ muted: true }));
seen.bobSawMute = named(await bobSawMute);
seen.participants = (await admin.listParticipants({ room: ROOM })).participants.map(named)
  .sort((a, b) => a.feed.localeCompare(b.feed));

const aliceSawLeave = next(alice, EV.AUDIOBRIDGE_PEER_LEAVING, "bob leaving");
seen.bobLeft = named(await bob.leave());
seen.aliceSawLeave = named(await aliceSawLeave);
seen.leaveTwice = await bob.leave().then(() => "ok", (e) => e.message);

const aliceSawDestroyed = next(alice, EV.AUDIOBRIDGE_DESTROYED, "destroyed");
seen.destroyed = await admin.destroy({ room: ROOM, secret: SECRET });
seen.aliceSawDestroyed = await aliceSawDestroyed;
seen.destroyMissing = await admin.destroy({ room: ROOM, secret: SECRET })
  .then(() => "ok", (e) => e.message);

pc.close();
for (const h of [alice, bob, admin]) await h.detach();
await session.destroy();
await connection.close();
cleanup();
process.stdout.write(JSON.stringify(seen) + "\n");
process.exit(0);
