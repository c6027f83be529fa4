/**
 * The `/demos/` routes (transports/demo/official.ts) on a scratch demos tree: the generated
 * settings per transport, the `javascript` symlink root, and refusals outside the two roots.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Hono } from "hono";
import { addOfficialDemoRoutes, safeSegments } from "../../transports/demo/official.ts";

/** A demos tree: `index.html`, `javascript -> ../js`, `escape -> /etc`, `secret` outside. */
async function scratchTree(): Promise<{ root: string; demos: string }> {
  const root = await Deno.makeTempDir({ prefix: "demos_routes_" });
  const demos = `${root}/demos`;
  await Deno.mkdir(`${demos}/css`, { recursive: true });
  await Deno.mkdir(`${root}/js/lib`, { recursive: true });
  await Deno.writeTextFile(`${demos}/index.html`, "<p>index</p>");
  await Deno.writeTextFile(`${demos}/settings.js`, "var server = 'stock';");
  await Deno.writeTextFile(`${demos}/css/demo.css`, "p{}");
  await Deno.writeTextFile(`${root}/js/lib/lib.js`, "lib();");
  await Deno.writeTextFile(`${root}/secret.txt`, "secret");
  await Deno.symlink("../js", `${demos}/javascript`);
  await Deno.symlink("/etc", `${demos}/escape`);
  await Deno.symlink("../../secret.txt", `${root}/js/lib/secret.txt`);
  return { root, demos };
}

function app(dir: string, ws: "on" | "off" = "on"): Hono {
  const hono = new Hono();
  const wsPort = ws === "on" ? 8188 : undefined;
  addOfficialDemoRoutes(hono, { dir, basePath: "/janus", wsPort: () => wsPort });
  return hono;
}

async function get(
  hono: Hono,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; type: string | null; body: string; location: string | null }> {
  const res = await hono.fetch(new Request(`http://127.0.0.1:8088${path}`, { headers }));
  return {
    status: res.status,
    type: res.headers.get("content-type"),
    body: await res.text(),
    location: res.headers.get("location"),
  };
}

Deno.test("official demos: files from the demos dir and its javascript symlink", async () => {
  const { root, demos } = await scratchTree();
  try {
    const hono = app(demos);
    assert.equal((await get(hono, "/demos")).location, "/demos/");
    assert.equal((await get(hono, "/demos/ws")).location, "/demos/ws/");
    for (const prefix of ["/demos/", "/demos/http/", "/demos/ws/"]) {
      const index = await get(hono, prefix);
      assert.equal(index.status, 200);
      assert.equal(index.body, "<p>index</p>");
      assert.match(index.type ?? "", /^text\/html/);
      const css = await get(hono, `${prefix}css/demo.css`);
      assert.equal(css.body, "p{}");
      assert.match(css.type ?? "", /^text\/css/);
      const lib = await get(hono, `${prefix}javascript/lib/lib.js`);
      assert.equal(lib.body, "lib();");
      assert.match(lib.type ?? "", /^text\/javascript/);
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("official demos: nothing outside the two roots", async () => {
  const { root, demos } = await scratchTree();
  try {
    const hono = app(demos);
    for (
      const path of [
        "/demos/escape/hostname",
        "/demos/javascript/lib/secret.txt",
        "/demos/javascript/..%2F..%2Fsecret.txt",
        "/demos/%2e%2e/secret.txt",
        "/demos/css/..%5C..%5Csecret.txt",
        "/demos/css%00/demo.css",
        "/demos//css/demo.css",
        "/demos/css/",
        "/demos/javascript/lib",
        "/demos/missing.html",
      ]
    ) {
      const res = await get(hono, path);
      assert.equal(res.status, 404, path);
      assert.ok(!res.body.includes("secret"), path);
    }
    assert.equal(safeSegments("a/../b"), undefined);
    assert.equal(safeSegments("a/%2e%2e/b"), undefined);
    assert.equal(safeSegments("a%2Fb"), undefined);
    assert.equal(safeSegments("%E0%A4%A"), undefined);
    assert.deepEqual(safeSegments("a/b%20c.js"), ["a", "b c.js"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("official demos: generated settings.js per transport, no ICE servers", async () => {
  const { root, demos } = await scratchTree();
  try {
    const hono = app(demos);
    const http = await get(hono, "/demos/http/settings.js");
    assert.match(http.type ?? "", /^text\/javascript/);
    assert.match(http.body, /var server = "\/janus";/);
    assert.match(http.body, /var iceServers = \[\];/);
    assert.match(http.body, /var token = null;/);
    assert.match(http.body, /var apisecret = null;/);
    assert.ok(!http.body.includes("stock"));
    const ws = await get(hono, "/demos/ws/settings.js");
    assert.match(ws.body, /var server = .*"ws:\/\/".*window\.location\.hostname \+ ":8188";/);
    assert.match(ws.body, /var iceServers = \[\];/);
    // Unprefixed: the page's `?transport=` from the Referer, HTTP by default.
    assert.match((await get(hono, "/demos/settings.js")).body, /var server = "\/janus";/);
    const viaReferer = await get(hono, "/demos/settings.js", {
      Referer: "http://127.0.0.1:8088/demos/echotest.html?transport=ws",
    });
    assert.match(viaReferer.body, /:8188";/);
    const otherReferer = await get(hono, "/demos/settings.js", {
      Referer: "http://127.0.0.1:8088/demos/echotest.html?transport=http",
    });
    assert.match(otherReferer.body, /var server = "\/janus";/);
    // The prefix wins over the Referer.
    const prefixed = await get(hono, "/demos/http/settings.js", {
      Referer: "http://127.0.0.1:8088/demos/echotest.html?transport=ws",
    });
    assert.match(prefixed.body, /var server = "\/janus";/);
    // WebSockets off: HTTP, with a console warning.
    const noWs = await get(app(demos, "off"), "/demos/ws/settings.js");
    assert.match(noWs.body, /var server = "\/janus";/);
    assert.match(noWs.body, /console\.warn/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("official demos: a missing or empty demos_dir serves nothing", async () => {
  for (const dir of ["/nonexistent/janus/demos", ""]) {
    const hono = app(dir);
    for (const path of ["/demos/", "/demos/settings.js", "/demos/ws/settings.js"]) {
      assert.equal((await get(hono, path)).status, 404, `${dir}: ${path}`);
    }
  }
});
