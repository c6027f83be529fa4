/**
 * Runs every API case over the WebSocket transport, one fresh gateway per case.
 * HTTP-only cases (`only: "http"`) are not registered here.
 *
 * @module
 */
import { startTestGateway } from "../_helpers/gateway.ts";
import { httpClient, type JanusClient, wsClient } from "../_helpers/janus_client.ts";
import { API_CASES, runsOver } from "./api_cases.ts";

for (const c of API_CASES.filter((c) => runsOver(c, "ws"))) {
  Deno.test(`WS: ${c.name}`, async () => {
    await using gw = await startTestGateway(c.config);
    const clients: JanusClient[] = [];
    try {
      await c.run({
        gw,
        kind: "ws",
        async client(other = "ws") {
          const client = other === "ws" ? await wsClient(gw.wsUrl) : httpClient(gw.httpUrl);
          clients.push(client);
          return client;
        },
      });
    } finally {
      await Promise.all(clients.map((client) => client.close()));
    }
  });
}
