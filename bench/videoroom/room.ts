/**
 * A fresh VideoRoom room for one bench run, created with `create` (no secret) on an admin
 * session of its own and destroyed afterwards.
 *
 * @module
 */
import { pluginData, Signal } from "../media/signal.ts";

/** The plugin id. */
export const VIDEOROOM = "janus.plugin.videoroom";

/** A room the bench created. */
export interface BenchRoom {
  id: number;
  /** Destroys the room, then the admin session, then closes its socket (best effort). */
  destroy(): Promise<void>;
}

/** Creates a room with `props` (e.g. `publishers: 300`) on the server at `wsUrl`. */
export async function createRoom(
  wsUrl: string,
  props: Record<string, unknown>,
  timeoutMs: number,
): Promise<BenchRoom> {
  const sig = await Signal.open(wsUrl, timeoutMs);
  try {
    const session = await sig.createSession();
    const handle = await sig.attach(session, VIDEOROOM);
    const id = 100_000 + Math.floor(Math.random() * 800_000_000);
    const created = await sig.message(session, handle, {
      request: "create",
      room: id,
      description: "bench",
      ...props,
    });
    const data = pluginData(created.msg);
    if (data.videoroom !== "created") {
      throw new Error(`create room: ${JSON.stringify(created.msg).slice(0, 300)}`);
    }
    return {
      id,
      async destroy() {
        await sig.message(session, handle, { request: "destroy", room: id }).catch(() => {});
        await sig.destroySession(session);
        await sig.close();
      },
    };
  } catch (e) {
    await sig.close();
    throw e;
  }
}
