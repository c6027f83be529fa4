/**
 * The end of a bench child gateway: it answers its parent's calls on stdin until stdin ends,
 * then stops gracefully.
 *
 * @module
 */

/** Serves stdin until it ends, then stops `app` (exit 1 when that takes over 8 s) and exits. */
export async function serveUntilStdinEnds(
  server: { serve(readable: ReadableStream<Uint8Array>): Promise<void> },
  app: { stop(): Promise<void> },
): Promise<never> {
  await server.serve(Deno.stdin.readable);
  const force = setTimeout(() => Deno.exit(1), 8000);
  await app.stop();
  clearTimeout(force);
  Deno.exit(0);
}
