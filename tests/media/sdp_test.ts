import assert from "node:assert/strict";
import {
  applyBitrateCap,
  bundledAway,
  conformSdp,
  finalizeCandidates,
  keepSingleCodec,
  midKinds,
  offeredCodecs,
  rejectUnsupportedMedia,
  renameMids,
  sectionMids,
  sessionOrigin,
  setOpusParams,
  shapeLocalSdp,
  splitSdp,
} from "../../core/media/sdp.ts";
import { createCandidateFilter, shortCandidate } from "../../core/media/ice_filter.ts";

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
  const filter = createCandidateFilter({ ignore: ["10."], nat1to1: "192.0.2.7", tcp: true });
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

Deno.test("finalizeCandidates drops TCP candidates unless ice_tcp is on", () => {
  const { candidates } = finalizeCandidates(ANSWER, createCandidateFilter({ ignore: ["10."] }));
  assert.deepEqual(candidates, [
    "candidate:2 1 udp 2122194687 127.0.0.1 5002 typ host generation 0",
  ]);
});

/** A wrtc offer (audio, video, data), trimmed. */
const WRTC_OFFER = [
  "v=0",
  "o=- 8077424431927758826 2 IN IP4 127.0.0.1",
  "s=-",
  "t=0 0",
  "a=group:BUNDLE 0 1 2",
  "a=msid-semantic: WMS",
  "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 104 9 0 8 106 110",
  "c=IN IP4 0.0.0.0",
  "a=mid:0",
  "a=sendrecv",
  "a=rtpmap:111 opus/48000/2",
  "a=rtcp-fb:111 transport-cc",
  "a=fmtp:111 minptime=10;useinbandfec=1",
  "a=rtpmap:63 red/48000/2",
  "a=fmtp:63 111/111",
  "a=rtpmap:104 ISAC/32000",
  "a=rtpmap:9 G722/8000",
  "a=rtpmap:0 PCMU/8000",
  "a=rtpmap:8 PCMA/8000",
  "a=rtpmap:106 CN/32000",
  "a=rtpmap:110 telephone-event/48000",
  "a=ssrc:1 cname:x",
  "m=video 9 UDP/TLS/RTP/SAVPF 96 97 98 99 102",
  "c=IN IP4 0.0.0.0",
  "a=mid:1",
  "a=sendrecv",
  "a=rtpmap:96 VP8/90000",
  "a=rtcp-fb:96 goog-remb",
  "a=rtcp-fb:96 nack pli",
  "a=rtpmap:97 rtx/90000",
  "a=fmtp:97 apt=96",
  "a=rtpmap:98 VP9/90000",
  "a=rtcp-fb:98 nack",
  "a=fmtp:98 profile-id=0",
  "a=rtpmap:99 rtx/90000",
  "a=fmtp:99 apt=98",
  "a=rtpmap:102 ulpfec/90000",
  "a=ssrc-group:FID 2 3",
  "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
  "c=IN IP4 0.0.0.0",
  "a=mid:2",
  "a=sctp-port:5000",
].join("\r\n") + "\r\n";

const ENGINE = {
  audio: new Set(["opus", "isac", "g722", "pcmu", "pcma"]),
  video: new Set(["vp8", "vp9", "av1"]),
};

Deno.test("keepSingleCodec keeps the first usable codec per m-line and its rtx", () => {
  const { sdp, codecs } = keepSingleCodec(WRTC_OFFER, ENGINE);
  assert.deepEqual(codecs, ["opus", "vp8", undefined]);
  const [audio, video, data] = splitSdp(sdp).media;
  assert.equal(audio?.[0], "m=audio 9 UDP/TLS/RTP/SAVPF 111");
  assert.ok(audio?.includes("a=fmtp:111 minptime=10;useinbandfec=1"), "opus keeps its fmtp");
  assert.ok(!audio?.some((l) => /^a=(rtpmap|fmtp):(63|104|0|106|110) /.test(l)));
  assert.ok(audio?.includes("a=ssrc:1 cname:x"));
  assert.equal(video?.[0], "m=video 9 UDP/TLS/RTP/SAVPF 96 97");
  assert.deepEqual(video?.filter((l) => /^a=(rtpmap|fmtp|rtcp-fb):/.test(l)), [
    "a=rtpmap:96 VP8/90000",
    "a=rtcp-fb:96 goog-remb",
    "a=rtcp-fb:96 nack pli",
    "a=rtpmap:97 rtx/90000",
    "a=fmtp:97 apt=96",
  ]);
  assert.deepEqual(data, splitSdp(WRTC_OFFER).media[2]);
});

