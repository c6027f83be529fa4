/**
 * The demo pages, served on the HTTP API port under `/demo/`: the EchoTest page
 * driven by the official janus.js (npm `janus-gateway`) and webrtc-adapter. The official
 * Janus demos (Debian `janus-demos`) are served under `/demos/` when installed
 * (`demo/official.ts`).
 *
 * @module
 */
import { createRequire } from "node:module";
import type { Context, Hono } from "hono";
import { addOfficialDemoRoutes, DEFAULT_DEMOS_DIR } from "./demo/official.ts";

const PAGES: Record<string, { file: string; type: string }> = {
  "": { file: "echotest.html", type: "text/html; charset=utf-8" },
  "echotest.html": { file: "echotest.html", type: "text/html; charset=utf-8" },
  "echotest.js": { file: "echotest.js", type: "text/javascript; charset=utf-8" },
};

async function libraryFiles(): Promise<Record<string, string>> {
  // Importing the packages' manifests makes Deno install them; the scripts are then read as files.
  await import("janus-gateway/package.json", { with: { type: "json" } });
  await import("webrtc-adapter/package.json", { with: { type: "json" } });
  const require = createRequire(import.meta.url);
  return {
    "janus.js": require.resolve("janus-gateway/npm/src/janus.js"),
    "adapter.js": require.resolve("webrtc-adapter/out/adapter.js"),
  };
}

/**
 * Adds `/demo/*` to the HTTP app, and `/demos/*` (the official demos in `demosDir`, default
 * `/usr/share/janus/demos`, "" for none); the settings point janus.js at this gateway's ports.
 */
export async function addDemoRoutes(
  app: Hono,
  options: { basePath: string; wsPort: () => number | undefined; demosDir?: string },
): Promise<void> {
  addOfficialDemoRoutes(app, {
    dir: options.demosDir ?? DEFAULT_DEMOS_DIR,
    basePath: options.basePath,
    wsPort: options.wsPort,
  });
  const libraries = await libraryFiles();
  const cache = new Map<string, string>();
  const read = async (path: string) => {
    let text = cache.get(path);
    if (text === undefined) {
      text = await Deno.readTextFile(path);
      cache.set(path, text);
    }
    return text;
  };
  const serve = async (c: Context, name: string) => {
    c.header("Cache-Control", "no-cache");
    if (name === "settings.js") {
      const host = new URL(c.req.url).hostname;
      const ws = options.wsPort();
      const settings = {
        httpServer: options.basePath,
        wsServer: ws ? `ws://${host}:${ws}` : null,
      };
      c.header("Content-Type", "text/javascript; charset=utf-8");
      return c.body(`var demoSettings = ${JSON.stringify(settings)};\n`);
    }
    const library = libraries[name];
    if (library) {
      c.header("Content-Type", "text/javascript; charset=utf-8");
      return c.body(await read(library));
    }
    const page = PAGES[name];
    if (!page) return c.body(null, 404);
    c.header("Content-Type", page.type);
    return c.body(await read(new URL(`./demo/${page.file}`, import.meta.url).pathname));
  };
  // One route for both: the router treats a trailing slash as optional (as the reference's
  // paths do), so the page's relative links need the redirect to `/demo/`.
  app.get("/demo", (c) => c.req.path.endsWith("/") ? serve(c, "") : c.redirect("/demo/"));
  app.get("/demo/:file", (c) => serve(c, c.req.param("file")));
}
