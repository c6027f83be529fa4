/**
 * AudioBridge (`janus.plugin.audiobridge`): audio conference rooms. Every participant sends one
 * audio stream and receives the mix of everyone else in its room, made in a media worker that
 * decodes its participants' audio (the RTP engine by default, with libopus in WebAssembly; wrtc
 * when configured): a mixer per room, fed by each participant's PeerConnection.
 *
 * @module
 */
import {
  type JsonObject,
  type Plugin,
  PluginError,
  type PluginHost,
  type PluginInfo,
} from "../../core/plugin.ts";
import { AUDIOBRIDGE_ERROR } from "./errors.ts";
import { RoomStore } from "./persist.ts";
import { answerRequest, roomOf, SYNC_REQUESTS } from "./requests.ts";
import { RoomRegistry, STOCK_ROOMS } from "./room.ts";
import {
  AudioBridgeConfig,
  check,
  CREATE_FIELDS,
  REQUEST_FIELD,
  ROOM_OPTIONAL,
} from "./schemas.ts";
import { AudioBridgeSession, type Shared } from "./session.ts";

const INFO: PluginInfo = {
  id: "janus.plugin.audiobridge",
  name: "JANUS AudioBridge plugin",
  description:
    "This is a plugin implementing an audio conference bridge for Janus, mixing Opus streams.",
  author: "Janus-compatible gateway",
  version: 12,
  versionString: "0.0.12",
};

/** Live plugin state, for tests and leak checks. */
export interface AudioBridgeCounts {
  rooms: number;
  participants: number;
  /** Plugin sessions (handles attached to the plugin). */
  sessions: number;
}

/** The AudioBridge plugin, with its live counts. */
export interface AudioBridgePlugin extends Plugin {
  counts(): AudioBridgeCounts;
}

/** Creates a room from a configuration entry; a bad entry stops start-up with its message. */
function configRoom(shared: Shared, entry: JsonObject, saved: boolean): void {
  const ctx = shared.ctx;
  try {
    check(entry, CREATE_FIELDS);
    check(entry, ROOM_OPTIONAL);
    const id = typeof entry.room === "number" && entry.room > 0 ? entry.room : ctx.rooms.freeId();
    const room = roomOf(id, entry);
    ctx.rooms.rooms.delete(id);
    ctx.rooms.add(room);
    if (saved) ctx.store.adopt(room);
  } catch (e) {
    throw new Error(
      `janus.plugin.audiobridge: bad room ${JSON.stringify(entry)}: ${(e as Error).message}`,
    );
  }
}

/** Creates the AudioBridge plugin. */
export function createAudioBridgePlugin(): AudioBridgePlugin {
  const shared: Shared = {
    sessions: new Set(),
    ctx: {
      rooms: new RoomRegistry(),
      store: new RoomStore(undefined),
      adminKey: undefined,
      maxRooms: 1000,
      maxParticipants: 64,
      maxForwarders: 16,
      plainRtp: { ip: "127.0.0.1", portRange: { min: 10000, max: 60000 } },
    },
  };
  return {
    info: INFO,
    async init(raw, host?: PluginHost) {
      const parsed = AudioBridgeConfig.safeParse(raw ?? {});
      if (!parsed.success) {
        throw new Error(`janus.plugin.audiobridge: invalid configuration: ${parsed.error.message}`);
      }
      const config = parsed.data;
      const ctx = shared.ctx;
      ctx.store = new RoomStore(config.rooms_file, host);
      ctx.adminKey = config.admin_key;
      ctx.maxRooms = config.max_rooms;
      ctx.maxParticipants = config.max_participants;
      ctx.maxForwarders = config.max_forwarders;
      ctx.plainRtp = { ip: config.local_ip, portRange: portRangeOf(config.rtp_port_range) };
      // Rooms' mixers are the plugin's own media (they go on in an empty room).
      ctx.rooms.media = host?.media;
      // The configuration's rooms are the saved ones when it is where they are written.
      for (const entry of config.rooms ?? STOCK_ROOMS) {
        configRoom(shared, entry as JsonObject, ctx.store.inConfig);
      }
      for (const entry of await ctx.store.load()) configRoom(shared, entry, true);
    },
    destroy() {
      for (const room of [...shared.ctx.rooms.rooms.values()]) shared.ctx.rooms.remove(room);
      return Promise.resolve();
    },
    createSession(handle) {
      const session = new AudioBridgeSession(handle, shared);
      shared.sessions.add(session);
      return Promise.resolve(session);
    },
    async handleAdminMessage(body, notify) {
      check(body, REQUEST_FIELD);
      const request = (body.request as string).toLowerCase();
      if (!SYNC_REQUESTS.has(request)) {
        throw new PluginError(
          AUDIOBRIDGE_ERROR.INVALID_REQUEST,
          `Unknown request '${body.request as string}'`,
        );
      }
      // No handle: what it tells event handlers carries no ids.
      return await answerRequest(shared.ctx, request, body, { inRoom: false, notify });
    },
    formatError: (error) => ({
      audiobridge: "event",
      error_code: error.code,
      error: error.message,
    }),
    metrics: () => ({
      rooms: shared.ctx.rooms.rooms.size,
      participants: shared.ctx.rooms.participants,
    }),
    counts: () => ({
      rooms: shared.ctx.rooms.rooms.size,
      participants: shared.ctx.rooms.participants,
      sessions: shared.sessions.size,
    }),
  };
}

/** A `"min-max"` port range of the configuration. */
function portRangeOf(text: string): { min: number; max: number } {
  const [min = 0, max = 0] = text.split("-").map(Number);
  if (min < 1 || max > 65535 || min > max) {
    throw new Error(`janus.plugin.audiobridge: bad rtp_port_range "${text}"`);
  }
  return { min, max };
}
