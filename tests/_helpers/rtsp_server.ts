/**
 * A small RTSP server (RFC 2326) on loopback for Streaming's `rtsp` mountpoints: it describes
 * an Opus track (`trackID=0`, PT 111) and a VP8 one (`trackID=1`, PT 100), takes each SETUP's
 * `client_port`, and on PLAY hands the ports to the test, which starts sending RTP there (and
 * stops on TEARDOWN or when the connection goes). It keeps every request it got, can ask for
 * Basic or Digest authentication, and can refuse DESCRIBE of the full URL (a path-only server,
 * for `rtsp_quirk`).
 *
 * @module
 */
import { createHash } from "node:crypto";

/** A request as the server read it. */
export interface RtspRequest {
  method: string;
  uri: string;
  headers: Record<string, string>;
}

/** Where PLAY asked the media to go, per track (`audio`, `video`). */
export type PlayTargets = Partial<Record<"audio" | "video", { rtp: number; rtcp: number }>>;

export interface RtspServerOptions {
  /** Called on PLAY with the client ports; returns how to stop sending. */
  onPlay: (targets: PlayTargets) => () => void | Promise<void>;
  /** Tracks described (default both). */
  tracks?: ("audio" | "video")[];
  /** Ask for credentials with this scheme. */
  auth?: { user: string; password: string; scheme: "Basic" | "Digest" };
  /** DESCRIBE of the whole URL gets 404; only the path works (as some cameras). */
  pathOnly?: boolean;
  /** Session timeout announced in SETUP's Session header, in seconds. */
  timeoutS?: number;
  /** The port to listen on (default: a free one). */
  port?: number;
  /** The video track's rtpmap (default `VP8/90000`). */
  videoRtpmap?: string;
}

const REALM = "test";
const NONCE = "0123456789abcdef";
const md5 = (s: string) => createHash("md5").update(s).digest("hex");

/** The server; `close()` stops it and whatever plays. */
export class TestRtspServer {
  readonly requests: RtspRequest[] = [];
  readonly url: string;
  readonly #listener: Deno.Listener;
  readonly #options: RtspServerOptions;
  readonly #conns = new Set<Deno.Conn>();
  readonly #stops = new Set<() => void | Promise<void>>();
  #served: Promise<void>;

  private constructor(listener: Deno.Listener, options: RtspServerOptions) {
    this.#listener = listener;
    this.#options = options;
    const { port } = listener.addr as Deno.NetAddr;
    this.url = `rtsp://127.0.0.1:${port}/live/stream`;
    this.#served = this.#accept();
  }

  static start(options: RtspServerOptions): TestRtspServer {
    return new TestRtspServer(
      Deno.listen({ hostname: "127.0.0.1", port: options.port ?? 0 }),
      options,
    );
  }

  /** The methods received so far, in order. */
  methods(): string[] {
    return this.requests.map((r) => r.method);
  }

  /** Drops every connection (as a server that went away) and stops what plays. */
  async dropConnections(): Promise<void> {
    for (const c of this.#conns) {
      try {
        c.close();
      } catch {
        // Already closed.
      }
    }
    this.#conns.clear();
    await this.#stopPlaying();
  }

  async close(): Promise<void> {
    this.#listener.close();
    await this.dropConnections();
    await this.#served;
  }

  async #stopPlaying(): Promise<void> {
    const stops = [...this.#stops];
    this.#stops.clear();
    for (const stop of stops) await stop();
  }

