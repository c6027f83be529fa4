import assert from "node:assert/strict";
import { createCandidateFilter, parseCandidate } from "../../core/media/ice_filter.ts";

const HOST4 = "candidate:1 1 udp 2122260223 127.0.0.1 40000 typ host generation 0";
const HOST6 = "candidate:2 1 udp 2122260223 ::1 40001 typ host generation 0";
const TCP_ACTIVE = "candidate:3 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active";

Deno.test("parseCandidate reads the fields with or without a=", () => {
  assert.deepEqual(parseCandidate(`a=${HOST4}`), {
    foundation: "1",
    component: "1",
    protocol: "udp",
    priority: "2122260223",
    address: "127.0.0.1",
    port: 40000,
    type: "host",
  });
  assert.equal(parseCandidate("nonsense"), undefined);
});

Deno.test("enforce keeps only matching prefixes or interfaces; ignore drops matches", () => {
  const drops: string[] = [];
  const enforce = createCandidateFilter({
    enforce: ["127."],
    onDrop: (_c, why) => drops.push(why),
  });
  assert.equal(enforce(HOST4), HOST4);
  assert.equal(enforce(HOST6), undefined);
  assert.deepEqual(drops, ["not in the enforce list"]);
  const byName = createCandidateFilter({
    enforce: ["lo6"],
    interfaces: new Map([["lo6", ["::1"]]]),
  });
  assert.equal(byName(HOST6), HOST6);
  assert.equal(byName(HOST4), undefined);
  const ignore = createCandidateFilter({ ignore: ["::1"] });
  assert.equal(ignore(HOST6), undefined);
  assert.equal(ignore(HOST4), HOST4);
});

Deno.test("the port range drops and reports host candidates outside it", () => {
  const drops: string[] = [];
  const filter = createCandidateFilter({
    portRange: { min: 40001, max: 40010 },
    tcp: true,
    onDrop: (_c, why) => drops.push(why),
  });
  assert.equal(filter(HOST4), undefined);
  assert.equal(filter(HOST6), HOST6);
  assert.equal(filter(TCP_ACTIVE), TCP_ACTIVE, "port 9 of active TCP is not a bound port");
  assert.deepEqual(drops, ["port outside 40001-40010"]);
});

Deno.test("nat1to1 rewrites host addresses of the same family only", () => {
  const filter = createCandidateFilter({ nat1to1: "192.0.2.1" });
  assert.equal(filter(HOST4), HOST4.replace("127.0.0.1", "192.0.2.1"));
  assert.equal(filter(HOST6), HOST6);
});

Deno.test("TCP candidates are dropped unless tcp (ice_tcp) is on", () => {
  const drops: string[] = [];
  const filter = createCandidateFilter({ onDrop: (_c, why) => drops.push(why) });
  assert.equal(filter(TCP_ACTIVE), undefined);
  assert.equal(filter(HOST4), HOST4);
  assert.deepEqual(drops, ["TCP (ice_tcp off)"]);
  assert.equal(createCandidateFilter({ tcp: true })(TCP_ACTIVE), TCP_ACTIVE);
});
