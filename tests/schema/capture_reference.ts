/**
 * Captures the reference's replies and events once, as the fixtures `schema_test.ts` validates
 * the generated JSON Schema with: `deno run -A tests/schema/capture_reference.ts`. It starts a
 * private reference Janus (`../shared/ref-janus/start.sh`, then restarted with the sample event
 * handler posting to a receiver here) inside a private network namespace, plays `scenario.ts`
 * on it and writes `fixtures/<group>.json` (the recorded messages of each group) and
 * `fixtures/events.json` (what the event handler posted: every event of the run, in order).
 *
 * @module
 */
import { START_SCRIPT } from "../../bench/reference.ts";
import { loadWrtc } from "../../core/media/wrtc.ts";
import type { JsonObject } from "../../core/protocol.ts";
import { insideNetns, runInNetns } from "../_helpers/netns.ts";
import { GROUPS, type Recorded, runScenario } from "./scenario.ts";

const FIXTURES = new URL("./fixtures/", import.meta.url);
const SESSION_TIMEOUT = 3;

function print(line: string): void {
  // deno-lint-ignore no-console
  console.log(line);
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

async function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  const out = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) throw new Error(`${cmd} failed: ${new TextDecoder().decode(out.stderr)}`);
  return text;
}

/** A reference started with start.sh, then restarted with the sample event handler on. */
async function startReference(backend: string) {
  const ports = { http: freePort(), ws: freePort(), adminHttp: freePort(), adminWs: freePort() };
  const env = {
    REF_HTTP: String(ports.http),
    REF_WS: String(ports.ws),
    REF_ADMIN_HTTP: String(ports.adminHttp),
    REF_ADMIN_WS: String(ports.adminWs),
    REF_SESSION_TIMEOUT: String(SESSION_TIMEOUT),
  };
  const dir = (await run("bash", [START_SCRIPT], env)).trim().split("\n").pop() ?? "";
  await run("kill", [(await Deno.readTextFile(`${dir}/pid`)).trim()]);
  await new Promise((r) => setTimeout(r, 1000));
  const etc = `${dir}/etc`;
  const evh = (await Deno.readTextFile("/etc/janus/janus.eventhandler.sampleevh.jcfg"))
    .replace("enabled = false", "enabled = true")
    .replace(/backend = "[^"]*"/, `backend = "${backend}"`)
    .replace('json = "indented"', 'json = "compact"');
  await Deno.writeTextFile(`${etc}/janus.eventhandler.sampleevh.jcfg`, evh);
  const jcfg = await Deno.readTextFile(`${etc}/janus.jcfg`);
  await Deno.writeTextFile(
    `${etc}/janus.jcfg`,
    jcfg.replace("#broadcast = true", "broadcast = true"),
  );
  const child = new Deno.Command("janus", {
    args: ["-F", etc, "-C", `${etc}/janus.jcfg`, "-d", "3"],
    stdout: "null",
    stderr: "null",
  }).spawn();
  for (let i = 0; i < 50; i++) {
    const ok = await fetch(`http://127.0.0.1:${ports.http}/janus/info`).then(
      async (r) => (await r.body?.cancel(), r.ok),
      () => false,
    );
    if (ok) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    ports,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
      await Deno.remove(dir, { recursive: true });
    },
  };
}

async function main(): Promise<void> {
  const events: JsonObject[] = [];
  const receiver = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (r) => {
    const body = await r.json() as JsonObject | JsonObject[];
    events.push(...(Array.isArray(body) ? body : [body]));
    return new Response("ok");
  });
  const ref = await startReference(`http://127.0.0.1:${receiver.addr.port}/events`);
  let recorded: Recorded[] = [];
  try {
    recorded = await runScenario({
      httpUrl: `http://127.0.0.1:${ref.ports.http}/janus`,
      wsUrl: `ws://127.0.0.1:${ref.ports.ws}`,
      adminUrl: `http://127.0.0.1:${ref.ports.adminHttp}/admin`,
      adminWsUrl: `ws://127.0.0.1:${ref.ports.adminWs}`,
      adminSecret: "janusoverlord",
      eventHandler: "janus.eventhandler.sampleevh",
      sessionTimeout: SESSION_TIMEOUT,
    }, await loadWrtc());
    await new Promise((r) => setTimeout(r, 1500));
  } finally {
    await ref.stop();
    await receiver.shutdown();
  }
  await Deno.mkdir(FIXTURES, { recursive: true });
  for (const group of GROUPS) {
    const list = recorded.filter((r) => r.group === group).map(({ group: _, ...r }) => r);
    await Deno.writeTextFile(
      new URL(`${group}.json`, FIXTURES),
      JSON.stringify(list, null, 2) + "\n",
    );
    print(`${group}: ${list.length} messages`);
  }
  await Deno.writeTextFile(
    new URL("events.json", FIXTURES),
    JSON.stringify(events, null, 2) + "\n",
  );
  print(`events: ${events.length}`);
}

if (import.meta.main) {
  if (!insideNetns()) {
    Deno.exit(
      await runInNetns([Deno.execPath(), "run", "--allow-all", import.meta.filename ?? ""]),
    );
  }
  let code = 0;
  try {
    await main();
  } catch (e) {
    print(`capture failed: ${(e as Error).stack ?? e}`);
    code = 1;
  }
  // wrtc needs an explicit exit (design.md).
  Deno.exit(code);
}