  async #accept(): Promise<void> {
    try {
      for await (const conn of this.#listener) {
        this.#conns.add(conn);
        void this.#serve(conn).finally(() => this.#conns.delete(conn));
      }
    } catch {
      // Closed.
    }
  }

  async #serve(conn: Deno.Conn): Promise<void> {
    const decoder = new TextDecoder();
    let pending = "";
    const targets: PlayTargets = {};
    const buf = new Uint8Array(8192);
    try {
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) break;
        pending += decoder.decode(buf.subarray(0, n));
        for (;;) {
          const end = pending.indexOf("\r\n\r\n");
          if (end < 0) break;
          const [line = "", ...rest] = pending.slice(0, end).split("\r\n");
          const headers: Record<string, string> = {};
          for (const h of rest) {
            const at = h.indexOf(":");
            if (at > 0) headers[h.slice(0, at).trim().toLowerCase()] = h.slice(at + 1).trim();
          }
          const length = Number(headers["content-length"] ?? 0);
          if (pending.length < end + 4 + length) break;
          pending = pending.slice(end + 4 + length);
          const [method = "", uri = ""] = line.split(" ");
          this.requests.push({ method, uri, headers });
          const reply = await this.#answer({ method, uri, headers }, targets);
          await conn.write(new TextEncoder().encode(reply));
        }
      }
    } catch {
      // The connection went.
    } finally {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    }
  }

  #authorized(req: RtspRequest): boolean {
    const auth = this.#options.auth;
    if (!auth) return true;
    const given = req.headers.authorization ?? "";
    if (auth.scheme === "Basic") {
      return given === `Basic ${btoa(`${auth.user}:${auth.password}`)}`;
    }
    const field = (name: string) => new RegExp(`${name}="?([^",]*)"?`).exec(given)?.[1] ?? "";
    if (!given.startsWith("Digest ") || field("username") !== auth.user) return false;
    const ha1 = md5(`${auth.user}:${REALM}:${auth.password}`);
    const ha2 = md5(`${req.method}:${field("uri")}`);
    return field("response") === md5(`${ha1}:${NONCE}:${ha2}`);
  }

  async #answer(req: RtspRequest, targets: PlayTargets): Promise<string> {
    const cseq = req.headers.cseq ?? "0";
    const reply = (status: string, headers: string[] = [], body = "") =>
      [
        `RTSP/1.0 ${status}`,
        `CSeq: ${cseq}`,
        ...headers,
        ...(body ? [`Content-Length: ${new TextEncoder().encode(body).length}`] : []),
        "",
        body,
      ].join("\r\n");
    if (req.method === "OPTIONS") {
      return reply("200 OK", ["Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER"]);
    }
    if (!this.#authorized(req)) {
      const scheme = this.#options.auth?.scheme === "Digest"
        ? `Digest realm="${REALM}", nonce="${NONCE}"`
        : `Basic realm="${REALM}"`;
      return reply("401 Unauthorized", [`WWW-Authenticate: ${scheme}`]);
    }
    const base = this.url;
    switch (req.method) {
      case "DESCRIBE": {
        if (this.#options.pathOnly && req.uri.startsWith("rtsp://")) return reply("404 Not Found");
        const tracks = this.#options.tracks ?? ["audio", "video"];
        const sdp = [
          "v=0",
          "o=- 1 1 IN IP4 127.0.0.1",
          "s=test",
          "c=IN IP4 0.0.0.0",
          "t=0 0",
          ...(tracks.includes("audio")
            ? ["m=audio 0 RTP/AVP 111", "a=rtpmap:111 opus/48000/2", "a=control:trackID=0"]
            : []),
          ...(tracks.includes("video")
            ? [
              "m=video 0 RTP/AVP 100",
              `a=rtpmap:100 ${this.#options.videoRtpmap ?? "VP8/90000"}`,
              "a=control:trackID=1",
            ]
            : []),
          "",
        ].join("\r\n");
        return reply("200 OK", [`Content-Base: ${base}/`, "Content-Type: application/sdp"], sdp);
      }
      case "SETUP": {
        const ports = /client_port=(\d+)-(\d+)/.exec(req.headers.transport ?? "");
        if (!ports) return reply("461 Unsupported Transport");
        const kind = req.uri.endsWith("trackID=0") ? "audio" : "video";
        targets[kind] = { rtp: Number(ports[1]), rtcp: Number(ports[2]) };
        return reply("200 OK", [
          `Transport: RTP/AVP/UDP;unicast;client_port=${ports[1]}-${ports[2]};` +
          `server_port=6970-6971;ssrc=${kind === "audio" ? "0000AAAA" : "0000BBBB"}`,
          `Session: 12345678;timeout=${this.#options.timeoutS ?? 60}`,
        ]);
      }
      case "PLAY":
        if (req.headers.session?.split(";")[0] !== "12345678") {
          return reply("454 Session Not Found");
        }
        await this.#stopPlaying();
        this.#stops.add(this.#options.onPlay({ ...targets }));
        return reply("200 OK", ["Session: 12345678", "Range: npt=0.000-"]);
      case "TEARDOWN":
        await this.#stopPlaying();
        return reply("200 OK", ["Session: 12345678"]);
      case "GET_PARAMETER":
        return reply("200 OK", ["Session: 12345678"]);
      default:
        return reply("501 Not Implemented");
    }
  }
}
