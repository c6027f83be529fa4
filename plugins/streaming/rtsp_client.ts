/**
 * The RTSP client of `rtsp` mountpoints (RFC 2326, as the reference drives it with libcurl):
 * one TCP connection per session carrying DESCRIBE, SETUP, PLAY, OPTIONS (keep-alive) and
 * TEARDOWN, each with its CSeq and the session's id; Basic or Digest credentials sent once a
 * 401 asked for them; and the parts of the DESCRIBE's SDP a mountpoint needs per media.
 *
 * @module
 */
import { createHash } from "node:crypto";

/** A response: status code, headers (lower-case names) and body. */
export interface RtspResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** What the DESCRIBE's SDP says of one media kind (Janus's `janus_streaming_rtsp_parse_sdp`). */
export interface RtspMedia {
  /** The first payload type of the m-line. */
  pt: number;
  /** The rtpmap's value after the payload type ("VP8/90000"), "" when none. */
  rtpmap: string;
  /** The fmtp's value after the payload type, "" when none. */
  fmtp: string;
  /** The URI SETUP uses for it. */
  uri: string;
}

const md5 = (s: string) => createHash("md5").update(s).digest("hex");

/** Credentials for servers that ask. */
export interface RtspCredentials {
  user: string;
  password: string;
}

/** One RTSP connection. */
export class RtspConnection {
  readonly #conn: Deno.Conn;
  readonly #credentials: RtspCredentials | undefined;
  readonly #timeoutMs: number;
  #cseq = 0;
  #pending = new Uint8Array(0);
  /** The `Authorization` builder once a 401 named the scheme. */
  #authorize: ((method: string, uri: string) => string) | undefined;
  /** The server's session id, from SETUP's `Session` header. */
  session: string | undefined;
  /** The `timeout` the server gave with its session, in seconds (0: none). */
  sessionTimeoutS = 0;
  #closed = false;

  private constructor(
    conn: Deno.Conn,
    credentials: RtspCredentials | undefined,
    timeoutMs: number,
  ) {
    this.#conn = conn;
    this.#credentials = credentials;
    this.#timeoutMs = timeoutMs;
  }