Deno.test("keepSingleCodec honours preferences; a codec not offered rejects the m-line", () => {
  const picked = keepSingleCodec(WRTC_OFFER, ENGINE, { audio: ["PCMU"], video: ["vp9"] });
  assert.deepEqual(picked.codecs, ["pcmu", "vp9", undefined]);
  const [audio, video] = splitSdp(picked.sdp).media;
  assert.equal(audio?.[0], "m=audio 9 UDP/TLS/RTP/SAVPF 0");
  assert.equal(video?.[0], "m=video 9 UDP/TLS/RTP/SAVPF 98 99");
  assert.ok(video?.includes("a=fmtp:98 profile-id=0"));
  const rejected = keepSingleCodec(WRTC_OFFER, ENGINE, { video: ["h265"] });
  assert.deepEqual(rejected.codecs, ["opus", undefined, undefined]);
  assert.match(rejected.sdp, /\r\nm=video 0 UDP\/TLS\/RTP\/SAVPF 96 97 98 99 102\r\n/);
  assert.match(rejected.sdp, /a=group:BUNDLE 0 2\r\n/);
});

Deno.test("keepSingleCodec takes a list in its order, skips what the engine lacks", () => {
  // The list's order wins over the offer's; h264 and ilbc the engine lacks, av1 the offer
  // lacks: the next listed one is taken.
  const picked = keepSingleCodec(WRTC_OFFER, ENGINE, {
    audio: ["ilbc", "g722", "opus"],
    video: ["h264", "av1", "vp9", "vp8"],
  });
  assert.deepEqual(picked.codecs, ["g722", "vp9", undefined]);
  const noVp9 = { audio: ENGINE.audio, video: new Set(["vp8"]) };
  assert.deepEqual(keepSingleCodec(WRTC_OFFER, noVp9, { video: ["vp9", "vp8"] }).codecs, [
    "opus",
    "vp8",
    undefined,
  ]);
  const none = keepSingleCodec(WRTC_OFFER, ENGINE, { audio: [], video: ["vp8"] });
  assert.deepEqual(none.codecs, [undefined, "vp8", undefined]);
  assert.match(none.sdp, /\r\nm=audio 0 /, "an empty list rejects the kind");
  assert.match(none.sdp, /a=group:BUNDLE 1 2\r\n/);
});

Deno.test("shapeLocalSdp: direction as both allow, one codec by mid, inactive lines", () => {
  const answer = WRTC_OFFER.replace("a=mid:1\r\na=sendrecv", "a=mid:1\r\na=sendonly");
  const recv = shapeLocalSdp(answer, { direction: "recvonly" });
  const [audio, video, data] = splitSdp(recv).media;
  assert.ok(audio?.includes("a=recvonly"), "sendrecv and recvonly: recvonly");
  assert.ok(video?.includes("a=inactive"), "sendonly and recvonly: inactive");
  assert.deepEqual(data, splitSdp(WRTC_OFFER).media[2], "data untouched");
  assert.equal(shapeLocalSdp(WRTC_OFFER, { direction: "sendrecv" }), WRTC_OFFER);
  assert.equal(shapeLocalSdp(WRTC_OFFER, {}), WRTC_OFFER);

  const withMsid = WRTC_OFFER.replace("a=mid:1", "a=mid:1\r\na=msid:janus janus1");
  const offer = shapeLocalSdp(withMsid, { codecs: { "1": "VP9", "0": "h264" }, inactive: ["1"] });
  const [a2, v2] = splitSdp(offer).media;
  assert.deepEqual(a2, splitSdp(WRTC_OFFER).media[0], "a codec the m-line lacks: untouched");
  assert.equal(v2?.[0], "m=video 9 UDP/TLS/RTP/SAVPF 98 99");
  assert.ok(v2?.includes("a=inactive") && !v2.includes("a=sendrecv"));
  assert.ok(!v2?.some((l) => l.startsWith("a=msid:")));
  assert.ok(v2?.includes("a=ssrc-group:FID 2 3"), "other lines stay");
});

Deno.test("setOpusParams sets (or replaces) params in every live Opus fmtp only", () => {
  const rate = { "maxplaybackrate": 16000, "sprop-maxcapturerate": 16000 };
  const [audio, video, data] = splitSdp(setOpusParams(WRTC_OFFER, rate)).media;
  assert.ok(
    audio?.includes(
      "a=fmtp:111 minptime=10;useinbandfec=1;maxplaybackrate=16000;" +
        "sprop-maxcapturerate=16000",
    ),
    audio?.join("\n"),
  );
  assert.ok(audio?.includes("a=fmtp:63 111/111"), "red's fmtp untouched");
  assert.equal(audio?.filter((l) => l.startsWith("a=fmtp:111 ")).length, 1);
  const [, v, d] = splitSdp(WRTC_OFFER).media;
  assert.deepEqual([video, data], [v, d], "video and data untouched");

  // A value already there is replaced; an Opus payload without fmtp gets one after its rtpmap.
  const twice = setOpusParams(
    setOpusParams(WRTC_OFFER, { maxplaybackrate: 48000 }),
    { MaxPlaybackRate: 8000 },
  );
  assert.match(twice, /a=fmtp:111 minptime=10;useinbandfec=1;MaxPlaybackRate=8000\r\n/);
  const bare = WRTC_OFFER.replace("a=fmtp:111 minptime=10;useinbandfec=1\r\n", "");
  const added = splitSdp(setOpusParams(bare, { maxplaybackrate: 8000 })).media[0] ?? [];
  const at = added.indexOf("a=rtpmap:111 opus/48000/2");
  assert.equal(added[at + 1], "a=fmtp:111 maxplaybackrate=8000");

  // Rejected audio m-lines and non-Opus payloads stay as they are.
  const rejected = WRTC_OFFER.replace("m=audio 9 ", "m=audio 0 ");
  assert.equal(setOpusParams(rejected, rate), rejected);
  assert.equal(setOpusParams(WRTC_OFFER, {}), WRTC_OFFER);
  const answer = shapeLocalSdp(WRTC_OFFER, { opusParams: { maxplaybackrate: 16000 } });
  assert.match(answer, /a=fmtp:111 minptime=10;useinbandfec=1;maxplaybackrate=16000\r\n/);
});

