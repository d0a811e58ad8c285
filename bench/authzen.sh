#!/usr/bin/env bash
# The AuthZEN decision endpoint under load: Latchkey serving examples/authzen-interop (todo, API
# gateway and search policies, 14 in all), the todo scenario's requests (bench/authzen-eval.lua).
# Figures are in docs/benchmarks.md ("Decisions (AuthZEN / Cedar)").
#
# Three servers run side by side, each pinned to CPU 0: one with the decision cache off
# (`cache = false` added to a copy of the example's configuration), one with it on (the default),
# and one with the cache off and `batch_prefetch = false` (for batch-noprefetch).
# wrk runs on CPU 1, one thread. Runs alternate between scenarios, RUNS times each:
#   off-pool   cache off, every request distinct (1000 todo ids × subjects × actions × owners)
#   off-fresh  cache off, every request names a todo id the server has never seen
#   on-hot     cache on, HOT_SET (16) requests repeated
#   on-fresh   cache on, every request new (a miss, then an insert, each time)
#   batch      cache off, one connection, BATCH (100) fresh items per /access/v1/evaluations
#   batch-pool the same with the pool's todo ids (known to the entity directory)
#   batch-noprefetch  batch against a third cache-off server with `batch_prefetch = false`
#              (each unseen id read on its own), the A/B of the batch's one-query read
#   intro-hot  not a decision: RFC 7662 introspection of one hot access token on the cache-on
#              server, right after on-hot, so that a hot decision is compared with the cheapest
#              authenticated POST the server answers (what hyper, the middleware and loopback TCP
#              cost on this machine at this moment)
# The first four and intro-hot at CONNECTIONS (64) connections.
#
# usage: bench/authzen.sh [SECONDS] [RUNS]        (defaults: 10 s, 3 runs)
# env:   OFF_PORT (13300), ON_PORT (13301), NOPF_PORT (13302), CONNECTIONS (64), POOL (1000), HOT_SET (16),
#        BATCH (100), WARMUP_SECS (min(3, SECONDS)), LATCHKEY_BIN (a binary to measure instead
#        of building target/release/latchkey), QUIET_MAX_SECS (120: how long a run may wait for
#        the machine to fall idle; 0 to never wait).
# Shared machines: before each run the script waits until both CPUs are idle (other processes
# below 15% over a second), at most QUIET_MAX_SECS; the row then says `busy`. Each row also
# gives the server's CPU share over the run (from /proc) and requests per server-CPU-second,
# which holds better than req/s when another process took part of CPU 0.
# Results: bench/results/<UTC time>-authzen/ (summary.md, runs.tsv, raw/, server logs, configs).
# Exit status: 0 when every run completed with 0 errors, 1 otherwise.
set -euo pipefail

secs=${1:-10}
runs=${2:-3}
[[ $secs =~ ^[1-9][0-9]*$ && $runs =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [SECONDS] [RUNS]" >&2; exit 2; }

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
example=$repo/examples/authzen-interop
off_port=${OFF_PORT:-13300}
on_port=${ON_PORT:-13301}
nopf_port=${NOPF_PORT:-13302}
conns=${CONNECTIONS:-64}
pool=${POOL:-1000}
hot_set=${HOT_SET:-16}
batch=${BATCH:-100}
warmup=${WARMUP_SECS:-$((secs < 3 ? secs : 3))}
quiet_max=${QUIET_MAX_SECS:-120}
hz=$(getconf CLK_TCK)
server_cpu=0
load_cpu=1

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=$repo/bench/results/$stamp-authzen
mkdir -p "$out/raw"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/latchkey-authzen.XXXXXX")
results=$out/runs.tsv
printf 'scenario\trun\trps\tp50_ms\tp99_ms\terrors\tallowed_pct\tmean_ms\twrk_cpu\tserver_cpu\trps_per_cpu\tnote\n' >"$results"

say() { printf '%s\n' "$*" | tee -a "$out/log.txt" >&2; }
die() { say "error: $*"; exit 1; }

# --- everything started here is stopped on exit, by PID ------------------------------------
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- tools ---------------------------------------------------------------------------------
if ! command -v wrk >/dev/null; then
  say "installing wrk"
  if [[ $(id -u) == 0 ]]; then apt-get install -y wrk >/dev/null; else sudo apt-get install -y wrk >/dev/null; fi
fi
for t in taskset curl openssl; do command -v "$t" >/dev/null || die "$t is required"; done
[[ -x /usr/bin/time ]] || die "/usr/bin/time is required (package time): it tells whether wrk was the limit"
(($(nproc) >= 2)) || die "needs 2 cores: servers on CPU $server_cpu, wrk on CPU $load_cpu"

if [[ -n ${LATCHKEY_BIN:-} ]]; then
  latchkey=$LATCHKEY_BIN
else
  say "building (release)"
  nice -n 19 cargo build --release -p latchkey >"$out/build.log" 2>&1 ||
    { tail -n 40 "$out/build.log" >&2; die "the build failed (log: $out/build.log)"; }
  latchkey=$repo/target/release/latchkey
fi

for port in "$off_port" "$on_port" "$nopf_port"; do
  if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/"; then die "port $port is already in use"; fi
done

# --- helpers -------------------------------------------------------------------------------
wait_for() {
  local name=$1 pid=$2 logf=$3 url=$4 i
  for ((i = 0; i < 3000; i++)); do
    kill -0 "$pid" 2>/dev/null || { tail -n 20 "$logf" >&2; die "$name exited during start-up (log: $logf)"; }
    [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" || true) == 200 ]] && return 0
    sleep 0.1
  done
  die "$name did not answer 200 at $url within 300 s (log: $logf)"
}

# load LABEL SECONDS CONNECTIONS URL [VAR=value…]: wrk pinned to the load CPU, its CPU time kept.
load() {
  local label=$1 d=$2 c=$3 url=$4
  shift 4
  env "$@" KEY="$pep_key" POOL="$pool" HOT_SET="$hot_set" BATCH="$batch" RUN="$stamp-$label" \
    /usr/bin/time -f 'wrk_cpu_s %U %S' taskset -c "$load_cpu" \
    wrk -s bench/authzen-eval.lua -t1 -c"$c" -d"${d}s" --latency "$url" >"$out/raw/$label.txt" 2>&1 || true
}

# cpu_ticks PID: user + system time of a process, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# busy_share: the share of both CPUs busy over one second (nothing of ours runs meanwhile).
busy_share() {
  local a b
  a=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat)
  sleep 1
  b=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat)
  awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " "); t = y[2] - x[2]; printf "%.2f", (t > 0 ? (y[1] - x[1]) / t : 0) }'
}

