/**
 * Runs every API case over the HTTP transport, one fresh gateway per case.
 * WebSocket-only cases (`only: "ws"`) are not registered here.
 *
 * @module
 */
import { startTestGateway } from "../_helpers/gateway.ts";
import { httpClient, type JanusClient, wsClient } from "../_helpers/janus_client.ts";
import { API_CASES, runsOver } from "./api_cases.ts";

for (const c of API_CASES.filter((c) => runsOver(c, "http"))) {
  Deno.test(`HTTP: ${c.name}`, async () => {
    await using gw = await startTestGateway(c.config);
    const clients: JanusClient[] = [];
    try {
      await c.run({
        gw,
        kind: "http",
        async client(other = "http") {
          const client = other === "http" ? httpClient(gw.httpUrl) : await wsClient(gw.wsUrl);
          clients.push(client);
          return client;
        },
      });
    } finally {
      await Promise.all(clients.map((client) => client.close()));
    }
  });
}
