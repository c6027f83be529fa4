// Runs under Node with janode's TextRoom module (janode/plugins/textroom) against the gateway
// given in argv: node janode_textroom_client.mjs WS_URL NODE_DATACHANNEL_ESM_ENTRY [BIND]
// (BIND: the address ICE binds to, 127.0.0.1 unless "any").
// janode carries only the Janus API (setup, ack, restart and the room management requests);
// the chat itself (join, message) travels on the data channel, answered here with
// node-datachannel. Prints one JSON line of what it saw.
import { pathToFileURL } from "node:url";
import Janode from "janode";
import TextRoomPlugin from "janode/plugins/textroom";
import { withTimeout } from "./_janode_util.mjs";

const [url, datachannelEntry, bind = "127.0.0.1"] = process.argv.slice(2);
const bindAddress = bind === "any" ? {} : { bindAddress: bind };
const { PeerConnection, cleanup } = await import(pathToFileURL(datachannelEntry).href);

const ROOM = 4321;
const SECRET = "janode-secret";
const seen = {};
let txnSeq = 0;

/** Promise.withResolvers (Node 22+) for Node 20. */
function deferred() {
  let resolve;
  const promise = new Promise((r) => resolve = r);
  return { promise, resolve };
}

/** A chat user: a janode TextRoom handle and the node-datachannel peer answering its offer. */
async function user(session, name) {
  const handle = await session.attach(TextRoomPlugin);
  const { jsep } = await handle.setup();
  const pc = new PeerConnection(`janode-${name}`, { iceServers: [], ...bindAddress });
  const received = [];
  const waiters = [];
  const channels = [];
  const opened = deferred();
  const onChannel = (channel) => {
    channels.push(channel);
    channel.onOpen(() => opened.resolve());
    channel.onMessage((text) => {
      const msg = JSON.parse(String(text));
      received.push(msg);
      for (const w of waiters.splice(0)) {
        if (w.match(msg)) w.resolve(msg);
        else waiters.push(w);
      }
    });
  };
  pc.onDataChannel(onChannel);
  // The gateway's candidates go in after `ack` (a libjuice agent checking before the gateway
  // has our answer sometimes fails), as the gateway's own TextRoom test clients do.
  const mid = /^a=mid:(\S+)/m.exec(jsep.sdp)?.[1] ?? "0";
  const candidates = jsep.sdp.split("\r\n").filter((l) => l.startsWith("a=candidate:"));
  const gathered = deferred();
  pc.onGatheringStateChange((state) => {
    if (state === "complete") gathered.resolve();
  });
  pc.setRemoteDescription(
    jsep.sdp.split("\r\n").filter((l) => !/^a=(candidate:|end-of-candidates)/.test(l))
      .join("\r\n"),
    "offer",
  );
  onChannel(pc.createDataChannel("JanusDataChannel"));
  await withTimeout(gathered.promise, 5000, `${name} gathering`);
  const acked = await handle.ack({ type: "answer", sdp: pc.localDescription().sdp });
  for (const c of candidates) pc.addRemoteCandidate(c.slice(2), mid);
  await withTimeout(opened.promise, 10000, `${name}'s data channel`);
  const wait = (match, what) => {
    const found = received.find(match);
    if (found) return Promise.resolve(found);
    const w = deferred();
    waiters.push({ match, resolve: w.resolve });
    return withTimeout(w.promise, 5000, `${name}: ${what}`);
  };
  return {
    handle,
    acked,
    received,
    wait,
    /** Sends a data-channel request and resolves with the reply to its transaction. */
    request(body) {
      const transaction = `${name}-${++txnSeq}`;
      const reply = wait((m) => m.transaction === transaction, `reply to ${body.textroom}`);
      channels.find((c) => c.isOpen()).sendMessage(JSON.stringify({ ...body, transaction }));
      return reply;
    },
    close() {
      for (const c of channels) c.close();
      pc.close();
    },
  };
}

const connection = await Janode.connect({ is_admin: false, address: { url } });
const session = await connection.create();
const admin = await session.attach(TextRoomPlugin);

