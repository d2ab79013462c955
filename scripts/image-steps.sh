#!/bin/sh
# The container image's steps, one command each. The Dockerfile runs them (RUN, CMD, HEALTHCHECK), and CI runs them on
# the host with `verify` (no Docker engine there), so the image and what is tested cannot drift apart.
#
#   sh scripts/image-steps.sh install | build | prune | start | probe | worker [options] | verify
set -eu

case "${1:-}" in
  install) npm ci --no-audit --no-fund ;;
  build) npm run build ;;
  prune) npm prune --omit=dev --no-audit --no-fund ;;
  start) exec node dist/swarmd.js ;;
  # The example worker (docker-compose.yml's worker service), with its options: e.g. worker --adopt --shell.
  worker)
    shift
    exec node scripts/example-worker.mjs "$@"
    ;;
  probe)
    if [ -n "${SWARMD_TLS_CA:-}" ]; then
      # Mutual TLS: the protocol port wants a client certificate the probe does not have; the HTTP side port's /ready
      # answers 200 only while the daemon serves.
      exec node -e '
        const port = process.env.SWARMD_HTTP_PORT || "9501";
        if (port === "0") { console.error("probe: with SWARMD_TLS_CA the probe needs the HTTP port (SWARMD_HTTP_PORT is 0)"); process.exit(1); }
        fetch(`http://127.0.0.1:${port}/ready`, { signal: AbortSignal.timeout(Number(process.env.PROBE_TIMEOUT || 3) * 1000) })
          .then((r) => process.exit(r.ok ? 0 : 1), (e) => { console.error(`probe: ${e.message}`); process.exit(1); });'
    fi
    # With TLS configured the probe still checks the protocol port, without verifying our own certificate.
    if [ -n "${SWARMD_TLS_CERT:-}" ]; then set -- --tls-insecure; else set --; fi
    exec node dist/src/cli/swarmctl.js ping --timeout "${PROBE_TIMEOUT:-3}" "$@"
    ;;
  verify)
    # The image built on the host: copy what the Dockerfile copies from the build context, run its steps with its
    # ENV (the database and ports moved somewhere free), then probe the running daemon as HEALTHCHECK does.
    root=$(cd "$(dirname "$0")/.." && pwd)
    work=$(mktemp -d)
    trap 'kill $pid $wpid 2>/dev/null || true; rm -rf "$work"' EXIT
    pid=""
    wpid=""
    # COPY <sources…> <dest> from the build context (relative to WORKDIR): directories merge into dest, files land
    # in dest when it ends with "/" (or names several sources), else become dest.
    grep -E '^COPY [^-]' "$root/Dockerfile" | while read -r _ args; do
      set -- $args
      n=$#
      eval "dest=\${$n}"
      i=1
      for src in "$@"; do
        [ "$i" -eq "$n" ] && break
        i=$((i + 1))
        if [ -d "$root/$src" ]; then
          mkdir -p "$work/$dest" && cp -R "$root/$src/." "$work/$dest/"
        else
          case "$dest" in
            */ | .) mkdir -p "$work/$dest" && cp "$root/$src" "$work/$dest" ;;
            *) if [ "$n" -gt 2 ]; then mkdir -p "$work/$dest" && cp "$root/$src" "$work/$dest/"; else mkdir -p "$work/$(dirname "$dest")" && cp "$root/$src" "$work/$dest"; fi ;;
          esac
        fi
      done
    done
    cd "$work"
    sh scripts/image-steps.sh install
    sh scripts/image-steps.sh build
    sh scripts/image-steps.sh prune
    test ! -d node_modules/typescript || { echo "verify: prune left development dependencies" >&2; exit 1; }
    for kv in $(grep -E '^ENV ' "$root/Dockerfile" | sed 's/^ENV //'); do export "$kv"; done
    export SWARMD_DB="$work/data/swarmd.db" MCP_TCP_PORT="${VERIFY_PORT:-19500}" SWARMD_HTTP_PORT="${VERIFY_HTTP_PORT:-19501}" SWARMD_PROTECTED=0
    sh scripts/image-steps.sh start &
    pid=$!
    for _ in $(seq 1 50); do
      if sh scripts/image-steps.sh probe >/dev/null 2>&1; then
        echo "verify: the image's steps built, started and answered the probe"
        # The worker step, as the compose file runs it, works for an agent spawned after it started.
        sh scripts/image-steps.sh worker --adopt --shell --heartbeat 0.2 2>"$work/worker.log" &
        wpid=$!
        ctl() { node dist/src/cli/swarmctl.js "$@"; }
        ctl swarm init >/dev/null
        ctl agent spawn coder >/dev/null
        if out=$(timeout 30 node dist/src/cli/swarmctl.js task run "echo worked" --wait --json 2>&1) &&
          case "$out" in *'"stdout":"worked\n"'*) true ;; *) false ;; esac; then
          echo "verify: the worker step ran a task"
        else
          echo "verify: the worker step ran no task: $out; its log: $(cat "$work/worker.log")" >&2
          exit 1
        fi
        kill "$wpid"
        wpid=""
        kill -TERM "$pid"
        wait "$pid"
        exit 0
      fi
      sleep 0.2
    done
    echo "verify: the started daemon never answered the probe" >&2
    exit 1
    ;;
  *)
    echo "usage: sh scripts/image-steps.sh install|build|prune|start|probe|worker [options]|verify" >&2
    exit 2
    ;;
esac
