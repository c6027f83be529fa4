// Runs under Node with janode (Meetecho's client) against the gateway given in argv:
// node janode_client.mjs WS_URL ADMIN_WS_URL. Prints one JSON line of what it saw.
import Janode from "janode";
import EchoTestPlugin from "janode/plugins/echotest";

const [url, adminUrl] = process.argv.slice(2);
const seen = {};
const connection = await Janode.connect({ is_admin: false, address: { url } });
const info = await connection.getInfo();
seen.name = info.name;
seen.echotest = Boolean(info.plugins["janus.plugin.echotest"]);
const session = await connection.create();
seen.session = typeof session.id === "number";
const handle = await session.attach(EchoTestPlugin);
seen.handle = typeof handle.id === "number";
// janode's start() needs an offer (it reads jsep.type of null); message() sends a plain body.
const response = await handle.message({ audio: true, video: true });
seen.start = response.plugindata?.data ?? response;
const hungUp = new Promise((resolve) => {
  handle.once(EchoTestPlugin.EVENT.ECHOTEST_RESULT, (data) => resolve(data));
});
await handle.hangup();
seen.hangupResult = await hungUp;
const admin = await Janode.connect({
  is_admin: true,
  address: { url: adminUrl, apisecret: "janusoverlord" },
});
const listed = await admin.listSessions();
seen.adminListed = listed.sessions.includes(session.id);
await admin.close();
await handle.detach();
await session.destroy();
await connection.close();
process.stdout.write(JSON.stringify(seen) + "\n");
process.exit(0);