// Management over the Janus API, through janode's TextRoom methods (a room left by an earlier
// failed run against a long-lived server goes first).
await admin.message({ request: "destroy", room: ROOM, secret: SECRET }).catch(() => {});
seen.stockExists = (await admin.exists({ room: 1234 })).exists;
seen.missingExists = (await admin.exists({ room: ROOM })).exists;
const created = await admin.create({ room: ROOM, description: "janode", secret: SECRET });
seen.created = { room: created.room, permanent: created.permanent };
seen.listed = (await admin.list({})).list.map((r) => r.room).sort((a, b) => a - b);
seen.createTwice = await admin.create({ room: ROOM }).then(() => "ok", (e) => e.message);

// The chat over data channels.
const alice = await user(session, "alice");
const bob = await user(session, "bob");
seen.ack = alice.acked;
const aliceJoin = await alice.request({
  textroom: "join",
  room: ROOM,
  username: "alice",
  display: "Alice",
});
seen.aliceJoin = { textroom: aliceJoin.textroom, participants: aliceJoin.participants };
const bobJoin = await bob.request({
  textroom: "join",
  room: ROOM,
  username: "bob",
  display: "Bob",
});
seen.bobJoin = { textroom: bobJoin.textroom, participants: bobJoin.participants };
const joined = await alice.wait((m) => m.textroom === "join" && m.username === "bob", "bob join");
seen.aliceSawBobJoin = { username: joined.username, display: joined.display };

// Janus 1.1.2 answers listparticipants with no "textroom" field, which janode's module does not
// recognise ("unexpected response"): the generic message() gets the list.
seen.listParticipantsMethod = await admin.listParticipants({ room: ROOM })
  .then(() => "ok", (e) => e.message);
const participants = async () =>
  (await admin.message({ request: "listparticipants", room: ROOM })).plugindata.data.participants
    .map((p) => p.username).sort();
seen.participants = await participants();

const publicReply = await alice.request({ textroom: "message", room: ROOM, text: "hi all" });
seen.publicReply = publicReply.textroom;
const pub = await bob.wait((m) => m.textroom === "message" && m.text === "hi all", "public");
seen.bobGotPublic = { from: pub.from, whisper: pub.whisper };

await bob.request({ textroom: "message", room: ROOM, to: "alice", text: "psst" });
const whisper = await alice.wait((m) => m.textroom === "message" && m.text === "psst", "whisper");
seen.aliceGotWhisper = { from: whisper.from, whisper: whisper.whisper };

seen.announcement = await admin.announcement({ room: ROOM, text: "notice", secret: SECRET });
for (const [name, u] of [["alice", alice], ["bob", bob]]) {
  const a = await u.wait((m) => m.textroom === "announcement", `${name} announcement`);
  seen[`${name}GotAnnouncement`] = a.text;
}
seen.badSecret = await admin.announcement({ room: ROOM, text: "x", secret: "wrong" })
  .then(() => "ok", (e) => e.message);

seen.kick = await admin.kick({ room: ROOM, username: "bob", secret: SECRET })
  .then((k) => ({ room: k.room, username: k.username }), (e) => e.message);
const kickSeen = await alice.wait((m) => m.textroom === "kicked", "kicked");
seen.aliceSawKick = kickSeen.username;
seen.afterKick = await participants();

const destroyed = await admin.destroy({ room: ROOM, secret: SECRET });
seen.destroyed = { room: destroyed.room, permanent: destroyed.permanent };
const gone = await alice.wait((m) => m.textroom === "destroyed", "destroyed");
seen.aliceSawDestroyed = gone.room;
seen.destroyMissing = await admin.destroy({ room: ROOM, secret: SECRET })
  .then(() => "ok", (e) => e.message);

for (const u of [alice, bob]) {
  u.close();
  await u.handle.detach();
}
await admin.detach();
await session.destroy();
await connection.close();
cleanup();
process.stdout.write(JSON.stringify(seen) + "\n");
process.exit(0);
