#!/bin/sh
# Starts the daemon (`npm start`, the fleet benchmark) with what has to be in place before Node
# starts: glibc reads its malloc tunables once, at process start, and nothing in Node can set them
# later. `exec`: this shell becomes the daemon — the same pid, signals and exit status as
# `node --import tsx workers/daemon.ts`, so Ctrl-C, SIGTERM and kill -9 behave as they did.
# Arguments are passed to node before the script (e.g. --cpu-prof).
#
# HALFLIFE_MALLOC_TUNABLES (platform/config.ts `daemon.mallocTunables`, and why): two malloc arenas
# and a fixed 128 KiB mmap and trim threshold. Empty turns it off; a GLIBC_TUNABLES already in the
# environment is left as it is. The services the daemon starts inherit it.
#
# HALFLIFE_WORKFLOW_STACK_TRACES (platform/config.ts `temporal.workflowStackTraces`): false or 0
# preloads platform/temporal-stack-traces-off.cjs, which the workflow threads must have before the
# Temporal SDK installs its promise hook there. Other values are left to the daemon's config check.
set -eu
: "${HALFLIFE_MALLOC_TUNABLES=glibc.malloc.arena_max=2:glibc.malloc.mmap_threshold=131072:glibc.malloc.trim_threshold=131072}"
if [ -n "$HALFLIFE_MALLOC_TUNABLES" ] && [ -z "${GLIBC_TUNABLES:-}" ]; then
  GLIBC_TUNABLES=$HALFLIFE_MALLOC_TUNABLES
  export GLIBC_TUNABLES
fi
# An absolute path: node takes `--require dir/file` without a leading ./ for a package name.
case "${HALFLIFE_WORKFLOW_STACK_TRACES:-}" in
  false | 0) set -- "$@" --require "$(cd "$(dirname "$0")/.." && pwd)/platform/temporal-stack-traces-off.cjs" ;;
esac
exec node "$@" --import tsx "$(dirname "$0")/daemon.ts"
