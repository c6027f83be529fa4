import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { capturePageLog, launchChromium, type PageLog, pollUntil } from "../_helpers/browser.ts";
import { startTestGateway, type TestGateway } from "../_helpers/gateway.ts";

const SECRET = "janusoverlord";

async function post(url: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const res = await fetch(url, { method: "POST", body: JSON.stringify(body) });
  return await res.json() as Record<string, unknown>;
}

/** A session with an EchoTest handle, made over the HTTP API. */
async function echoTestHandle(gw: TestGateway): Promise<{ session: number; handle: number }> {
  const created = await post(gw.httpUrl, { janus: "create", transaction: "c" });
  const session = (created.data as { id: number }).id;
  const attached = await post(`${gw.httpUrl}/${session}`, {
    janus: "attach",
    plugin: "janus.plugin.echotest",
    transaction: "a",
  });
  const handle = (attached.data as { id: number }).id;
  assert.ok(session > 0 && handle > 0, JSON.stringify(attached));
  return { session, handle };
}

async function destroySession(gw: TestGateway, session: number): Promise<void> {
  const reply = await post(`${gw.httpUrl}/${session}`, { janus: "destroy", transaction: "d" });
  assert.equal(reply.janus, "success", JSON.stringify(reply));
}

/** Waits until `selector`'s text satisfies `ok`, and returns it. */
function textOf(
  page: Page,
  log: PageLog,
  selector: string,
  ok: (text: string) => boolean,
): Promise<string> {
  const found = pollUntil(`${selector} to show the expected text`, async () => {
    const node = await page.$(selector);
    const text = node ? (await node.textContent()) ?? "" : undefined;
    // Wrapped: an empty text can be the one expected.
    return text !== undefined && ok(text) ? { text } : undefined;
  }, {
    timeoutMs: 15_000,
    describe: async () => `page text:\n${await page.innerText("body")}\n${log.tail(30)}`,
  });
  return found.then((f) => f.text);
}

/** Nothing left but the watchdog timer, which runs until the gateway stops. */
function assertReleased(gw: TestGateway): void {
  const left = Object.entries(gw.counts()).filter(([name, n]) => n !== 0 && name !== "timers");
  assert.deepEqual(left, []);
}

async function signIn(page: Page, secret: string, token = ""): Promise<void> {
  await page.fill("#secret", secret);
  await page.fill("#token", token);
  await page.click("#connect");
}

Deno.test({
  name: "admin page in Chromium: wrong secret refused, sessions, handle_info, rooms, metrics, " +
    "auto-refresh and sign-out",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using gw = await startTestGateway();
    const { session, handle } = await echoTestHandle(gw);
    const origin = `http://127.0.0.1:${gw.app.ports.adminHttp}`;
    // The page itself is static: no ids in it before the secret is given.
    const html = await (await fetch(`${origin}/admin/ui/`)).text();
    assert.ok(!html.includes(String(session)));
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const log = capturePageLog(page, "admin");
      await page.goto(`${origin}/admin/ui`);
      assert.equal(new URL(page.url()).pathname, "/admin/ui/");

      await signIn(page, "not-the-secret");
      await textOf(page, log, "#error", (t) => t.includes("Error 403: Unauthorized request"));
      assert.equal(await page.isVisible("#main"), false);
      assert.equal(await page.$$eval("#session-list button", (b) => b.length), 0);

      await signIn(page, SECRET);
      await textOf(page, log, `#session-list button[data-session="${session}"]`, Boolean);
      assert.equal(await page.isVisible("#error"), false);
      await page.click(`#session-list button[data-session="${session}"]`);
      await textOf(
        page,
        log,
        `#handle-list button[data-handle="${handle}"]`,
        (t) => t.includes("janus.plugin.echotest"),
      );
      await page.click(`#handle-list button[data-handle="${handle}"]`);
      const infoText = await textOf(page, log, "#handle-info", (t) => t.length > 0);
      const info = JSON.parse(infoText) as Record<string, unknown>;
      assert.equal(info.session_id, session);
      assert.equal(info.handle_id, handle);
      assert.equal(info.plugin, "janus.plugin.echotest");

      // Every plugin was asked for `list`: VideoRoom's stock room is there, EchoTest has none.
      const videoroom = '#room-lists [data-plugin="janus.plugin.videoroom"]';
      await textOf(page, log, `${videoroom} tr[data-room="1234"]`, (t) => t.includes("Demo Room"));
      await page.click(`${videoroom} tr[data-room="1234"]`);
      await textOf(page, log, "#room-detail", (t) => t.includes('"room": 1234'));
      await textOf(page, log, "#room-silent", (t) => t.includes("janus.plugin.echotest"));
      assert.ok(!(await page.isVisible('#room-lists [data-plugin="janus.plugin.echotest"]')));

      await textOf(page, log, '[data-metric="janus_sessions"] .value', (t) => t === "1");
      await textOf(page, log, '[data-metric="janus_handles"] .value', (t) => t === "1");
      await textOf(page, log, "#server-info", (t) => t.includes("janus.plugin.videoroom"));

      // With auto-refresh on, a handle detached elsewhere leaves the page.
      await page.check("#auto");
      const detached = await post(`${gw.httpUrl}/${session}/${handle}`, {
        janus: "detach",
        transaction: "x",
      });
      assert.equal(detached.janus, "success");
      await textOf(page, log, "#handle-list", (t) => t.trim() === "");
      await textOf(page, log, "#handle-info", (t) => t === "");
      await textOf(page, log, '[data-metric="janus_handles"] .value', (t) => t === "0");

      // No script errors, CSP refusals or failed loads on the way.
      const problems = log.lines.filter((l) => /pageerror|error:|requestfailed|http \d/.test(l));
      assert.deepEqual(problems, []);

      // Signing out forgets the secret and clears every view.
      await page.click("#signout");
      assert.equal(await page.isVisible("#main"), false);
      assert.ok(!(await page.innerText("body")).includes(String(session)));
      assert.equal(await page.$$eval("[data-metric]", (t) => t.length), 0);
      await page.close();
    } finally {
      await browser.close();
    }
    await destroySession(gw, session);
    assertReleased(gw);
  },
});