# wait_quiet: until other processes leave both CPUs idle (< 15%), at most QUIET_MAX_SECS.
# Prints nothing when quiet, else `busy`.
wait_quiet() {
  local waited=0 share
  while :; do
    share=$(busy_share)
    awk -v s="$share" 'BEGIN { exit !(s < 0.15) }' && return 0
    ((waited >= quiet_max)) && { say "  the machine is still busy (${share} of both CPUs) after ${waited} s: measuring anyway"; echo busy; return 0; }
    sleep 4
    waited=$((waited + 5))
  done
}

# measure SCENARIO RUN CONNECTIONS URL SERVER_PID [VAR=value…]: one measured run, appended to runs.tsv.
measure() {
  local scenario=$1 run=$2 c=$3 url=$4 spid=$5 label line cpu scpu t0 t1 note
  shift 5
  label=$scenario-$run
  note=$(wait_quiet)
  t0=$(cpu_ticks "$spid")
  load "$label" "$secs" "$c" "$url" "$@"
  t1=$(cpu_ticks "$spid")
  line=$(grep -m1 '^rps ' "$out/raw/$label.txt" || true)
  [[ -n $line ]] || { cat "$out/raw/$label.txt" >&2; die "$label: wrk gave no summary (raw: $out/raw/$label.txt)"; }
  # wrk's share of its CPU over the run: near 1.00, the load generator may be the limit.
  cpu=$(awk -v d="$secs" '/^wrk_cpu_s / { printf "%.2f", ($2 + $3) / d }' "$out/raw/$label.txt")
  # The server's: well below 1.00 while wrk is not the limit, something else had CPU 0.
  scpu=$(awk -v t=$((t1 - t0)) -v hz="$hz" -v d="$secs" 'BEGIN { printf "%.2f", t / hz / d }')
  # shellcheck disable=SC2086
  set -- $line
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.0f\t%s\n' "$scenario" "$run" "$2" "$4" "$6" "$8" "${10}" "${12}" \
    "$cpu" "$scpu" "$(awk -v r="$2" -v s="$scpu" 'BEGIN { print (s > 0 ? r / s : 0) }')" "$note" >>"$results"
  say "  $label: $line wrk_cpu $cpu server_cpu $scpu${note:+ ($note)}"
}

# --- machine load ---------------------------------------------------------------------------
read -r load1 load5 load15 _ </proc/loadavg
say "load average at start: $load1 $load5 $load15"
if awk -v l="$load1" 'BEGIN { exit !(l > 0.5) }'; then
  say "WARNING: 1-minute load $load1 > 0.5: the machine is busy and figures will be low and noisy"
fi

