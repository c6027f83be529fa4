/**
 * SRTP (RFC 3711) for plain RTP: sending for forwarders (VideoRoom and AudioBridge
 * `rtp_forward` with `srtp_suite`/`srtp_crypto`, as Janus's libsrtp ones) and receiving for
 * Streaming sources (`srtpsuite`/`srtpcrypto`): AES_CM_128_HMAC_SHA1_80 or _32,
 * session keys derived once (key derivation rate 0), the packet index (rollover counter and
 * sequence number) estimated from the sequence numbers as libsrtp does, and a packet whose
 * index was already sent (or fell out of the 128-packet window) refused, as libsrtp refuses
 * to reuse a keystream.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { createCipheriv, createHmac } from "node:crypto";

/** Authentication tag length in bits: AES_CM_128_HMAC_SHA1_80 or AES_CM_128_HMAC_SHA1_32. */
export type SrtpSuite = 32 | 80;

/** Master key (16 bytes) and master salt (14 bytes), as SDES `inline:` carries them. */
export const SRTP_MASTER_LENGTH = 30;
const KEY_LENGTH = 16;
const SALT_LENGTH = 14;
const AUTH_KEY_LENGTH = 20;
/** libsrtp's default replay window. */
const WINDOW = 128;
const SEQ_MEDIAN = 0x8000;
const SEQ_MAX = 0x10000;

/**
 * The master key and salt of a base64 `srtp_crypto`, or undefined when it decodes to fewer
 * than 30 bytes (the reference skips such a forwarder). Extra bytes are ignored, as libsrtp.
 */
export function srtpMasterKey(crypto: string): Uint8Array | undefined {
  const decoded = new Uint8Array(Buffer.from(crypto, "base64"));
  return decoded.length < SRTP_MASTER_LENGTH ? undefined : decoded.slice(0, SRTP_MASTER_LENGTH);
}

/** `length` bytes of AES-128 counter-mode keystream starting at the 16-byte block `iv`. */
export function aesCmKeystream(key: Uint8Array, iv: Uint8Array, length: number): Uint8Array {
  const cipher = createCipheriv("aes-128-ctr", key, iv);
  const zeros = new Uint8Array(length);
  return new Uint8Array(Buffer.concat([cipher.update(zeros), cipher.final()]));
}

/** The session keys of an SRTP stream. */
export interface SrtpSessionKeys {
  cipherKey: Uint8Array;
  cipherSalt: Uint8Array;
  authKey: Uint8Array;
}

/** RFC 3711 4.3.1 key derivation with a key derivation rate of 0 (r = 0), RTP labels 0-2. */
export function deriveSessionKeys(masterKey: Uint8Array, masterSalt: Uint8Array): SrtpSessionKeys {
  if (masterKey.length !== KEY_LENGTH || masterSalt.length !== SALT_LENGTH) {
    throw new Error("SRTP master key must be 16 bytes and salt 14 bytes");
  }
  const derive = (label: number, length: number): Uint8Array => {
    // x = (label || r) XOR master salt, r = 0: the label lands on the salt's 8th byte.
    const iv = new Uint8Array(16);
    iv.set(masterSalt);
    iv[7]! ^= label;
    return aesCmKeystream(masterKey, iv, length);
  };
  return {
    cipherKey: derive(0, KEY_LENGTH),
    authKey: derive(1, AUTH_KEY_LENGTH),
    cipherSalt: derive(2, SALT_LENGTH),
  };
}

/** Bytes of the RTP header (fixed part, CSRCs and extension), or -1 when it is cut short. */
function headerLength(p: Uint8Array): number {
  if (p.length < 12 || (p[0]! >> 6) !== 2) return -1;
  let n = 12 + (p[0]! & 0x0f) * 4;
  if (p[0]! & 0x10) {
    if (p.length < n + 4) return -1;
    n += 4 + ((p[n + 2]! << 8) | p[n + 3]!) * 4;
  }
  return n <= p.length ? n : -1;
}

/**
 * libsrtp's replay database of one SSRC: the highest packet index seen and which of the
 * last WINDOW indexes were seen, with the index of a sequence number estimated from it.
 */
class ReplayWindow {
  /** Highest packet index seen (libsrtp's rdbx index, starting at 0). */
  #index = 0;
  /** Slot index % WINDOW holds the index seen there. */
  readonly #seen = new Float64Array(WINDOW).fill(-1);

  /** The index of `seq`, and how far past the highest it is; undefined for a replayed one. */
  check(seq: number): { index: number; delta: number } | undefined {
    const { index, delta } = this.#estimate(seq);
    if (delta <= 0 && (delta + WINDOW - 1 < 0 || this.#seen[index % WINDOW] === index)) {
      return undefined;
    }
    return { index, delta };
  }

  /** Marks `index` seen (after `check` allowed it and the packet went through). */
  accept(index: number, delta: number): void {
    if (delta > 0) this.#index = index;
    this.#seen[index % WINDOW] = index;
  }

  /** libsrtp's srtp_rdbx_estimate_index. */
  #estimate(seq: number): { index: number; delta: number } {
    const local = this.#index;
    if (local <= SEQ_MEDIAN) return { index: seq, delta: seq - local };
    const localRoc = Math.floor(local / SEQ_MAX);
    const localSeq = local % SEQ_MAX;
    let roc = localRoc;
    let delta = seq - localSeq;
    if (localSeq < SEQ_MEDIAN) {
      if (seq - localSeq > SEQ_MEDIAN) {
        roc = localRoc - 1;
        delta -= SEQ_MAX;
      }
    } else if (localSeq - SEQ_MEDIAN > seq) {
      roc = localRoc + 1;
      delta += SEQ_MAX;
    }
    return { index: roc * SEQ_MAX + seq, delta };
  }
}

