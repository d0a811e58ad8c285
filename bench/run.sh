#!/usr/bin/env bash
# Side-by-side benchmarks: Latchkey against the reference peer (oidc-provider, JWT access
# tokens) and the ceiling (crates/ceiling), measured in the same run. See bench/README.md.
#
# usage: bench/run.sh [SECONDS] [RUNS]        (defaults: 10 s, 3 runs)
# env:   PEER_PORT (13000), CEILING_PORT (13100), LATCHKEY_PORT (13200), CONNECTIONS (64),
#        POOL_RATE (25000: fresh tokens minted per second of an introspection run),
#        MINT_MAX_SECS (150: longest a pool may take to mint), WARMUP_SECS (min(3, SECONDS)),
#        RUST_LOG (passed to Latchkey; by default it logs failures, not every request),
#        LATCHKEY_BIN (a latchkey binary to measure instead of building target/release/latchkey).
# Exit status: 0 when every run completed with 0 errors, 1 otherwise.
set -euo pipefail

secs=${1:-10}
runs=${2:-3}
[[ $secs =~ ^[1-9][0-9]*$ && $runs =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [SECONDS] [RUNS]" >&2; exit 2; }

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
shared=$repo/../shared/bench
peer_port=${PEER_PORT:-13000}
ceiling_port=${CEILING_PORT:-13100}
latchkey_port=${LATCHKEY_PORT:-13200}
conns=${CONNECTIONS:-64}
pool_rate=${POOL_RATE:-25000}
mint_max=${MINT_MAX_SECS:-150}
warmup=${WARMUP_SECS:-$((secs < 3 ? secs : 3))}
server_cpu=0
load_cpu=1
resource=urn:example:api
peer_secret=bench-secret-0123456789abcdef

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=$repo/bench/results/$stamp
mkdir -p "$out/raw"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/latchkey-bench.XXXXXX")
results=$out/runs.tsv
printf 'scenario\tcontender\trun\trps\tp50_ms\tp99_ms\terrors\tnote\n' >"$results"

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
for t in taskset curl openssl node npm; do command -v "$t" >/dev/null || die "$t is required"; done
[[ -x $shared/peer/start.sh ]] || die "the peer is missing: $shared/peer/start.sh"
(($(nproc) >= 2)) || die "needs 2 cores: servers on CPU $server_cpu, wrk on CPU $load_cpu"

say "building (release)"
if [[ -n ${LATCHKEY_BIN:-} ]]; then packages=(-p latchkey-ceiling); else packages=(-p latchkey -p latchkey-ceiling); fi
nice -n 19 cargo build --release "${packages[@]}" >"$out/build.log" 2>&1 ||
  { tail -n 40 "$out/build.log" >&2; die "the build failed (log: $out/build.log)"; }
latchkey=${LATCHKEY_BIN:-$repo/target/release/latchkey}
ceiling=$repo/target/release/latchkey-ceiling

for port in "$peer_port" "$ceiling_port" "$latchkey_port"; do
  if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/"; then die "port $port is already in use"; fi
done

# --- helpers -------------------------------------------------------------------------------
# wait_for NAME PID LOG URL [curl args…]: until URL answers 200, or the process dies.
wait_for() {
  local name=$1 pid=$2 logf=$3 url=$4 i
  shift 4
  for ((i = 0; i < 3000; i++)); do
    kill -0 "$pid" 2>/dev/null || { tail -n 20 "$logf" >&2; die "$name exited during start-up (log: $logf)"; }
    [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$@" "$url" || true) == 200 ]] && return 0
    sleep 0.1
  done
  die "$name did not answer 200 at $url within 300 s (log: $logf)"
}

# json_field NAME < JSON: a top-level string field.
json_field() { sed -n "s/.*\"$1\" *: *\"\\([^\"]*\\)\".*/\\1/p" | head -n 1; }

basic() { printf 'Basic %s' "$(printf '%s:%s' "$1" "$2" | base64 -w0)"; }

# load LABEL SECONDS SCRIPT URL [VAR=value…]: wrk pinned to the load CPU; raw output kept.
load() {
  local label=$1 d=$2 script=$3 url=$4
  shift 4
  env "$@" taskset -c "$load_cpu" wrk -s "$script" -t1 -c"$conns" -d"${d}s" "$url" >"$out/raw/$label.txt" 2>&1 || true
}

# measure SCENARIO CONTENDER RUN SCRIPT URL [VAR=value…]: one measured run, appended to runs.tsv.
measure() {
  local scenario=$1 contender=$2 run=$3 script=$4 url=$5 label line note=
  shift 5
  label=$scenario-$contender-$run
  load "$label" "$secs" "$script" "$url" "$@"
  line=$(grep -m1 '^rps ' "$out/raw/$label.txt" || true)
  [[ -n $line ]] || { cat "$out/raw/$label.txt" >&2; die "$label: wrk gave no summary (raw: $out/raw/$label.txt)"; }
  grep -q '^pool exhausted' "$out/raw/$label.txt" && note='pool exhausted: stopped early'
  # shellcheck disable=SC2086
  set -- $line
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$scenario" "$contender" "$run" "$2" "$4" "$6" "$8" "$note" >>"$results"
  say "  $label: $line${note:+ ($note)}"
}

# mint_pool LABEL URL AUTH FILE SIZE: SIZE fresh tokens from the server at URL into FILE.
mint_pool() {
  local label=$1 url=$2 auth=$3 file=$4 size=$5 line have
  load "$label" "$mint_max" bench/mint.lua "$url" AUTH="$auth" RESOURCE="$resource" POOL_FILE="$file" POOL_SIZE="$size"
  line=$(grep -m1 '^minted ' "$out/raw/$label.txt" || true)
  have=$(wc -l <"$file" 2>/dev/null || echo 0)
  say "  $label: $have tokens (wanted $size; wrk: $line)"
  ((have > 0)) || die "could not mint tokens (raw: $out/raw/$label.txt)"
}

# contender NAME: sets url and auth for NAME's token endpoint (the ceiling ignores auth).
contender() {
  case $1 in
    latchkey) url=$latchkey_token auth=$latchkey_auth ;;
    peer) url=$peer_token auth=$peer_auth ;;
    ceiling) url=$ceiling_token auth=$latchkey_auth ;;
  esac
}