  /**
   * Connects to the server of `url` within `connectTimeoutMs`; each request then has
   * `timeoutMs` for its answer.
   *
   * @throws {Error} when the server cannot be reached in time
   */
  static async open(
    url: URL,
    options: { credentials?: RtspCredentials; connectTimeoutMs: number; timeoutMs: number },
  ): Promise<RtspConnection> {
    const hostname = url.hostname.replace(/^\[|\]$/g, "");
    const port = url.port === "" ? 554 : Number(url.port);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const connecting = Deno.connect({ hostname, port });
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(`No connection to ${hostname}:${port} within ${options.connectTimeoutMs} ms`),
          ),
        options.connectTimeoutMs,
      );
    });
    try {
      const conn = await Promise.race([connecting, timeout]);
      return new RtspConnection(conn, options.credentials, options.timeoutMs);
    } catch (e) {
      // A connection that comes after the timeout is closed.
      connecting.then((c) => c.close(), () => {});
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Sends a request (with the session once there is one, and credentials once asked) and reads
   * its response; a 401 is answered once with the credentials.
   *
   * @throws {Error} when the connection fails or the answer does not come in time
   */
  async request(
    method: string,
    uri: string,
    headers: Record<string, string> = {},
  ): Promise<RtspResponse> {
    let response = await this.#send(method, uri, headers);
    if (response.status === 401 && this.#credentials && !this.#authorize) {
      this.#authorize = authorizer(response.headers["www-authenticate"] ?? "", this.#credentials);
      if (this.#authorize) response = await this.#send(method, uri, headers);
    }
    const session = response.headers.session;
    if (session !== undefined) {
      const [id = "", ...params] = session.split(";");
      this.session = id.trim();
      const timeout = params.map((p) => /^\s*timeout=(\d+)/.exec(p)?.[1]).find((t) => t);
      if (timeout !== undefined) this.sessionTimeoutS = Number(timeout);
    }
    return response;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // Already closed by the server.
    }
  }

  async #send(method: string, uri: string, headers: Record<string, string>): Promise<RtspResponse> {
    const cseq = ++this.#cseq;
    const lines = [
      `${method} ${uri} RTSP/1.0`,
      `CSeq: ${cseq}`,
      ...(this.#authorize ? [`Authorization: ${this.#authorize(method, uri)}`] : []),
      ...(this.session !== undefined && !("Session" in headers)
        ? [`Session: ${this.session}`]
        : []),
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
      "",
      "",
    ];
    await this.#conn.write(new TextEncoder().encode(lines.join("\r\n")));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.close();
        reject(new Error(`No answer to ${method} within ${this.#timeoutMs} ms`));
      }, this.#timeoutMs);
    });
    try {
      for (;;) {
        const response = await Promise.race([this.#readResponse(), timeout]);
        // An answer to an earlier request that timed out on the server's side is skipped.
        if (Number(response.headers.cseq ?? cseq) === cseq) return response;
      }
    } finally {
      clearTimeout(timer);
    }
  }

  async #readResponse(): Promise<RtspResponse> {
    for (;;) {
      const parsed = parseResponse(this.#pending);
      if (parsed) {
        this.#pending = this.#pending.slice(parsed.used);
        return parsed.response;
      }
      const buf = new Uint8Array(16384);
      const n = await this.#conn.read(buf);
      if (n === null) throw new Error("The RTSP server closed the connection");
      const joined = new Uint8Array(this.#pending.length + n);
      joined.set(this.#pending);
      joined.set(buf.subarray(0, n), this.#pending.length);
      this.#pending = joined;
    }
  }
}

/** One response from the start of `buf`, with the bytes it took; null when incomplete. */
function parseResponse(buf: Uint8Array): { response: RtspResponse; used: number } | null {
  const text = new TextDecoder("latin1").decode(buf);
  const end = text.indexOf("\r\n\r\n");
  if (end < 0) return null;
  const [statusLine = "", ...lines] = text.slice(0, end).split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const at = line.indexOf(":");
    if (at > 0) headers[line.slice(0, at).trim().toLowerCase()] = line.slice(at + 1).trim();
  }
  const length = Number(headers["content-length"] ?? 0);
  if (buf.length < end + 4 + length) return null;
  const body = new TextDecoder().decode(buf.subarray(end + 4, end + 4 + length));
  const status = Number(/^RTSP\/\d\.\d (\d{3})/.exec(statusLine)?.[1] ?? 0);
  return { response: { status, headers, body }, used: end + 4 + length };
}

/** Builds the `Authorization` header a 401's `WWW-Authenticate` asks for (Basic or Digest). */
function authorizer(
  challenge: string,
  credentials: RtspCredentials,
): ((method: string, uri: string) => string) | undefined {
  const { user, password } = credentials;
  if (/^basic/i.test(challenge)) {
    const token = btoa(`${user}:${password}`);
    return () => `Basic ${token}`;
  }
  if (!/^digest/i.test(challenge)) return undefined;
  const field = (name: string) =>
    new RegExp(`${name}\\s*=\\s*(?:"([^"]*)"|([^,\\s]*))`, "i").exec(challenge)?.slice(1)
      .find((v) => v !== undefined);
  const realm = field("realm") ?? "";
  const nonce = field("nonce") ?? "";
  const opaque = field("opaque");
  const qop = field("qop")?.split(",").map((q) => q.trim()).includes("auth") ? "auth" : undefined;
  let nc = 0;
  return (method, uri) => {
    const ha1 = md5(`${user}:${realm}:${password}`);
    const ha2 = md5(`${method}:${uri}`);
    const parts = [`username="${user}"`, `realm="${realm}"`, `nonce="${nonce}"`, `uri="${uri}"`];
    if (qop) {
      const count = (++nc).toString(16).padStart(8, "0");
      const cnonce = crypto.randomUUID().replaceAll("-", "").slice(0, 16);
      const response = md5(`${ha1}:${nonce}:${count}:${cnonce}:${qop}:${ha2}`);
      parts.push(`qop=${qop}`, `nc=${count}`, `cnonce="${cnonce}"`, `response="${response}"`);
    } else {
      parts.push(`response="${md5(`${ha1}:${nonce}:${ha2}`)}"`);
    }
    if (opaque !== undefined) parts.push(`opaque="${opaque}"`);
    return `Digest ${parts.join(", ")}`;
  };
}

/**
 * The `kind` media of a DESCRIBE answer, as the reference reads it: the first `m=<kind>` line's
 * payload type, and the first `a=control`, `a=rtpmap` and `a=fmtp` after it; its SETUP URI is the
 * control when it already is the whole URL, else the base (Content-Base, else `url` without its
 * query) and the control, with `url`'s query string. Null when there is no such media or no
 * control.
 */
export function describedMedia(
  response: RtspResponse,
  url: string,
  kind: "audio" | "video",
): RtspMedia | null {
  const sdp = response.body;
  const at = sdp.indexOf(`m=${kind}`);
  if (at < 0) return null;
  const m = sdp.slice(at);
  const pt = Number(/^m=\S+\s+\d+\s+\S+\s+(\d+)/.exec(m)?.[1] ?? -1);
  const control = /a=control:(\S+)/.exec(m)?.[1];
  if (control === undefined) return null;
  const rtpmap = /a=rtpmap:\d+[ ]+([^\r\n]*)/.exec(m)?.[1] ?? "";
  const fmtp = /a=fmtp:\d+[ ]+([^\r\n]*)/.exec(m)?.[1] ?? "";
  const [bare = url, query] = url.split("?", 2);
  const base = response.headers["content-base"]?.replace(/\/$/, "") ?? bare;
  const withQuery = query !== undefined && !control.includes(query) ? `?${query}` : "";
  const uri = control.startsWith(base) || /^rtsps?:\/\//i.test(control)
    ? `${control}${withQuery}`
    : `${base}/${control}${withQuery}`;
  return { pt, rtpmap, fmtp, uri };
}

/** The `Transport` SETUP asks for: RTP to `port`, RTCP to the next one. */
export function clientTransport(port: number): string {
  return `RTP/AVP/UDP;unicast;client_port=${port}-${port + 1}`;
}
