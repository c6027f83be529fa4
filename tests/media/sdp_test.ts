import assert from "node:assert/strict";
import {
  applyBitrateCap,
  finalizeCandidates,
  midKinds,
  offeredCodecs,
  rejectUnsupportedMedia,
  splitSdp,
} from "../../core/media/sdp.ts";
import { createCandidateFilter } from "../../core/media/ice_filter.ts";

const OFFER = [
  "v=0",
  "o=- 1 2 IN IP4 127.0.0.1",
  "s=-",
  "t=0 0",
  "a=group:BUNDLE 0 1 2",
  "m=audio 9 UDP/TLS/RTP/SAVPF 111 0",
  "c=IN IP4 0.0.0.0",
  "a=mid:0",
  "a=rtpmap:111 opus/48000/2",
  "m=video 9 UDP/TLS/RTP/SAVPF 102 103",
  "c=IN IP4 0.0.0.0",
  "a=mid:1",
  "a=rtpmap:102 H264/90000",
  "a=rtpmap:103 rtx/90000",
  "m=video 9 UDP/TLS/RTP/SAVPF 96",
  "c=IN IP4 0.0.0.0",
  "a=mid:2",
  "a=rtpmap:96 VP8/90000",
].join("\r\n") + "\r\n";

const SUPPORTED = { audio: new Set(["opus", "pcmu"]), video: new Set(["vp8", "vp9"]) };

Deno.test("offeredCodecs skips helper codecs and knows static payloads", () => {
  const [audio, video] = splitSdp(OFFER).media;
  assert.deepEqual(offeredCodecs(audio ?? []), ["opus", "pcmu"]);
  assert.deepEqual(offeredCodecs(video ?? []), ["h264"]);
});

Deno.test("rejectUnsupportedMedia sets an H264-only m-line to port 0 and unbundles it", () => {
  const { sdp, rejected } = rejectUnsupportedMedia(OFFER, SUPPORTED);
  assert.deepEqual(rejected, ["1"]);
  assert.match(sdp, /m=video 0 UDP\/TLS\/RTP\/SAVPF 102 103/);
  assert.match(sdp, /m=video 9 UDP\/TLS\/RTP\/SAVPF 96/);
  assert.match(sdp, /a=group:BUNDLE 0 2\r\n/);
  assert.equal(rejectUnsupportedMedia(sdp, SUPPORTED).rejected.length, 0);
});

Deno.test("applyBitrateCap puts b=AS after c= in live video sections only", () => {
  const sdp = applyBitrateCap(rejectUnsupportedMedia(OFFER, SUPPORTED).sdp, 128000);
  const [audio, h264, vp8] = splitSdp(sdp).media;
  assert.ok(!audio?.some((l) => l.startsWith("b=")));
  assert.ok(!h264?.some((l) => l.startsWith("b=")));
  assert.equal(vp8?.[2], "b=AS:128");
});

const ANSWER = [
  "v=0",
  "o=- 1 2 IN IP4 127.0.0.1",
  "s=-",
  "t=0 0",
  "m=audio 5000 UDP/TLS/RTP/SAVPF 111",
  "c=IN IP4 10.1.2.3",
  "a=candidate:1 1 udp 2122260223 10.1.2.3 5000 typ host generation 0",
  "a=candidate:2 1 udp 2122194687 127.0.0.1 5002 typ host generation 0",
  "a=candidate:3 1 tcp 1518214911 127.0.0.1 5003 typ host tcptype passive generation 0",
  "a=mid:0",
  "m=video 0 UDP/TLS/RTP/SAVPF 0",
  "c=IN IP4 0.0.0.0",
  "a=mid:1",
].join("\r\n") + "\r\n";

Deno.test("finalizeCandidates filters, retargets the default and ends live sections", () => {
  const filter = createCandidateFilter({ ignore: ["10."], nat1to1: "192.0.2.7" });
  const { sdp, candidates } = finalizeCandidates(ANSWER, filter);
  assert.deepEqual(candidates, [
    "candidate:2 1 udp 2122194687 192.0.2.7 5002 typ host generation 0",
    "candidate:3 1 tcp 1518214911 192.0.2.7 5003 typ host tcptype passive generation 0",
  ]);
  const [audio, video] = splitSdp(sdp).media;
  assert.equal(audio?.[0], "m=audio 5002 UDP/TLS/RTP/SAVPF 111");
  assert.equal(audio?.[1], "c=IN IP4 192.0.2.7");
  assert.equal(audio?.at(-1), "a=end-of-candidates");
  assert.ok(!video?.includes("a=end-of-candidates"), "a rejected m-line gets no candidates");
  assert.deepEqual([...midKinds(sdp)], [["0", "audio"], ["1", "video"]]);
});

Deno.test("finalizeCandidates with nothing left points the m-line at 9 0.0.0.0", () => {
  const { sdp, candidates } = finalizeCandidates(
    ANSWER,
    createCandidateFilter({ enforce: ["::1"] }),
  );
  assert.deepEqual(candidates, []);
  assert.match(sdp, /m=audio 9 .*\r\nc=IN IP4 0\.0\.0\.0/);
});