# --- machine load ---------------------------------------------------------------------------
read -r load1 load5 load15 _ </proc/loadavg
say "load average at start: $load1 $load5 $load15"
if awk -v l="$load1" 'BEGIN { exit !(l > 0.5) }'; then
  say "WARNING: 1-minute load $load1 > 0.5: the machine is busy and figures will be low and noisy"
fi

# --- servers, each pinned to the server CPU ----------------------------------------------
say "starting the peer (oidc-provider, JWT access tokens) on :$peer_port"
WORK=$repo/target/bench-peer "$shared/peer/start.sh" "$peer_port" jwt "$server_cpu" >"$out/peer.log" 2>&1 &
pids+=($!)
peer_pid=$!

say "starting the ceiling on :$ceiling_port"
taskset -c "$server_cpu" "$ceiling" --listen "127.0.0.1:$ceiling_port" --ttl 3600 >"$out/ceiling.log" 2>&1 &
pids+=($!)
ceiling_pid=$!

say "starting Latchkey on :$latchkey_port"
client_secret=$(openssl rand -base64 32 | tr '+/' '-_' | tr -d '=\n')
master_key=$("$latchkey" key generate-master-key)
mkdir -p "$tmp/latchkey-data"
# Tokens live an hour so that a large pool minted before an introspection run stays valid.
cat >"$tmp/latchkey.toml" <<EOF
[tokens]
access_token_ttl = "1h"

# One client from one address at tens of thousands of requests a second:
# limits this high are never reached, but their checks still run.
[rate_limits]
token_per_client = 100000000
token_per_address = 100000000

[[resources]]
identifier = "$resource"
name = "Benchmark API"
scopes = [
  { name = "api:read", description = "Read" },
  { name = "api:write", description = "Write" },
]
introspection_clients = ["bench"]

[[clients]]
id = "bench"
type = "confidential"
secret = { env = "BENCH_CLIENT_SECRET" }
auth_method = "client_secret_basic"
grant_types = ["client_credentials"]
scopes = ["api:read", "api:write"]
audiences = ["$resource"]
EOF
cp "$tmp/latchkey.toml" "$out/latchkey.toml"
LATCHKEY_MASTER_KEY=$master_key BENCH_CLIENT_SECRET=$client_secret \
  taskset -c "$server_cpu" "$latchkey" serve --config "$tmp/latchkey.toml" --data-dir "$tmp/latchkey-data" \
  --listen "127.0.0.1:$latchkey_port" >"$out/latchkey.log" 2>&1 &