# --- the two servers, each pinned to the server CPU ----------------------------------------
# The example's configuration, its file names made absolute; the cache-off copy gets
# `cache = false` in its [authz] section.
config() {
  sed -E "s#\"([^\"/]+\\.(cedarschema|cedar|json))\"#\"$example/\\1\"#g" "$example/latchkey.toml"
}
config | sed -E 's/^\[authz\]$/[authz]\ncache = false/' >"$tmp/cache-off.toml"
config | sed -E 's/^\[authz\]$/[authz]\ncache = false\nbatch_prefetch = false/' >"$tmp/cache-off-nopf.toml"
# The cache-on server also serves introspection (intro-hot): a resource, a client allowed to
# introspect for it, and tokens that outlive the runs.
resource=urn:example:authzen-bench
client_secret=$(openssl rand -base64 32 | tr '+/' '-_' | tr -d '=\n')
{
  config
  cat <<EOF

[tokens]
access_token_ttl = "1h"

[[resources]]
identifier = "$resource"
name = "Benchmark API"
scopes = [{ name = "api:read", description = "Read" }]
introspection_clients = ["bench"]

[[clients]]
id = "bench"
type = "confidential"
secret = { env = "BENCH_CLIENT_SECRET" }
auth_method = "client_secret_basic"
grant_types = ["client_credentials"]
scopes = ["api:read"]
audiences = ["$resource"]
EOF
} >"$tmp/cache-on.toml"
grep -q '^cache = false$' "$tmp/cache-off.toml" || die "could not turn the cache off in the configuration"
grep -q '^batch_prefetch = false$' "$tmp/cache-off-nopf.toml" || die "could not turn the batch prefetch off"
cp "$tmp/cache-off.toml" "$tmp/cache-on.toml" "$tmp/cache-off-nopf.toml" "$out/"

pep_key=$(openssl rand -hex 24)
master_key=$("$latchkey" key generate-master-key)
start() {
  local name=$1 port=$2
  mkdir -p "$tmp/$name-data"
  AUTHZEN_PDP_API_KEY=$pep_key LATCHKEY_MASTER_KEY=$master_key BENCH_CLIENT_SECRET=$client_secret \
    taskset -c "$server_cpu" "$latchkey" serve --config "$tmp/$name.toml" --data-dir "$tmp/$name-data" \
    --listen "127.0.0.1:$port" >"$out/$name.log" 2>&1 &
  pids+=($!)
  server_pid=$!
  wait_for "Latchkey ($name)" "$server_pid" "$out/$name.log" "http://127.0.0.1:$port/readyz"
}
say "starting Latchkey with the decision cache off on :$off_port and on on :$on_port (both on CPU $server_cpu)"
start cache-off "$off_port"
off_pid=$server_pid
start cache-on "$on_port"
on_pid=$server_pid
start cache-off-nopf "$nopf_port"
nopf_pid=$server_pid
nopf=http://127.0.0.1:$nopf_port
off=http://127.0.0.1:$off_port
on=http://127.0.0.1:$on_port

# Each server decides before anything is measured: Morty (an editor) may update his own todo.
for url in "$off" "$on"; do
  answer=$(curl -s -H "Authorization: $pep_key" -H 'Content-Type: application/json' \
    -d '{"subject":{"type":"user","id":"CiRmZDE2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs"},"action":{"name":"can_update_todo"},"resource":{"type":"todo","id":"t1","properties":{"ownerID":"morty@the-citadel.com"}}}' \
    "$url/access/v1/evaluation")
  [[ $answer == '{"decision":true}' ]] || die "$url did not allow Morty's update of his own todo: $answer"
done

# The hot token for intro-hot, from the cache-on server.
client_auth="Basic $(printf 'bench:%s' "$client_secret" | base64 -w0)"
hot_token=$(curl -s -H "Authorization: $client_auth" -d grant_type=client_credentials -d scope=api:read \
  --data-urlencode "resource=$resource" "$on/token" | sed -nE 's/.*"access_token":"([^"]+)".*/\1/p')
[[ -n $hot_token ]] || die "could not get an access token from the cache-on server for intro-hot"

# --- runs ----------------------------------------------------------------------------------
say "warm-up: ${warmup} s of distinct requests per server (fills the entity directory with the pool's ids)"
load warmup-off "$warmup" "$conns" "$off" MODE=pool
load warmup-on "$warmup" "$conns" "$on" MODE=pool
load warmup-nopf "$warmup" "$conns" "$nopf" MODE=pool

