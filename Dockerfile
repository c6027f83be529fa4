# The gateway in a container: dependencies are fetched at build time, never at run time.
FROM node:20-bookworm-slim
RUN npm install -g deno@2.9.6 && apt-get update && apt-get install -y --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY deno.json deno.lock ./
COPY . .
# Cache every module (and the npm packages, wrtc and node-datachannel included) into the image.
RUN deno install --entrypoint main.ts core/media/worker_main.ts core/media/rtp/worker_main.ts
ENV JANUS_BIND=0.0.0.0
EXPOSE 8088 8188 7088 7188
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD curl -fs http://127.0.0.1:8088/janus/info >/dev/null || exit 1
STOPSIGNAL SIGTERM
CMD ["deno", "run", "--allow-net", "--allow-read", "--allow-env", "--allow-run", "--allow-write", "--allow-ffi", "--allow-sys", "--cached-only", "main.ts"]
