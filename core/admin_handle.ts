/**
 * Handle-level admin requests: `handle_info` (in the reference's shape and key
 * order), `hangup_webrtc` and `detach_handle`.
 *
 * @module
 */
import { type AdminRequest, unhandled } from "./admin_common.ts";
import { JanusError } from "./errors.ts";
import type { Gateway } from "./gateway.ts";
import type { Handle } from "./handle.ts";
import { JANUS_ERROR, type Json, type JsonObject } from "./protocol.ts";
import { FIELD, optional } from "./schemas.ts";
import type { PeerInfo } from "./media/types.ts";

/** Every flag the reference reports, in its order; those we do not track stay false. */
const FLAG_ORDER = [
  "got-offer",
  "got-answer",
  "negotiated",
  "processing-offer",
  "starting",
  "ice-restart",
  "ready",
  "stopped",
  "alert",
  "trickle",
  "all-trickles",
  "resend-trickles",
  "trickle-synced",
  "data-channels",
  "has-audio",
  "has-video",
  "new-datachan-sdp",
  "rfc4588-rtx",
  "cleaning",
  "e2ee",
] as const;

/** libwebrtc ICE states in the reference's vocabulary (libnice's); others pass through. */
const ICE_STATE: Readonly<Record<string, string>> = {
  new: "gathering",
  checking: "connecting",
  // libwebrtc's steady state as the controlled side is "connected": the reference's "ready".
  connected: "ready",
  completed: "ready",
  disconnected: "disconnected",
  failed: "failed",
  closed: "disconnected",
};

/** RTCDtlsTransport states in the reference's vocabulary; others pass through. */
const DTLS_STATE: Readonly<Record<string, string>> = {
  new: "created",
  connecting: "trying",
  connected: "connected",
  failed: "failed",
  closed: "closed",
};

/**
 * Answers a handle-level request with the fields that follow `janus`,
 * `session_id` and `transaction` in its success reply.
 *
 * @throws {JanusError} 457 for a request of another level, 463 without a plugin session
 */
export async function handleRequest(
  gateway: Gateway,
  handle: Handle,
  req: AdminRequest,
): Promise<JsonObject> {
  switch (req.name) {
    case "hangup_webrtc":
      if (!handle.pluginSession) {
        throw new JanusError(JANUS_ERROR.PLUGIN_DETACH, "No plugin attached");
      }
      await handle.hangup("Admin API");
      return {};
    case "detach_handle":
      if (!handle.pluginSession) {
        throw new JanusError(JANUS_ERROR.PLUGIN_DETACH, "No plugin to detach from");
      }
      await handle.detach();
      return {};
    case "handle_info": {
      const pluginOnly = optional(req.body, "plugin_only", FIELD.boolean) ?? false;
      return { handle_id: handle.id, info: await handleInfo(gateway, handle, pluginOnly) };
    }
    default:
      throw unhandled(req);
  }
}

/** Monotonic milliseconds as the reference's monotonic microseconds. */
function micros(ms: number): number {
  return Math.round(ms * 1000);
}

/**
 * The `info` object of `handle_info`. With `pluginOnly`, it stops after
 * `plugin_specific` (no flags, SDPs or PeerConnection), as the reference.
 */
export async function handleInfo(
  gateway: Gateway,
  handle: Handle,
  pluginOnly: boolean,
): Promise<JsonObject> {
  const session = handle.session;
  const info: JsonObject = {
    session_id: session.id,
    session_last_activity: micros(session.lastActivity),
    session_timeout: gateway.timeoutOf(session),
  };
  if (session.owner) info.session_transport = session.owner.transport;
  info.handle_id = handle.id;
  if (handle.opaqueId !== undefined) info.opaque_id = handle.opaqueId;
  info["loop-running"] = !handle.closed;
  info.created = micros(handle.createdAt);
  info.current_time = micros(gateway.clock.now());
  const pluginSession = handle.pluginSession;
  if (pluginSession) {
    info.plugin = handle.plugin.info.id;
    try {
      info.plugin_specific = pluginSession.query();
    } catch {
      // A failing query is left out, as the reference ignores an invalid one.
    }
  }
  if (pluginOnly) return info;
  const own = handle.webrtc.flags();
  const flags: JsonObject = {};
  for (const name of FLAG_ORDER) flags[name] = own[name] === true;
  info.flags = flags;
  const peer = handle.webrtc.active ? await handle.webrtc.info() : undefined;
  if (peer) {
    info["ice-mode"] = "full";
    // We answer a client's offer (controlled) or offer ourselves (controlling).
    info["ice-role"] = own["got-offer"] === true ? "controlled" : "controlling";
  }
  info.sdps = sdps(peer);
  info["queued-packets"] = 0;
  if (peer) info.webrtc = webrtcSummary(peer);
  return info;
}

function sdps(peer: PeerInfo | undefined): JsonObject {
  const out: JsonObject = {};
  if (!peer) return out;
  const profile = /^m=\S+ \S+ (\S+)/m.exec(peer.remoteSdp ?? peer.localSdp ?? "")?.[1];
  if (profile) out.profile = profile;
  if (peer.localSdp) out.local = peer.localSdp;
  if (peer.remoteSdp) out.remote = peer.remoteSdp;
  return out;
}

function webrtcSummary(peer: PeerInfo): JsonObject {
  const ice: JsonObject = {
    stream_id: 1,
    component_id: 1,
    state: ICE_STATE[peer.iceState] ?? peer.iceState,
    "local-candidates": [...peer.localCandidates],
    "remote-candidates": [...peer.remoteCandidates],
  };
  if (peer.selectedPair) ice["selected-pair"] = peer.selectedPair;
  const dtls: JsonObject = { "dtls-state": DTLS_STATE[peer.dtlsState] ?? peer.dtlsState };
  return { ice, dtls, stats: toJson(peer.stats) };
}

/** Engine stats as plain JSON (whatever cannot be serialised is dropped). */
function toJson(value: unknown): Json {
  try {
    return JSON.parse(
      JSON.stringify(value ?? {}, (_k, v) => typeof v === "bigint" ? Number(v) : v),
    );
  } catch {
    return {};
  }
}