say "${runs} × ${secs} s per scenario, alternating; wrk -t1 -c$conns (batch: -c1)"
for ((r = 1; r <= runs; r++)); do
  measure off-pool "$r" "$conns" "$off" "$off_pid" MODE=pool
  measure off-fresh "$r" "$conns" "$off" "$off_pid" MODE=fresh
  measure on-hot "$r" "$conns" "$on" "$on_pid" MODE=hot
  measure intro-hot "$r" "$conns" "$on" "$on_pid" MODE=introspect AUTH="$client_auth" TOKEN="$hot_token"
  measure on-fresh "$r" "$conns" "$on" "$on_pid" MODE=fresh
  measure batch "$r" 1 "$off" "$off_pid" MODE=batch
  measure batch-noprefetch "$r" 1 "$nopf" "$nopf_pid" MODE=batch
  measure batch-pool "$r" 1 "$off" "$off_pid" MODE=batch-pool
done

read -r load1 load5 load15 _ </proc/loadavg
say "load average at the end: $load1 $load5 $load15"

# --- medians and targets --------------------------------------------------------------------
summary=$(awk -F'\t' -v secs="$secs" -v runs="$runs" -v conns="$conns" -v when="$stamp" -v batch="$batch" '
  function median(list,   a, n, i, j, t) {
    n = split(list, a, " ")
    for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return n % 2 ? a[(n + 1) / 2] + 0 : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  function verdict(ok) { return ok ? "yes" : "**no**" }
  NR == 1 { next }
  {
    k = $1
    if (!(k in rps)) order[++n] = k
    rps[k] = rps[k] " " $3; p50[k] = p50[k] " " $4; p99[k] = p99[k] " " $5; err[k] += $6
    allow[k] = allow[k] " " $7; mean[k] = mean[k] " " $8; cpu[k] = cpu[k] " " $9; scpu[k] = scpu[k] " " $10
    per_cpu[k] = per_cpu[k] " " $11; if ($12 != "") busy[k]++
  }
  END {
    printf "## AuthZEN decisions under load, %s\n\n", when
    printf "%d runs × %d s per scenario, wrk -t1 on CPU 1 (-c%d; batch -c1), Latchkey on CPU 0; medians.\n\n", runs, secs, conns
    print "| scenario | req/s per run | median req/s | decisions/s | median p50 ms | median p99 ms | mean ms | allowed | wrk CPU | server CPU | req per server-CPU-s | errors |"
    print "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    for (i = 1; i <= n; i++) {
      k = order[i]; list = rps[k]; sub(/^ /, "", list); gsub(/ /, ", ", list)
      m[k] = median(rps[k]); q50[k] = median(p50[k]); q99[k] = median(p99[k]); mm[k] = median(mean[k])
      per = (k ~ /^batch/) ? batch : 1
      printf "| %s | %s | %.0f | %.0f | %.2f | %.2f | %.3f | %.0f%% | %.2f | %.2f | %.0f | %d%s |\n", k, list, m[k], m[k] * per, q50[k], q99[k], mm[k], median(allow[k]), median(cpu[k]), median(scpu[k]), median(per_cpu[k]), err[k], (k in busy) ? " (" busy[k] " run(s) on a busy machine)" : ""
    }
    print ""
    print "| target | measured | met |"
    print "| --- | ---: | --- |"
    printf "| cache off, distinct requests (pool): ≥ 20000 decisions/s | %.0f | %s |\n", m["off-pool"], verdict(m["off-pool"] >= 20000)
    printf "| cache off, distinct requests (fresh ids): ≥ 20000 decisions/s | %.0f | %s |\n", m["off-fresh"], verdict(m["off-fresh"] >= 20000)
    printf "| cache on (hot set): ≥ 50000 decisions/s | %.0f | %s |\n", m["on-hot"], verdict(m["on-hot"] >= 50000)
    if (m["intro-hot"] > 0) printf "| (reference) hot decision / hot-token introspection, same server, same run | %.2f | none | |\n", m["on-hot"] / m["intro-hot"]
    worst = 0; for (k in q99) if (k !~ /^batch/ && k != "intro-hot" && q99[k] > worst) worst = q99[k]
    printf "| p99 < 5 ms at %d connections (worst scenario) | %.2f ms | %s |\n", conns, worst, verdict(worst < 5)
    printf "| a %d-item batch < 1 ms, fresh ids (median of the runs'"'"' p50; mean %.3f ms) | %.3f ms | %s |\n", batch, mm["batch"], q50["batch"], verdict(q50["batch"] < 1)
    printf "| a %d-item batch < 1 ms, pool ids (median of the runs'"'"' p50; mean %.3f ms) | %.3f ms | %s |\n", batch, mm["batch-pool"], q50["batch-pool"], verdict(q50["batch-pool"] < 1)
  }' "$results")
printf '%s\n' "$summary" >"$out/summary.md"
echo
printf '%s\n' "$summary"
echo
say "raw output, server logs and this summary: $out"

if awk -F'\t' 'NR > 1 && $6 != 0 { bad = 1 } END { exit !bad }' "$results"; then
  say "WARNING: some runs had errors: their figures are not valid (see $out/raw)"
  exit 1
fi