pids+=($!)
latchkey_pid=$!

wait_for Latchkey "$latchkey_pid" "$out/latchkey.log" "http://127.0.0.1:$latchkey_port/readyz"
latchkey_meta=$(curl -sf "http://127.0.0.1:$latchkey_port/.well-known/openid-configuration") ||
  die "Latchkey serves no discovery document"
latchkey_token=$(json_field token_endpoint <<<"$latchkey_meta")
latchkey_introspect=$(json_field introspection_endpoint <<<"$latchkey_meta")
[[ -n $latchkey_token && -n $latchkey_introspect ]] || die "Latchkey's metadata lacks token_endpoint or introspection_endpoint"
latchkey_auth=$(basic bench "$client_secret")

ceiling_token=http://127.0.0.1:$ceiling_port/token
ceiling_introspect=http://127.0.0.1:$ceiling_port/introspect
wait_for ceiling "$ceiling_pid" "$out/ceiling.log" "$ceiling_token" -X POST -d grant_type=client_credentials

say "waiting for the peer (the first start installs it with npm ci)"
wait_for peer "$peer_pid" "$out/peer.log" "http://127.0.0.1:$peer_port/.well-known/openid-configuration"
peer_token=$(curl -sf "http://127.0.0.1:$peer_port/.well-known/openid-configuration" | json_field token_endpoint)
[[ -n $peer_token ]] || die "the peer's metadata lacks token_endpoint"
peer_auth=$(basic bench "$peer_secret")

say "endpoints: Latchkey $latchkey_token $latchkey_introspect; peer $peer_token; ceiling $ceiling_token $ceiling_introspect"

# Every contender must issue a token before anything is measured.
for c in latchkey peer ceiling; do
  contender "$c"
  answer=$(curl -s -H "Authorization: $auth" -d grant_type=client_credentials -d scope=api:read \
    --data-urlencode "resource=$resource" "$url")
  [[ $answer == *'"access_token"'* ]] || die "$c did not issue a token: $answer"
done

# --- 1. client credentials ------------------------------------------------------------------
say "warm-up: ${warmup} s of token requests per contender"
for c in latchkey peer ceiling; do
  contender "$c"
  load "warmup-$c" "$warmup" bench/cc.lua "$url" AUTH="$auth" RESOURCE="$resource" SCOPE=api:read
done

say "1. client credentials: ${runs} × ${secs} s each, alternating Latchkey, peer, ceiling"
for ((r = 1; r <= runs; r++)); do
  for c in latchkey peer ceiling; do
    contender "$c"
    measure cc "$c" "$r" bench/cc.lua "$url" AUTH="$auth" RESOURCE="$resource" SCOPE=api:read
  done
done

# --- 2. introspection, every request a distinct, fresh token --------------------------------
declare -A rate=([latchkey]=$pool_rate [ceiling]=$pool_rate)
say "2. introspection of distinct fresh tokens: ${runs} × ${secs} s each, alternating Latchkey, ceiling"
for ((r = 1; r <= runs; r++)); do
  for c in latchkey ceiling; do
    if [[ $c == latchkey ]]; then mint=$latchkey_token intro=$latchkey_introspect; else mint=$ceiling_token intro=$ceiling_introspect; fi
    size=$((rate[$c] * secs * 11 / 10))
    pool=$tmp/pool-$c
    mint_pool "mint-$c-$r" "$mint" "$latchkey_auth" "$pool" "$size"
    measure introspect "$c" "$r" bench/introspect.lua "$intro" AUTH="$latchkey_auth" POOL_FILE="$pool"
    rm -f "$pool"
    if [[ $(tail -n 1 "$results") == *'pool exhausted'* ]]; then
      rate[$c]=$((rate[$c] * 2))
      say "  the pool ran out: minting $((rate[$c])) per second from now on"
    fi
  done
done