Deno.test("conformSdp: WMS *, a sendrecv data section, the offer's o= line", () => {
  const origin = sessionOrigin(WRTC_OFFER);
  assert.deepEqual(origin, { sessionId: "8077424431927758826", version: 2 });
  const answer = WRTC_OFFER.replace("o=- 8077424431927758826 2", "o=- 42 7");
  const out = conformSdp(answer, { origin: { sessionId: "8077424431927758826", version: 3 } });
  const { session, media } = splitSdp(out);
  assert.equal(session[1], "o=- 8077424431927758826 3 IN IP4 127.0.0.1");
  assert.ok(session.includes("a=msid-semantic: WMS *"));
  assert.ok(!session.includes("a=msid-semantic: WMS"));
  assert.deepEqual(media[2]?.slice(0, 3), [
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
    "c=IN IP4 0.0.0.0",
    "a=sendrecv",
  ]);
  assert.equal(conformSdp(out), out, "idempotent");
  assert.equal(conformSdp(out).match(/a=sendrecv/g)?.length, 3, "added once");
  const plain = conformSdp(answer);
  assert.match(plain, /^o=- 42 7 /m, "no origin given: kept");
});

Deno.test("conformSdp writes a rejected m-line as the reference (port 0, payload 0, inactive)", () => {
  const answer = keepSingleCodec(WRTC_OFFER, ENGINE, { audio: ["opus"], video: [] }).sdp;
  const { session, media } = splitSdp(conformSdp(answer));
  assert.deepEqual(media[1], [
    "m=video 0 UDP/TLS/RTP/SAVPF 0",
    "c=IN IP4 0.0.0.0",
    "a=inactive",
    "a=mid:1",
  ]);
  assert.deepEqual(media[0], splitSdp(answer).media[0], "a live m-line is untouched");
  assert.ok(session.includes("a=group:BUNDLE 0 2"));
  // wrtc's answer when every m-line is rejected has an empty group.
  const none = answer.replace(/^a=group:BUNDLE .*$/m, "a=group:BUNDLE");
  const left = splitSdp(conformSdp(none));
  assert.ok(!left.session.some((l) => l.startsWith("a=group:BUNDLE")), "no empty BUNDLE group");
});

Deno.test("renameMids renames sections and the BUNDLE group; sectionMids reads them", () => {
  const out = renameMids(WRTC_OFFER, new Map([[1, "5"], [2, "6"]]));
  assert.deepEqual(sectionMids(out), ["0", "5", "6"]);
  assert.match(out, /a=group:BUNDLE 0 5 6\r\n/);
  assert.equal(renameMids(WRTC_OFFER, new Map()), WRTC_OFFER);
});

Deno.test("bundledAway: candidates of bundled m-lines other than the first", () => {
  assert.equal(bundledAway(WRTC_OFFER, { sdpMid: "0" }), false);
  assert.equal(bundledAway(WRTC_OFFER, { sdpMid: "1", sdpMLineIndex: 1 }), true);
  assert.equal(bundledAway(WRTC_OFFER, { sdpMLineIndex: 2 }), true);
  assert.equal(bundledAway(WRTC_OFFER, {}), false);
  const unbundled = WRTC_OFFER.replace("a=group:BUNDLE 0 1 2\r\n", "");
  assert.equal(bundledAway(unbundled, { sdpMid: "1" }), false);
});

Deno.test("shortCandidate: the reference's handle_info form", () => {
  assert.equal(
    shortCandidate(
      "candidate:1510613869 1 udp 2122063615 127.0.0.1 44931 typ host generation 0 ufrag F6Av network-id 3",
    ),
    "1510613869 1 udp 2122063615 127.0.0.1 44931 typ host",
  );
  assert.equal(
    shortCandidate(
      "a=candidate:2 1 udp 1686052607 192.0.2.9 5000 typ srflx raddr 10.0.0.2 rport 5000 generation 0",
    ),
    "2 1 udp 1686052607 192.0.2.9 5000 typ srflx raddr 10.0.0.2 rport 5000",
  );
  assert.equal(
    shortCandidate("candidate:3 1 tcp 1518214911 127.0.0.1 9 typ host tcptype active generation 0"),
    "3 1 tcp 1518214911 127.0.0.1 9 typ host tcptype active",
  );
});
