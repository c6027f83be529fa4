import assert from "node:assert/strict";
import { readOfferMedia } from "../../core/media/rtp/offer_media.ts";

// Trimmed from a wrtc (libwebrtc) offer: Opus among other audio codecs, VP8 with RTX, AV1 and
// VP9 each with their own RTX, a FID group, audio extmaps, and a data section that is skipped.
const OFFER = [
  "v=0",
  "o=- 1 2 IN IP4 127.0.0.1",
  "s=-",
  "t=0 0",
  "a=group:BUNDLE 0 1 2",
  "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0",
  "a=mid:0",
  "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
  "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid",
  "a=rtpmap:111 opus/48000/2",
  "a=rtpmap:63 red/48000/2",
  "a=fmtp:63 111/111",
  "a=rtpmap:9 G722/8000",
  "a=ssrc:2302872618 cname:x",
  "a=ssrc:2302872618 msid:- a",
  "m=video 9 UDP/TLS/RTP/SAVPF 39 40 96 97 98 99",
  "a=mid:1",
  "a=rtpmap:39 AV1/90000",
  "a=rtpmap:40 rtx/90000",
  "a=fmtp:40 apt=39",
  "a=rtpmap:96 VP8/90000",
  "a=rtpmap:97 rtx/90000",
  "a=fmtp:97 apt=96",
  "a=rtpmap:98 VP9/90000",
  "a=fmtp:98 profile-id=0",
  "a=rtpmap:99 rtx/90000",
  "a=fmtp:99 apt=98",
  "a=ssrc-group:FID 3300648385 211573723",
  "a=ssrc:3300648385 cname:x",
  "a=ssrc:211573723 cname:x",
  "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
  "a=mid:2",
  "",
].join("\r\n");

Deno.test("offer media: codec, RTX and the publisher's SSRCs per section", () => {
  assert.deepEqual(readOfferMedia(OFFER), [
    {
      kind: "audio",
      mid: "0",
      codec: "opus",
      payloadType: 111,
      clockRate: 48000,
      channels: 2,
      fmtp: "",
      rtxPayloadType: 0,
      ssrc: 2302872618,
      rtxSsrc: 0,
      extensions: new Map([
        [1, "urn:ietf:params:rtp-hdrext:ssrc-audio-level"],
        [4, "urn:ietf:params:rtp-hdrext:sdes:mid"],
      ]),
    },
    {
      kind: "video",
      mid: "1",
      codec: "vp8",
      payloadType: 96,
      clockRate: 90000,
      channels: 0,
      fmtp: "",
      rtxPayloadType: 97,
      ssrc: 3300648385,
      rtxSsrc: 211573723,
      extensions: new Map(),
    },
  ]);
});

Deno.test("offer media: a section without the codec or SSRCs reports zeros", () => {
  const sdp = "v=0\nm=video 9 UDP/TLS/RTP/SAVPF 102\na=mid:v\na=rtpmap:102 H264/90000\n";
  assert.deepEqual(readOfferMedia(sdp), [
    {
      kind: "video",
      mid: "v",
      codec: "",
      payloadType: 0,
      clockRate: 0,
      channels: 0,
      fmtp: "",
      rtxPayloadType: 0,
      ssrc: 0,
      rtxSsrc: 0,
      extensions: new Map(),
    },
  ]);
  assert.equal(readOfferMedia(sdp, { audio: "opus", video: "h264" })[0]?.payloadType, 102);
});

Deno.test("offer media: of a set of codecs, the first the section maps is taken", () => {
  const sdp = "v=0\nm=audio 9 UDP/TLS/RTP/SAVPF 0 8\na=mid:a\na=rtpmap:0 PCMU/8000\n" +
    "a=rtpmap:8 PCMA/8000\n";
  const [media] = readOfferMedia(sdp, {
    audio: new Set(["opus", "pcma", "pcmu"]),
    video: new Set(["vp8"]),
  });
  assert.equal(media?.codec, "pcmu");
  assert.equal(media?.payloadType, 0);
  assert.equal(media?.clockRate, 8000);
});

Deno.test("offer media: multiopus keeps its channels and channel mapping (the multiopus demo)", () => {
  const sdp = [
    "v=0",
    "m=audio 9 UDP/TLS/RTP/SAVPF 111 0",
    "a=mid:0",
    "a=rtpmap:111 multiopus/48000/6",
    "a=fmtp:111 minptime=10;useinbandfec=1;channel_mapping=0,4,1,2,3,5;num_streams=4;coupled_streams=2",
    "a=rtpmap:0 PCMU/8000",
    "",
  ].join("\r\n");
  const [media] = readOfferMedia(sdp, { audio: new Set(["multiopus"]), video: "vp8" });
  assert.equal(media?.codec, "multiopus");
  assert.equal(media?.channels, 6);
  assert.equal(
    media?.fmtp,
    "minptime=10;useinbandfec=1;channel_mapping=0,4,1,2,3,5;num_streams=4;coupled_streams=2",
  );
});
