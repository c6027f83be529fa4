/**
 * The admin page, served on the admin listener at `<admin base_path>/ui/` (default
 * `/admin/ui/`) when `admin.ui` is on. The page is static and holds no data: it asks for the
 * admin secret and calls the admin API (and `GET /metrics`) with it from the browser.
 *
 * @module
 */
import type { Context, Hono } from "hono";

const FILES: Readonly<Record<string, { file: string; type: string }>> = {
  "": { file: "index.html", type: "text/html; charset=utf-8" },
  "index.html": { file: "index.html", type: "text/html; charset=utf-8" },
  "admin.js": { file: "admin.js", type: "text/javascript; charset=utf-8" },
  "admin.css": { file: "admin.css", type: "text/css; charset=utf-8" },
};

/** Only this origin's scripts, styles and requests; never framed (the page takes a secret). */
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; " +
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "X-Frame-Options": "DENY",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Cache-Control": "no-cache",
};

/** Adds `<base>/ui` (a redirect) and `<base>/ui/<file>` to the admin app. */
export function addAdminPageRoutes(app: Hono, base: string): void {
  const root = `${base}/ui`;
  const cache = new Map<string, string>();
  const serve = async (c: Context, name: string) => {
    const page = FILES[name];
    if (!page) return c.body(null, 404);
    let text = cache.get(page.file);
    if (text === undefined) {
      text = await Deno.readTextFile(new URL(`./${page.file}`, import.meta.url));
      cache.set(page.file, text);
    }
    for (const [key, value] of Object.entries(SECURITY_HEADERS)) c.header(key, value);
    c.header("Content-Type", page.type);
    return c.body(text);
  };
  // The page's relative links need the trailing slash.
  app.get(root, (c) => c.redirect(`${root}/`));
  app.get(`${root}/`, (c) => serve(c, ""));
  app.get(`${root}/:file`, (c) => serve(c, c.req.param("file")));
}
