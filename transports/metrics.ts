/**
 * `GET /metrics`: the gateway's metrics in the Prometheus text format. On the admin listener
 * always (loopback by default); on the API listener when `metrics.public` is set. With
 * `metrics.token` every scrape needs `Authorization: Bearer <token>`.
 *
 * @module
 */
import type { Hono } from "hono";
import type { Gateway } from "../core/gateway.ts";
import { EXPOSITION_CONTENT_TYPE } from "../core/metrics/registry.ts";

/** The path Prometheus scrapes by default. */
export const METRICS_PATH = "/metrics";

/** The `/metrics` reply to `request`: 401 without the configured token. */
export async function metricsResponse(gateway: Gateway, request: Request): Promise<Response> {
  const token = gateway.config.metrics.token;
  if (token !== undefined && request.headers.get("authorization") !== `Bearer ${token}`) {
    return new Response("metrics: bearer token required\n", {
      status: 401,
      headers: { "WWW-Authenticate": 'Bearer realm="metrics"', "Content-Type": "text/plain" },
    });
  }
  return new Response(await gateway.metrics.render(), {
    headers: { "Content-Type": EXPOSITION_CONTENT_TYPE, "Cache-Control": "no-store" },
  });
}

/** Adds `GET /metrics` to a listener's app. */
export function addMetricsRoute(app: Hono, gateway: Gateway): void {
  app.get(METRICS_PATH, (c) => metricsResponse(gateway, c.req.raw));
}
