/**
 * The API's JSON Schema (issue 14 item 4) against behaviour, with a real validator (ajv, draft
 * 2020-12): every reply, event and request the reference produced for `scenario.ts`
 * (`fixtures/`, captured once by `capture_reference.ts`) validates, the requests it refused for
 * their shape do not, and the same scenario played on this gateway (real wrtc peers) produces
 * messages, requests and event-handler events that validate too. Also: the committed
 * `docs/api.schema.json` is what `deno task schema` writes, and `GET /janus/schema` serves it.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Ajv2020 } from "ajv/dist/2020.js";
import { parseConfig } from "../../core/config.ts";
import { startMediaEngine } from "../../core/media/start.ts";
import type { JsonObject } from "../../core/protocol.ts";
import { API_DEFS, apiSchemaDocument } from "../../core/schema/document.ts";
import { apiSchemaText, SCHEMA_FILE } from "../../core/schema/write.ts";
import { PLUGIN_API_SCHEMAS } from "../../plugins/schemas.ts";
import { startTestGateway, testConfig } from "../_helpers/gateway.ts";
import { wrtcTest } from "../media/_client.ts";
import { type Group, GROUPS, type Recorded, runScenario } from "./scenario.ts";

const FIXTURES = new URL("./fixtures/", import.meta.url);
const PLUGIN_OF: Partial<Record<Group, string>> = {
  echotest: "janus.plugin.echotest",
  videoroom: "janus.plugin.videoroom",
  videocall: "janus.plugin.videocall",
  textroom: "janus.plugin.textroom",
  streaming: "janus.plugin.streaming",
  recordplay: "janus.plugin.recordplay",
  audiobridge: "janus.plugin.audiobridge",
};

/** Requests of the scenario the reference refused for their shape (the schema must too). */
const INVALID_REQUESTS = new Set([
  "error_unknown_root",
  "error_no_transaction",
  "error_unknown_request",
  "error_missing_body",
  "echo_error_reply",
  "vc_error_missing_username_reply",
  "vc_error_unknown_reply",
  "tr_error_no_room_reply",
  "rp_error_missing_name_reply",
  "ab_error_missing_room_reply",
  "ab_error_unknown_reply",
]);

type Validate = ((value: unknown) => boolean) & { errors?: unknown };

function validators(doc: JsonObject): (def: string) => Validate {
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false });
  ajv.addSchema(doc);
  return (def) => {
    const v = ajv.getSchema(`${doc.$id}#/$defs/${def}`);
    assert.ok(v, `no definition ${def}`);
    return v as Validate;
  };
}

/** Problems of one recording (empty when every message and request is as the schema says). */
function check(recorded: readonly Recorded[], def: (name: string) => Validate): string[] {
  const problems: string[] = [];
  const validate = (what: string, name: string, value: unknown, ok = true) => {
    const v = def(name);
    if (v(value) !== ok) {
      problems.push(`${what}: ${ok ? JSON.stringify(v.errors).slice(0, 400) : "validates"}`);
    }
  };
  for (const r of recorded) {
    const admin = r.group === "admin";
    validate(`${r.name} message`, admin ? "AdminMessage" : "CoreMessage", r.message);
    if (!r.request) continue;
    const valid = !INVALID_REQUESTS.has(r.name);
    const plugin = PLUGIN_OF[r.group];
    if (plugin && r.request.janus === "message" && r.request.body !== undefined) {
      validate(`${r.name} request`, "CoreRequest", r.request);
      validate(`${r.name} body`, `${plugin}.request`, r.request.body, valid);
    } else {
      validate(`${r.name} request`, admin ? "AdminRequest" : "CoreRequest", r.request, valid);
    }
  }
  return problems;
}

async function fixtures(): Promise<Recorded[]> {
  const out: Recorded[] = [];
  for (const group of GROUPS) {
    const list = JSON.parse(await Deno.readTextFile(new URL(`${group}.json`, FIXTURES)));
    for (const r of list as Omit<Recorded, "group">[]) out.push({ group, ...r });
  }
  return out;
}

Deno.test("schema: the reference's replies, events and requests validate; its refusals do not", async () => {
  const def = validators(apiSchemaDocument(PLUGIN_API_SCHEMAS));
  const recorded = await fixtures();
  assert.ok(recorded.length > 50, "fixtures are there");
  assert.deepEqual(check(recorded, def), []);
  const events = JSON.parse(await Deno.readTextFile(new URL("events.json", FIXTURES)));
  const event = def("HandlerEvent");
  const bad = (events as JsonObject[]).filter((e) => !event(e));
  assert.deepEqual(bad, [], JSON.stringify(event.errors));
  // The schema can fail: a message with a wrong type, an event missing its ids.
  assert.equal(def("CoreMessage")({ janus: "webrtcup", session_id: 1 }), false);
  assert.equal(def("HandlerEvent")({ emitter: "x", type: 2, timestamp: 1, event: {} }), false);
  const echo = recorded.find((r) => r.name === "echo_event");
  assert.ok(echo);
  const wrong = structuredClone(echo.message);
  ((wrong.plugindata as JsonObject).data as JsonObject).result = "maybe";
  assert.equal(def("CoreMessage")(wrong), false, "plugin data is checked by the plugin's schema");
});

Deno.test("schema: docs/api.schema.json is current and GET /janus/schema serves it", async () => {
  const text = apiSchemaText();
  assert.equal(await Deno.readTextFile(SCHEMA_FILE), text, "run `deno task schema`");
  const doc = JSON.parse(text) as JsonObject;
  const defs = Object.keys(doc.$defs as JsonObject);
  for (const name of API_DEFS) assert.ok(defs.includes(name), name);
  for (const p of PLUGIN_API_SCHEMAS) {
    assert.ok(defs.includes(`${p.plugin}.request`) && defs.includes(`${p.plugin}.data`));
  }
  await using gw = await startTestGateway();
  const res = await fetch(`${gw.httpUrl}/schema`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), doc);
});

wrtcTest(
  "schema: this gateway's replies, requests and events for the same run validate",
  async (wrtc) => {
    const events: JsonObject[] = [];
    const receiver = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      async (r) => {
        events.push(...(await r.json() as JsonObject[]));
        return new Response("ok");
      },
    );
    const config = testConfig({
      general: { session_timeout: 3 },
      media: { workers: 1 },
      events: {
        enabled: true,
        handlers: [{ kind: "http", backend: `http://127.0.0.1:${receiver.addr.port}/` }],
      },
    });
    const media = await startMediaEngine(parseConfig(config));
    assert.ok(media);
    const gw = await startTestGateway(config, { media });
    let ours: Recorded[];
    try {
      ours = await runScenario({
        httpUrl: gw.httpUrl,
        wsUrl: gw.wsUrl,
        adminUrl: gw.adminUrl,
        adminWsUrl: gw.adminWsUrl,
        adminSecret: "janusoverlord",
        eventHandler: "janus.eventhandler.sampleevh",
        sessionTimeout: 3,
      }, wrtc);
    } finally {
      await gw.stop();
      await receiver.shutdown();
    }
    const def = validators(JSON.parse(apiSchemaText()));
    assert.deepEqual(check(ours, def), []);
    // The same steps as the reference's run, message for message (fixtures are kept by group).
    const names = (list: readonly Recorded[]) => list.map((r) => `${r.group}/${r.name}`).sort();
    assert.deepEqual(names(ours), names(await fixtures()));
    const event = def("HandlerEvent");
    assert.ok(events.length > 50);
    const bad = events.filter((e) => !event(e));
    assert.deepEqual(bad, [], JSON.stringify(event.errors));
  },
);