Deno.test({
  name: "admin page in Chromium under another admin base path, with a metrics token: " +
    "a wrong token shows the 401, the right one the gauges",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using gw = await startTestGateway({
      admin: { base_path: "/ops" },
      metrics: { token: "scrape-me" },
    });
    const { session } = await echoTestHandle(gw);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const log = capturePageLog(page, "admin");
      await page.goto(`http://127.0.0.1:${gw.app.ports.adminHttp}/ops/ui/`);

      await signIn(page, SECRET, "wrong-token");
      await textOf(page, log, `#session-list button[data-session="${session}"]`, Boolean);
      await textOf(page, log, "#metrics-error", (t) => t.includes("401"));
      assert.equal(await page.$$eval("[data-metric]", (t) => t.length), 0);

      await page.click("#signout");
      await signIn(page, SECRET, "scrape-me");
      await textOf(page, log, '[data-metric="janus_sessions"] .value', (t) => t === "1");
      assert.equal(await page.isVisible("#metrics-error"), false);
      await textOf(
        page,
        log,
        '[data-metric="janus_plugin_sessions{plugin=\\"janus.plugin.echotest\\"}"] .value',
        (t) => t === "1",
      );
      await page.close();
    } finally {
      await browser.close();
    }
    await destroySession(gw, session);
    assertReleased(gw);
  },
});

Deno.test("admin page routes: redirect, files with a strict CSP, 404s, off with admin.ui false", async () => {
  {
    await using gw = await startTestGateway();
    const ui = `http://127.0.0.1:${gw.app.ports.adminHttp}/admin/ui`;
    const redirect = await fetch(ui, { redirect: "manual" });
    await redirect.body?.cancel();
    assert.equal(redirect.status, 302);
    assert.equal(new URL(redirect.headers.get("location") ?? "", ui).pathname, "/admin/ui/");
    const page = await fetch(`${ui}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
    assert.match(page.headers.get("content-security-policy") ?? "", /script-src 'self'/);
    assert.match(await page.text(), /<script type="module" src="admin.js">/);
    const script = await fetch(`${ui}/admin.js`);
    assert.match(script.headers.get("content-type") ?? "", /^text\/javascript/);
    assert.match(await script.text(), /list_sessions/);
    for (const missing of ["routes.ts", "..%2Froutes.ts", "nothing.js"]) {
      const res = await fetch(`${ui}/${missing}`);
      await res.body?.cancel();
      assert.equal(res.status, 404, missing);
    }
    // The admin API beside it answers as before.
    const status = await post(`http://127.0.0.1:${gw.app.ports.adminHttp}/admin`, {
      janus: "get_status",
      transaction: "s",
      admin_secret: SECRET,
    });
    assert.equal(status.janus, "success");
  }
  {
    await using gw = await startTestGateway({ admin: { ui: false } });
    const res = await fetch(`http://127.0.0.1:${gw.app.ports.adminHttp}/admin/ui/`);
    await res.body?.cancel();
    assert.equal(res.status, 404);
  }
});