# --- 3. introspection of one hot token ------------------------------------------------------
say "3. introspection of one hot token: ${runs} × ${secs} s, Latchkey"
pool=$tmp/pool-hot
curl -s -H "Authorization: $latchkey_auth" -d grant_type=client_credentials -d scope=api:read \
  --data-urlencode "resource=$resource" "$latchkey_token" | json_field access_token >"$pool"
[[ -s $pool ]] || die "could not get a token from Latchkey for the hot-token runs"
for ((r = 1; r <= runs; r++)); do
  measure hot latchkey "$r" bench/introspect.lua "$latchkey_introspect" AUTH="$latchkey_auth" POOL_FILE="$pool" HOT=1
done

read -r load1 load5 load15 _ </proc/loadavg
say "load average at the end: $load1 $load5 $load15"

# --- medians and ratios ---------------------------------------------------------------------
summary=$(awk -F'\t' -v secs="$secs" -v runs="$runs" -v conns="$conns" -v when="$stamp" '
  function median(list,   a, n, i, j, t) {
    n = split(list, a, " ")
    for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return n % 2 ? a[(n + 1) / 2] + 0 : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  function ratio(a, b) { return (b > 0) ? sprintf("%.2f", a / b) : "n/a" }
  function verdict(ok) { return ok ? "yes" : "**no**" }
  NR == 1 { next }
  {
    k = $1 SUBSEP $2
    if (!(k in rps)) { order[++n] = k; name[k] = $1 " | " $2 }
    rps[k] = rps[k] " " $4; p50[k] = p50[k] " " $5; p99[k] = p99[k] " " $6
    err[k] += $7; if ($8 != "") note[k] = $8
  }
  END {
    printf "## Side-by-side benchmarks, %s\n\n", when
    printf "%d runs × %d s per contender, wrk -t1 -c%d on CPU 1, each server on CPU 0; medians.\n\n", runs, secs, conns
    print "| scenario | contender | req/s per run | median req/s | median p50 ms | median p99 ms | errors |"
    print "| --- | --- | --- | ---: | ---: | ---: | ---: |"
    for (i = 1; i <= n; i++) {
      k = order[i]; list = rps[k]; sub(/^ /, "", list); gsub(/ /, ", ", list)
      m[k] = median(rps[k]); q99[k] = median(p99[k])
      printf "| %s | %s | %.0f | %.2f | %.2f | %d%s |\n", name[k], list, m[k], median(p50[k]), q99[k], err[k], (k in note) ? " (" note[k] ")" : ""
    }
    lk = "cc" SUBSEP "latchkey"; pe = "cc" SUBSEP "peer"; ce = "cc" SUBSEP "ceiling"
    il = "introspect" SUBSEP "latchkey"; ic = "introspect" SUBSEP "ceiling"; hl = "hot" SUBSEP "latchkey"
    print ""
    print "| ratio of medians | value | target | met |"
    print "| --- | ---: | --- | --- |"
    printf "| client credentials: Latchkey / signing ceiling | %s | ≥ 0.80 | %s |\n", ratio(m[lk], m[ce]), verdict(m[ce] > 0 && m[lk] / m[ce] >= 0.8)
    printf "| client credentials: Latchkey / peer (JWT) | %s | ≥ 6 | %s |\n", ratio(m[lk], m[pe]), verdict(m[pe] > 0 && m[lk] / m[pe] >= 6)
    printf "| client credentials: Latchkey p99 (ms) | %.2f | < 10 | %s |\n", q99[lk], verdict(q99[lk] < 10)
    printf "| introspection, distinct tokens: Latchkey / verification ceiling | %s | ≥ 0.85 | %s |\n", ratio(m[il], m[ic]), verdict(m[ic] > 0 && m[il] / m[ic] >= 0.85)
    printf "| introspection, one hot token: Latchkey req/s | %.0f | ≥ 50000 | %s |\n", m[hl], verdict(m[hl] >= 50000)
  }' "$results")
printf '%s\n' "$summary" >"$out/summary.md"
echo
printf '%s\n' "$summary"
echo
say "raw output, server logs and this summary: $out"

if awk -F'\t' 'NR > 1 && $7 != 0 { bad = 1 } END { exit !bad }' "$results"; then
  say "WARNING: some runs had errors: their figures are not valid (see $out/raw)"
  exit 1
fi
