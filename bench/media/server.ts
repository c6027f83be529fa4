/**
 * The servers and the client host as the media benches see them.
 *
 * @module
 */
import type { PidSource } from "./cpu.ts";
import type { ClientEvents, ClientMethods, ReceiverMethods } from "./protocol.ts";
import type { RpcChild } from "./rpc_child.ts";

/** A Janus API server under measurement. */
export interface MediaServer {
  name: "ours" | "reference";
  /** `ws://127.0.0.1:PORT`. */
  wsUrl: string;
  /** Every process whose CPU counts as the server's (ours: gateway + media workers). */
  pids: PidSource;
  /** Waits until the server released every peer (ours: its counts; reference: a pause). */
  idle(): Promise<void>;
}

/** The wrtc client process (EchoTest callers, VideoRoom publisher). */
export type ClientHost = RpcChild<ClientMethods, ClientEvents>;

/** The node-datachannel subscribers' process. */
export type ReceiverHost = RpcChild<ReceiverMethods, ClientEvents>;

/** Where progress lines go. */
export type Log = (line: string) => void;
