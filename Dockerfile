# The gateway in a container: dependencies are fetched at build time, never at run time.
# Stages: deno (the binary only), deps (npm packages from deno.json + deno.lock: rebuilt only
# when those change), app (the sources), then a runtime image without npm caches or test tools.
FROM node:20-bookworm-slim AS deno
RUN npm install -g deno@2.9.6 && install -m 755 "$(npm root -g)/deno/deno" /usr/local/bin/deno \
    && rm -rf "$(npm root -g)/deno" "$(npm root -g)/@deno" /root/.npm

FROM node:20-bookworm-slim AS deps
COPY --from=deno /usr/local/bin/deno /usr/local/bin/deno
ENV DENO_DIR=/deno-dir
WORKDIR /app
COPY deno.json deno.lock ./
# Test-only packages (browser driver, janode, the metrics parser) stay out: drop them from the imports (the lock is
# pruned to match), install the rest into node_modules, and drop the musl build of
# node-datachannel (this is glibc; its package stays, marked installed, so Deno is content).
RUN deno eval 'const c = JSON.parse(Deno.readTextFileSync("deno.json")); \
      for (const k of Object.keys(c.imports)) if (/^(playwright-core|janode|parse-prometheus-text-format)\b/.test(k)) delete c.imports[k]; \
      Deno.writeTextFileSync("deno.json", JSON.stringify(c, null, 2) + "\n");' \
    && deno install && find node_modules/.deno -path '*linux-x64-musl*' -name '*.node' -delete

FROM deps AS app
COPY . /src
# The sources over the trimmed deno.json/deno.lock; then check that every module the gateway,
# its two media workers and the health check load is cached (a miss fails the build here).
RUN cp -a deno.json deno.lock /tmp/ && cp -a /src/. /app/ && cp -a /tmp/deno.json /tmp/deno.lock . \
    && rm -rf /src && deno install --frozen --entrypoint main.ts healthcheck.ts \
      core/media/worker_main.ts core/media/rtp/worker_main.ts \
    && mkdir /out && tar -C /app --exclude=./node_modules -c . | tar -C /out -x

FROM node:20-bookworm-slim
# tini is PID 1: it forwards SIGTERM to the gateway and reaps orphaned processes.
RUN apt-get update && apt-get install -y --no-install-recommends tini \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/*
COPY --from=deno /usr/local/bin/deno /usr/local/bin/deno
# The packages and the sources as two layers: a source change leaves the packages' layer alone.
COPY --from=deps /app/node_modules /app/node_modules
COPY --from=app /out /app
WORKDIR /app
# Runs as the unprivileged `node` user; Deno's cache of compiled modules goes to its home.
USER node
ENV JANUS_BIND=0.0.0.0
EXPOSE 8088/tcp 8188/tcp 7088/tcp 7188/tcp
# Reads JANUS_HTTP_PORT, JANUS_BIND and JANUS_CONFIG as the gateway does.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["deno", "run", "--allow-net", "--allow-env", "--allow-read", "--cached-only", "healthcheck.ts"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["deno", "run", "--allow-net", "--allow-read", "--allow-env", "--allow-run", "--allow-write", "--allow-ffi", "--allow-sys", "--cached-only", "--v8-flags=--min-semi-space-size=4,--max-semi-space-size=4,--memory-saver-mode", "main.ts"]
