/**
 * The Streaming bench's feed: a 10 s clip encoded once by ffmpeg (Debian's) before the
 * measurements — camera-like 640x480 VP8 at 30 fps (testsrc with temporal noise, about 1.5
 * Mbit/s, a keyframe every 30 frames) and an Opus 440 Hz sine — then sent in a loop by one
 * ffmpeg in real time without re-encoding (VP8 PT 100, Opus PT 111), each stream duplicated by
 * the tee muxer to every server's mountpoint ports on loopback. Every server forwards the very
 * same packets, and the pace does not depend on an encoder keeping up on a busy machine.
 *
 * @module
 */

/** A mountpoint's receiving ports. */
export interface FeedTarget {
  videoPort: number;
  audioPort: number;
}

/** Settings of the clip. */
export interface FeedOptions {
  width: number;
  height: number;
  /** Video bitrate in kbit/s. */
  kbps: number;
}

/** ffmpeg's arguments to encode the clip into `path` (WebM). */
export function clipArgs(path: string, options: FeedOptions): string[] {
  const { width, height, kbps } = options;
  return [
    ...["-hide_banner", "-loglevel", "error", "-y"],
    // Temporal noise: every frame differs, as a camera's would, so the encoder needs the bits.
    ...["-f", "lavfi", "-i", `testsrc=size=${width}x${height}:rate=30,noise=alls=12:allf=t+u`],
    ...["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "10"],
    ...["-map", "0:v", "-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8"],
    ...["-b:v", `${kbps}k`, "-minrate", `${kbps}k`, "-maxrate", `${kbps}k`],
    ...["-bufsize", `${kbps}k`, "-g", "30"],
    ...["-map", "1:a", "-c:a", "libopus", "-b:a", "48k", path],
  ];
}

/**
 * Encodes the clip into a new temporary directory; resolves its path and a function that
 * removes it.
 *
 * @throws {Error} when ffmpeg fails
 */
export async function prepareClip(
  options: FeedOptions,
): Promise<{ path: string; remove(): Promise<void> }> {
  const dir = await Deno.makeTempDir({ prefix: "bench-streaming-" });
  const remove = () => Deno.remove(dir, { recursive: true }).catch(() => {});
  const path = `${dir}/clip.webm`;
  const out = await new Deno.Command("ffmpeg", {
    args: clipArgs(path, options),
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output().catch((e: Error) => ({
    success: false,
    stderr: new TextEncoder().encode(e.message),
  }));
  if (!out.success) {
    await remove();
    throw new Error(`ffmpeg could not encode the clip: ${new TextDecoder().decode(out.stderr)}`);
  }
  return { path, remove };
}

/** ffmpeg's arguments to send the clip at `path` in a loop to `targets`. */
export function feedArgs(path: string, targets: readonly FeedTarget[]): string[] {
  const tee = (pt: number, port: (t: FeedTarget) => number) =>
    targets.map((t) => `[f=rtp:payload_type=${pt}]rtp://127.0.0.1:${port(t)}`).join("|");
  return [
    ...["-hide_banner", "-loglevel", "error", "-re", "-stream_loop", "-1", "-i", path],
    ...["-map", "0:v", "-c", "copy", "-f", "tee", tee(100, (t) => t.videoPort)],
    ...["-map", "0:a", "-c", "copy", "-f", "tee", tee(111, (t) => t.audioPort)],
  ];
}

/** A running feed. */
export interface Feed {
  pid: number;
  /** Stops ffmpeg (SIGTERM, SIGKILL after 3 s) and waits for it. */
  stop(): Promise<void>;
}

/** Starts ffmpeg sending the clip at `path` to `targets`; its error lines go to `log`. */
export function startFeed(
  path: string,
  targets: readonly FeedTarget[],
  log: (line: string) => void,
): Feed {
  const child = new Deno.Command("ffmpeg", {
    args: feedArgs(path, targets),
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = (async () => {
    const decoder = new TextDecoderStream();
    let rest = "";
    for await (const chunk of child.stderr.pipeThrough(decoder)) {
      const lines = (rest + chunk).split("\n");
      rest = lines.pop() ?? "";
      for (const line of lines) if (line.trim()) log(`    [ffmpeg] ${line}`);
    }
  })().catch(() => {});
  let stopped: Promise<void> | undefined;
  return {
    pid: child.pid,
    stop: () =>
      stopped ??= (async () => {
        const kill = (signal: Deno.Signal) => {
          try {
            child.kill(signal);
          } catch {
            // Already gone.
          }
        };
        kill("SIGTERM");
        const timer = setTimeout(() => kill("SIGKILL"), 3000);
        await child.status;
        clearTimeout(timer);
        await stderr;
      })(),
  };
}
