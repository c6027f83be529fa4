/**
 * A mountpoint's RTP source: bound through the plugin host in a media worker, and bound again
 * on a live worker when its worker dies or is recycled (Janus has no workers: a mountpoint
 * outlives them), with the same streams and the ports it had, so senders need not change.
 *
 * @module
 */
import { createLogger } from "../../core/log.ts";
import type { PluginRtpSource, RtpSourceStream } from "../../core/plugin.ts";
import type { Mountpoint } from "./mountpoint.ts";
import type { StreamingContext } from "./requests.ts";
import { CODECS, type MountpointSpec } from "./spec.ts";
import { abortableSleep } from "../../core/abortable_sleep.ts";

const log = createLogger("streaming");

/** Every mountpoint and viewer of the plugin share one media worker (switch needs it). */
export const AFFINITY = "janus.plugin.streaming";

/** Waits before each new try to bind a lost source again, in ms (then the mountpoint goes). */
export const RESTORE_DELAYS_MS: readonly number[] = [0, 500, 1000, 2000, 4000];

/** The ports a source has bound, which a source bound again takes. */
type Bound = Pick<PluginRtpSource, "ports" | "rtcpPorts" | "layerPorts">;

/** The source streams of `spec`; `bound` (ports, RTCP ports) replaces what was requested. */
function sourceStreams(
  spec: MountpointSpec,
  bound?: Bound,
): RtpSourceStream[] {
  return spec.streams.map((s, i) => {
    const rtcpPort = s.rtcpPort === undefined ? undefined : bound?.rtcpPorts[i] ?? s.rtcpPort;
    return {
      mid: s.mid,
      kind: s.type,
      port: bound?.ports[i] ?? s.port,
      payloadType: s.pt,
      codec: s.codec === "vp8" ? "VP8" : s.codec,
      ...(s.fmtp !== undefined ? { fmtp: s.fmtp } : {}),
      clockRate: CODECS[s.codec]?.clockRate ?? (s.type === "video" ? 90000 : 48000),
      // As the reference offers: the video PT and the next one for its RTX.
      rtxPayloadType: s.type === "video" && s.pt < 127 ? s.pt + 1 : 0,
      ...(s.host !== undefined ? { host: s.host } : {}),
      ...(s.mcast !== undefined ? { multicast: s.mcast } : {}),
      ...(rtcpPort !== undefined ? { rtcpPort } : {}),
      ...(s.rtcpNext ? { rtcpNext: true } : {}),
      ...(s.bufferKf ? { bufferKeyframe: true } : {}),
      ...(s.simulcastPorts
        ? { simulcastPorts: s.simulcastPorts.map((p, l) => bound?.layerPorts[i]?.[l] ?? p) }
        : {}),
      ...(s.binary ? { binary: true } : {}),
      ...(s.bufferMsg ? { bufferMessage: true } : {}),
      ...(spec.file ? { file: spec.file } : {}),
      ...(spec.srtp && s.type !== "data"
        ? { srtp: { suite: spec.srtp.suite, key: spec.srtp.crypto } }
        : {}),
    };
  });
}

/**
 * Binds the source of mountpoint `id` (`bound`: the ports of the source it replaces).
 *
 * @throws {Error} when a port cannot be bound, there is no media engine, or its worker died
 */
export async function openSource(
  ctx: StreamingContext,
  id: number,
  spec: MountpointSpec,
  bound?: Bound,
): Promise<PluginRtpSource> {
  const media = ctx.media;
  if (!media) throw new Error("no media engine is running");
  // Told before createRtpSource resolves when the worker died meanwhile.
  const made: { source?: PluginRtpSource } = {};
  let lostEarly = false;
  made.source = await media.createRtpSource({
    affinity: AFFINITY,
    host: ctx.bindAddress,
    portRange: ctx.portRange,
    streams: sourceStreams(spec, bound),
    onClosed: () => {
      if (made.source) lost(ctx, id, made.source);
      else lostEarly = true;
    },
  });
  if (lostEarly) throw new Error("Worker gone");
  return made.source;
}

/**
 * An on-demand mountpoint's source for one viewer: the file from its start, playing while the
 * viewer's line is open; `onLost` when its media worker dies.
 *
 * @throws {Error} when the file cannot be read, there is no media engine, or its worker died
 */
export async function openViewerSource(
  ctx: StreamingContext,
  spec: MountpointSpec,
  onLost: () => void,
): Promise<PluginRtpSource> {
  const media = ctx.media;
  if (!media) throw new Error("no media engine is running");
  return await media.createRtpSource({
    affinity: AFFINITY,
    host: ctx.bindAddress,
    portRange: ctx.portRange,
    streams: sourceStreams(spec),
    onClosed: onLost,
  });
}

/**
 * The media worker of a mountpoint's source died or was recycled: the viewers it fed end (as
 * when the reference's source ends), and the mountpoint keeps its id and settings while its
 * source is bound again on a live worker.
 */
function lost(ctx: StreamingContext, id: number, source: PluginRtpSource): void {
  const mp = ctx.mountpoints.get(id);
  if (!mp || mp.source !== source) return;
  log.warn(
    `mountpoint ${id}: its RTP source was lost with its media worker ` +
      `(${mp.viewers.size} viewer(s) ended), binding ports ${source.ports.join(",")} again`,
  );
  for (const v of [...mp.viewers]) v.end("stopped");
  const restoring = restore(ctx, mp, source).finally(() => {
    if (mp.restoring === restoring) mp.restoring = undefined;
  });
  mp.restoring = restoring;
}

async function restore(
  ctx: StreamingContext,
  mp: Mountpoint,
  old: PluginRtpSource,
): Promise<void> {
  const bound = { ports: old.ports, rtcpPorts: old.rtcpPorts, layerPorts: old.layerPorts };
  const picked = mp.spec.streams.some((s) =>
    s.port === 0 || s.rtcpPort === 0 || s.simulcastPorts?.includes(0)
  );
  let error = "";
  for (const [attempt, delay] of RESTORE_DELAYS_MS.entries()) {
    if (delay > 0) await abortableSleep(delay, ctx.stopped);
    if (ctx.mountpoints.get(mp.id) !== mp) return; // destroyed (or the plugin stopped) meanwhile
    // Picked ports are kept if they can be bound again; else (last try) new ones are picked.
    const last = attempt === RESTORE_DELAYS_MS.length - 1;
    try {
      const source = await openSource(ctx, mp.id, mp.spec, last && picked ? undefined : bound);
      if (ctx.mountpoints.get(mp.id) !== mp) {
        await source.close();
        return;
      }
      mp.replaceSource(source);
      ctx.restored++;
      log.info(
        `mountpoint ${mp.id}: RTP source bound again on ports ${source.ports.join(",")}`,
      );
      return;
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
      log.verbose(`mountpoint ${mp.id}: binding its source again failed: ${error}`);
    }
  }
  if (ctx.mountpoints.get(mp.id) !== mp) return;
  log.error(`mountpoint ${mp.id} removed: its RTP source could not be bound again (${error})`);
  ctx.mountpoints.delete(mp.id);
  for (const v of [...mp.viewers]) v.end("stopped");
}
