#!/bin/bash
# Where a connection's time goes on the uring path, against dturing and dtchain: each server on
# loopback under `dtload -c 64 -d 5 -t 2`, its CPU per connection from schedstat over the same window,
# perf's cpu-clock samples (this guest has no hardware PMU) split kernel / user and by symbol, and its
# system calls by tracepoint. Two rounds, alternating. Root (perf on another process); bounded: 5 s of
# load per server and round. Every server it starts is ended, also on failure or Ctrl-C.
#   bench/perf-profile.sh [OUT_DIR]      (default /tmp/daytime-perf-profile)
#   then: perf report -i OUT_DIR/serve-uring-1.data --no-children --sort dso
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
P=${DAYTIME_PERF_DIR:-$ROOT/../shared/perf}
OUT=${1:-/tmp/daytime-perf-profile}
mkdir -p "$OUT" && rm -f "$OUT/summary"
export PATH=$ROOT/node_modules/.bin:$PATH
make -s -C "$P" dtload dturing dtchain || exit 1
started=()
trap 'for p in "${started[@]}"; do kill -TERM "$p" 2>/dev/null; done' EXIT INT TERM
sched() { local t=0 a b c; for f in /proc/$1/task/*/schedstat; do read -r a b c < "$f"; t=$((t + a)); done; echo $t; }
run() {
  local name=$1 port=$2; shift 2
  "$@" >/dev/null 2>&1 & local pid=$!
  started+=("$pid")
  sleep 1.5
  "$P/dtload" -h 127.0.0.1 -p "$port" -c 64 -d 1 -t 2 -q >/dev/null 2>&1   # warm-up
  local s0; s0=$(sched "$pid")
  perf record -q -e cpu-clock -F 1999 -g -p "$pid" -o "$OUT/$name.data" -- sleep 4.5 >/dev/null 2>&1 &
  local rec=$!
  perf stat -x, -e raw_syscalls:sys_enter,syscalls:sys_enter_io_uring_enter,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_epoll_pwait,syscalls:sys_enter_read,syscalls:sys_enter_write \
    -p "$pid" -o "$OUT/$name.stat" -- sleep 4.5 >/dev/null 2>&1 &
  local st=$!
  local conns; conns=$("$P/dtload" -h 127.0.0.1 -p "$port" -c 64 -d 5 -t 2 2>&1 | sed -n 's/^conns=\([0-9]*\).*/\1/p')
  local s1; s1=$(sched "$pid")
  wait "$rec" "$st"
  kill -TERM "$pid"; wait "$pid" 2>/dev/null
  local kernel; kernel=$(perf report -i "$OUT/$name.data" --stdio --no-children -g none --sort dso 2>/dev/null | sed -n 's/^ *\([0-9.]*\)%  \[kernel.kallsyms\].*/\1/p')
  echo "$name: $(( (s1 - s0) / conns )) ns/conn over $conns connections; kernel ${kernel}% of the samples" | tee -a "$OUT/summary"
}
for round in 1 2; do
  run "dturing-$round" 17001 "$P/dturing" -a 127.0.0.1 -p 17001 -b 511
  run "dtchain-$round" 17002 "$P/dtchain" -a 127.0.0.1 -p 17002 -b 511 -s 8
  run "serve-uring-$round" 17003 "$ROOT/dist/cli.js" serve --host 127.0.0.1 --port 17003 --quiet --accept uring
done