/** Session keys and tag length of one AES_CM_128_HMAC_SHA1 policy. */
class SrtpPolicy {
  readonly keys: SrtpSessionKeys;
  readonly tagLength: number;

  constructor(suite: SrtpSuite, master: Uint8Array) {
    if (suite !== 32 && suite !== 80) throw new Error(`Invalid SRTP suite (${suite})`);
    if (master.length < SRTP_MASTER_LENGTH) throw new Error("Invalid SRTP crypto");
    this.keys = deriveSessionKeys(
      master.subarray(0, KEY_LENGTH),
      master.subarray(KEY_LENGTH, SRTP_MASTER_LENGTH),
    );
    this.tagLength = suite / 8;
  }

  /** XORs the payload `packet[header..end)` with the keystream of packet `index` (in place). */
  crypt(packet: Uint8Array, header: number, end: number, index: number): void {
    // IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16), RFC 3711 4.1.1.
    const iv = new Uint8Array(16);
    iv.set(this.keys.cipherSalt);
    for (let i = 0; i < 4; i++) iv[4 + i]! ^= packet[8 + i]!;
    const roc = Math.floor(index / SEQ_MAX);
    const seq = index % SEQ_MAX;
    const indexBytes = [roc >>> 24, roc >>> 16, roc >>> 8, roc, seq >>> 8, seq];
    for (let i = 0; i < 6; i++) iv[8 + i]! ^= indexBytes[i]! & 0xff;
    const stream = aesCmKeystream(this.keys.cipherKey, iv, end - header);
    for (let i = header; i < end; i++) packet[i]! ^= stream[i - header]!;
  }

  /** The tag of the authenticated part `packet[0..end)` of packet `index`. */
  tag(packet: Uint8Array, end: number, index: number): Uint8Array {
    // The tag covers the encrypted packet followed by the rollover counter.
    const rocBytes = new Uint8Array(4);
    new DataView(rocBytes.buffer).setUint32(0, Math.floor(index / SEQ_MAX) >>> 0);
    const digest = createHmac("sha1", this.keys.authKey)
      .update(packet.subarray(0, end))
      .update(rocBytes)
      .digest();
    return new Uint8Array(digest.buffer, digest.byteOffset, this.tagLength);
  }
}

/** The outbound SRTP state of one forwarder (every SSRC it sends shares it, as Janus's). */
export class SrtpSender {
  readonly #policy: SrtpPolicy;
  readonly #window = new ReplayWindow();
  /** Packets refused as a reused or too old index. */
  refused = 0;

  constructor(suite: SrtpSuite, master: Uint8Array) {
    this.#policy = new SrtpPolicy(suite, master);
  }

  /** The SRTP packet of `packet` (not changed), or undefined when it cannot be sent. */
  protect(packet: Uint8Array): Uint8Array | undefined {
    const header = headerLength(packet);
    if (header < 0) return undefined;
    const at = this.#window.check((packet[2]! << 8) | packet[3]!);
    if (!at) {
      this.refused++;
      return undefined;
    }
    this.#window.accept(at.index, at.delta);
    const policy = this.#policy;
    const out = new Uint8Array(packet.length + policy.tagLength);
    out.set(packet);
    policy.crypt(out, header, packet.length, at.index);
    out.set(policy.tag(out, packet.length, at.index), packet.length);
    return out;
  }
}

/**
 * The inbound SRTP state of a source (Streaming's `srtpsuite`/`srtpcrypto`, as the reference's
 * libsrtp policy for any inbound SSRC): each SSRC has its own replay window.
 */
export class SrtpReceiver {
  readonly #policy: SrtpPolicy;
  readonly #windows = new Map<number, ReplayWindow>();
  /** Packets dropped: cut short, failing authentication, or replayed. */
  dropped = 0;

  constructor(suite: SrtpSuite, master: Uint8Array) {
    this.#policy = new SrtpPolicy(suite, master);
  }

  /** The RTP packet of the SRTP `packet` (not changed), or undefined when it is refused. */
  unprotect(packet: Uint8Array): Uint8Array | undefined {
    const policy = this.#policy;
    const header = headerLength(packet);
    const end = packet.length - policy.tagLength;
    if (header < 0 || end < header) return this.#drop();
    const ssrc = ((packet[8]! << 24) | (packet[9]! << 16) | (packet[10]! << 8) | packet[11]!) >>>
      0;
    let window = this.#windows.get(ssrc);
    if (!window) {
      window = new ReplayWindow();
      this.#windows.set(ssrc, window);
    }
    const at = window.check((packet[2]! << 8) | packet[3]!);
    if (!at) return this.#drop();
    const tag = policy.tag(packet, end, at.index);
    let diff = 0;
    for (let i = 0; i < tag.length; i++) diff |= tag[i]! ^ packet[end + i]!;
    if (diff !== 0) return this.#drop();
    window.accept(at.index, at.delta);
    const out = packet.slice(0, end);
    policy.crypt(out, header, end, at.index);
    return out;
  }

  #drop(): undefined {
    this.dropped++;
    return undefined;
  }
}
