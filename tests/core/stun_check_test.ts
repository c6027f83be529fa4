import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { bindingRequest, mappedAddress, testStunServer } from "../../core/stun_check.ts";
import { bindingSuccess, startStunServer } from "../_helpers/stun_server.ts";
import { freeUdpPort } from "../_helpers/udp_port.ts";

Deno.test("stun check: XOR-MAPPED-ADDRESS of the answer to this request, MAPPED-ADDRESS else", () => {
  const request = bindingRequest();
  assert.equal(request.byteLength, 20);
  assert.deepEqual([...request.subarray(0, 8)], [0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42]);
  assert.deepEqual(mappedAddress(bindingSuccess(request, "192.0.2.1", 32853), request), {
    ip: "192.0.2.1",
    port: 32853,
  });
  // Another transaction's answer, a request and a short message are not answers.
  assert.equal(mappedAddress(bindingSuccess(bindingRequest(), "192.0.2.1", 1), request), undefined);
  assert.equal(mappedAddress(request, request), undefined);
  assert.equal(mappedAddress(request.subarray(0, 12), request), undefined);

  // A plain MAPPED-ADDRESS (RFC 3489 servers) for 10.0.0.7:4000.
  const plain = new Uint8Array(32);
  const view = new DataView(plain.buffer);
  view.setUint16(0, 0x0101);
  view.setUint16(2, 12);
  plain.set(request.subarray(4, 20), 4);
  view.setUint16(20, 0x0001);
  view.setUint16(22, 8);
  view.setUint8(25, 1);
  view.setUint16(26, 4000);
  plain.set([10, 0, 0, 7], 28);
  assert.deepEqual(mappedAddress(plain, request), { ip: "10.0.0.7", port: 4000 });
});

Deno.test("stun check: a real Binding request on loopback; no answer or a bad one rejects and frees the socket", async () => {
  await using server = await startStunServer();
  const mapped = await testStunServer("127.0.0.1", server.port);
  assert.equal(mapped.ip, "127.0.0.1");
  assert.ok(mapped.port > 0 && mapped.port !== server.port);

  // A server that never answers: rejected at the timeout.
  const silent = createSocket("udp4");
  await new Promise<void>((resolve) => silent.bind(0, "127.0.0.1", () => resolve()));
  const localPort = await freeUdpPort();
  try {
    await assert.rejects(
      testStunServer("127.0.0.1", silent.address().port, localPort, 200),
      /No response/,
    );
  } finally {
    silent.close();
  }
  // The local port was released: bound again at once.
  const reused = await testStunServer("127.0.0.1", server.port, localPort);
  assert.equal(reused.port, localPort);

  await using garbage = await startStunServer(() => new Uint8Array([1, 2, 3]));
  await assert.rejects(testStunServer("127.0.0.1", garbage.port), /Unexpected STUN response/);
});
