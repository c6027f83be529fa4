/**
 * What a plugin asks of the SDP, applied by each media engine (plugins never edit SDP): the
 * answer's codecs (an ordered list per kind) and direction, and our own offer's codec per
 * m-line and `inactive` free lines; the Opus playback rate the answer asks of the client. A
 * real wrtc client offers; the answer must be one it takes.
 */
import assert from "node:assert/strict";
import {
  createMediaEngine,
  RTP_WORKER_MAIN_URL,
  WORKER_MAIN_URL,
} from "../../core/media/engine.ts";
import { mediaSections } from "../../plugins/_shared/media_lines.ts";
import { ClientPeer, wrtcTest } from "./_client.ts";

/** The lines of m-section `mindex`. */
function sectionLines(sdp: string, mindex: number): string[] {
  return (sdp.split(/\r\n(?=m=)/)[mindex + 1] ?? "").split("\r\n").filter((l) => l !== "");
}

/** Codec names of a section's rtpmap lines, lower case. */
function rtpmapNames(lines: readonly string[]): string[] {
  return lines.flatMap((l) => /^a=rtpmap:\d+ ([^/]+)/.exec(l)?.[1]?.toLowerCase() ?? []);
}

const ENGINES = [
  // Both skip speex (neither has it) for PCMU: wrtc decodes it, the rtp engine forwards it (and
  // its AudioBridge mixer decodes it).
  { name: "wrtc", workerMain: WORKER_MAIN_URL, audio: "pcmu" },
  { name: "rtp", workerMain: RTP_WORKER_MAIN_URL, audio: "pcmu" },
];

for (const { name, workerMain, audio } of ENGINES) {
  wrtcTest(
    `${name} engine: answer codecs by preference and recvonly; offer codecs and inactive lines`,
    async (wrtc) => {
      const engine = await createMediaEngine({ workers: 1, workerMain });
      const client = new ClientPeer(wrtc, { audio: true, video: true });
      try {
        const publisher = await engine.createPeer({ affinity: "room", listener: {} });
        const answer = await publisher.acceptOffer(await client.offer(), {
          codecs: { audio: ["speex", "pcmu", "opus"], video: ["h264", "vp8"] },
          direction: "recvonly",
        });
        await client.answer(answer);
        const [a, v] = mediaSections(answer);
        assert.deepEqual([a?.kind, a?.codec, v?.kind, v?.codec], ["audio", audio, "video", "vp8"]);
        assert.ok(a?.port !== 0 && v?.port !== 0);
        const audioLines = sectionLines(answer, 0);
        const videoLines = sectionLines(answer, 1);
        assert.deepEqual(rtpmapNames(audioLines), [audio], "one audio codec");
        assert.deepEqual(
          rtpmapNames(videoLines).filter((n) => n !== "rtx"),
          ["vp8"],
          "one video codec (and its rtx)",
        );
        for (const lines of [audioLines, videoLines]) {
          assert.ok(lines.includes("a=recvonly"), lines.join("\n"));
        }

        const subscriber = await engine.createPeer({ affinity: "room", listener: {} });
        const audioMid = await publisher.forward({ to: subscriber, fromMid: "0" });
        const videoMid = await publisher.forward({ to: subscriber, fromMid: "1" });
        await publisher.stopForward({ to: subscriber, toMid: audioMid });
        const offer = await subscriber.createOffer({
          codecs: { [videoMid]: "vp8" },
          inactive: [audioMid],
        });
        const sections = mediaSections(offer);
        const at = (mid: string) => sections.findIndex((s) => s.mid === mid);
        const freeLine = sectionLines(offer, at(audioMid));
        const fedLine = sectionLines(offer, at(videoMid));
        assert.ok(freeLine.includes("a=inactive"), freeLine.join("\n"));
        assert.ok(!freeLine.some((l) => l.startsWith("a=msid:")), "no msid on a free line");
        assert.ok(fedLine.includes("a=sendonly"), fedLine.join("\n"));
        assert.deepEqual(rtpmapNames(fedLine).filter((n) => n !== "rtx"), ["vp8"]);
        await subscriber.close();
        await publisher.close();
      } finally {
        client.close();
        await engine.close();
      }
      assert.deepEqual(engine.counts(), { peers: 0, workers: 0 });
    },
  );
}

/** Mean payload bytes per audio packet the client sent, and the packet count. */
async function sentBytesPerPacket(client: ClientPeer): Promise<[number, number]> {
  let bytes = 0;
  let packets = 0;
  (await client.pc.getStats()).forEach((value) => {
    const r = value as { type: string; kind?: string; bytesSent?: number; packetsSent?: number };
    if (r.type !== "outbound-rtp" || r.kind !== "audio") return;
    bytes += r.bytesSent ?? 0;
    packets += r.packetsSent ?? 0;
  });
  return [packets > 0 ? bytes / packets : 0, packets];
}

wrtcTest(
  "wrtc engine: opusMaxPlaybackRate in the answer's Opus fmtp bounds the client's encoder",
  async (wrtc) => {
    const engine = await createMediaEngine({ workers: 1, workerMain: WORKER_MAIN_URL });
    const narrow = new ClientPeer(wrtc, { audio: true });
    const wide = new ClientPeer(wrtc, { audio: true });
    const sizes: number[] = [];
    try {
      for (const [client, rate] of [[narrow, 16000], [wide, undefined]] as const) {
        const peer = await engine.createPeer({ affinity: "room", listener: {} });
        const answer = await peer.acceptOffer(await client.offer(), {
          codecs: { audio: ["opus"], video: [] },
          ...(rate ? { opusMaxPlaybackRate: rate } : {}),
        });
        await client.answer(answer);
        const fmtp = sectionLines(answer, 0).find((l) => l.startsWith("a=fmtp:"));
        if (rate) assert.match(fmtp ?? "", new RegExp(`;maxplaybackrate=${rate}$`), fmtp);
        else assert.doesNotMatch(fmtp ?? "", /maxplaybackrate/);
        const deadline = Date.now() + 20_000;
        let [size, packets] = await sentBytesPerPacket(client);
        while (packets < 150) {
          assert.ok(Date.now() < deadline, `packets sent: ${packets}`);
          await new Promise((resolve) => setTimeout(resolve, 100));
          [size, packets] = await sentBytesPerPacket(client);
        }
        sizes.push(size);
        await peer.close();
      }
    } finally {
      narrow.close();
      wide.close();
      await engine.close();
    }
    // libwebrtc's default Opus bitrate: 20 kbit/s up to a 16 kHz playback rate, 32 fullband.
    const [narrowSize = 0, wideSize = 0] = sizes;
    assert.ok(narrowSize > 0 && narrowSize < wideSize * 0.8, `bytes per packet ${sizes}`);
    assert.deepEqual(engine.counts(), { peers: 0, workers: 0 });
  },
);
