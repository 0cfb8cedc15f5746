#!/usr/bin/env bash
# activator's benchmark: each hot path measured against its ceiling, on
# SQLite and on PostgreSQL, in one run on this machine, and one table at
# the end (docs/performance.md says what each row measures).
#
#   bash bench/run.sh                      smoke scale: a tiny pass of every path, well under a minute
#   BENCH_SCALE=full bash bench/run.sh     the sizes of issue 10 (1,000,000 accounts; several minutes)
#   BENCH_SCALE=medium bash bench/run.sh   in between (100,000 accounts)
#
# Every size is an environment variable (see "Sizes" below), as are
# BENCH_ENGINES (sqlite,postgres), BENCH_PATHS (landing,redeem,import,queue,
# sip,memory), BENCH_POSTGRES (a PostgreSQL URL whose user may create
# databases; default $ACTIVATOR_TEST_POSTGRES, else postgres@127.0.0.1) and
# BENCH_LOG_LEVEL (serve's --log-level, default info as in production) and
# BENCH_PPROF (a folder: activator is built with -tags pprof and a CPU
# profile of serve under each load is written there, PATH.ENGINE.cpu.pprof).
# It exits non-zero when a path fails or a row of the table is missing,
# never because a target is missed. Everything it starts listens on
# 127.0.0.1 only, on ports the system picks, and is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH:/usr/sbin"

SCALE=${BENCH_SCALE:-smoke}
# Sizes:      accounts  events   messages  links  redeems  duration  import  queue  sip accounts  sip registrations
case $SCALE in
  smoke)  z=(2000    4000     800       100    100      1s        1000    200    50            500) ;;
  medium) z=(100000  300000   100000    1000   2000     5s        100000  10000  10000         20000) ;;
  full)   z=(1000000 3000000  1000000   1000   5000     10s       100000  10000  10000         20000) ;;
  *) echo "BENCH_SCALE=$SCALE: want smoke, medium or full" >&2; exit 2 ;;
esac
ACCOUNTS=${BENCH_ACCOUNTS:-${z[0]}}         # accounts in the database the landing and redeem loads run on (and memory is read from)
EVENTS=${BENCH_EVENTS:-${z[1]}}             # their timeline events
MESSAGES=${BENCH_MESSAGES:-${z[2]}}         # their messages
LINKS=${BENCH_LINKS:-${z[3]}}               # live links the landing load spreads its views over
REDEEMS=${BENCH_REDEEMS:-${z[4]}}           # redeems, each with a fresh link (the ceiling gets 10 times as many, bounded by the duration)
DURATION=${BENCH_DURATION:-${z[5]}}         # how long the landing load runs (and at most each redeem load)
IMPORT_ROWS=${BENCH_IMPORT_ROWS:-${z[6]}}   # CSV rows imported
QUEUE=${BENCH_QUEUE:-${z[7]}}               # messages the delivery worker carries
SIP_ACCOUNTS=${BENCH_SIP_ACCOUNTS:-${z[8]}} # distinct activated accounts registering
SIP_COUNT=${BENCH_SIP_COUNT:-${z[9]}}       # registrations on each SIP server
SIP_RATE=${BENCH_SIP_RATE:-20000}      # offered REGISTER rate: above what either server takes, so both saturate
SIP_LIMIT=${BENCH_SIP_LIMIT:-$(( SIP_ACCOUNTS / 2 < 200 ? SIP_ACCOUNTS / 2 : 200 ))} # registrations in flight at once (fewer than accounts)
CONNS=${BENCH_CONNECTIONS:-64}         # HTTP connections, one request in flight each
STEP_TIMEOUT=${BENCH_STEP_TIMEOUT:-1800}
ENGINES=${BENCH_ENGINES:-sqlite,postgres}
PATHS=${BENCH_PATHS:-landing,redeem,import,queue,sip,memory,export,first-page,deep-page,search,filter,dashboard,steady-memory,idle-cpu}
LOG_LEVEL=${BENCH_LOG_LEVEL:-info}
IDLE=${BENCH_IDLE:-$([ "$SCALE" = smoke ] && echo 3 || echo 30)} # seconds serve's idle CPU is read over
PG=${BENCH_POSTGRES:-${ACTIVATOR_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}}
PPROF=${BENCH_PPROF:-}
[ -z "$PPROF" ] || { mkdir -p "$PPROF"; PPROF=$(cd "$PPROF" && pwd); }
export IDLE SCALE ACCOUNTS EVENTS MESSAGES LINKS REDEEMS DURATION IMPORT_ROWS QUEUE SIP_ACCOUNTS SIP_COUNT SIP_RATE SIP_LIMIT CONNS LOG_LEVEL PG \
  ENGINES PATHS STEP_TIMEOUT PPROF

has() { [[ ",$PATHS," == *",$1,"* ]]; }

# ---------------------------------------------------------------------------
# One step: a few paths on one engine, run as its own process (bash
# bench/run.sh __step NAME ENGINE) so that errexit holds inside it and its
# cleanup runs however it ends. It leaves PATH.ENGINE.SIDE.json in $R.

# pg_url DB is $PG with its database replaced by DB.
pg_url() { python3 -c 'import sys,urllib.parse as u; p=u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/"+sys.argv[2])))' "$PG" "$1"; }

step_init() {
  PIDS=()
  DBS=()
  S=$(mktemp -d "$W/$STEP-$ENGINE.XXXX")
  cleanup() {
    local rc=$? p f
    for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && stop "$p"; done
    for d in "${DBS[@]}"; do psql "$PG" -qAtc "DROP DATABASE IF EXISTS $d WITH (FORCE)" >/dev/null 2>&1 || true; done
    if [ "$rc" != 0 ]; then
      for f in "$S"/*/serve.log "$S"/*.log; do
        [ -s "$f" ] && { echo "--- the end of ${f#"$S"/}:"; tail -5 "$f" | cut -c1-300; }
      done
    fi
    return 0
  }
  trap cleanup EXIT
  trap 'exit 130' INT TERM HUP
}

# new_db NAME sets DSN to a fresh database on $ENGINE: a file in the
# step's folder, or a throwaway PostgreSQL database dropped at the end.
new_db() {
  if [ "$ENGINE" = sqlite ]; then
    mkdir -p "$S/$1"
    DSN=$S/$1/activator.db
  else
    local name="bench_$$_${RANDOM}_$1"
    psql "$PG" -qAtc "CREATE DATABASE $name" >/dev/null
    DBS+=("$name")
    DSN=$(pg_url "$name")
  fi
}

# serve DATA DSN starts activator on ports the system picks, without the
# per-address rate limits (every load comes from 127.0.0.1); sets
# SERVE_PID, URL and the CLI's environment.
serve() {
  local data=$1 dsn=$2 db=() prof=()
  [ "$ENGINE" = postgres ] && db=(--database "$dsn")
  rm -f "$data/ready.json" "$data/pprof.url"
  [ -z "$PPROF" ] || prof=(ACTIVATOR_PPROF=127.0.0.1:0 "ACTIVATOR_PPROF_READY=$data/pprof.url")
  setsid env "${prof[@]}" "$BIN/activator" serve --data "$data" "${db[@]}" --listen 127.0.0.1:0 --sip-udp 127.0.0.1:0 --sip-tcp 127.0.0.1:0 \
    --sip-tls 127.0.0.1:0 --log-level "$LOG_LEVEL" --rate-limit-public 0 --rate-limit-login 0 --ready-file "$data/ready.json" >>"$data/serve.log" 2>&1 &
  SERVE_PID=$!
  PIDS+=("$SERVE_PID")
  # Up to 15 minutes: a first start on a generated database seals its
  # million message texts and compacts the file before it is ready.
  for _ in $(seq 9000); do [ -s "$data/ready.json" ] && break; kill -0 "$SERVE_PID" 2>/dev/null || break; sleep 0.1; done
  [ -s "$data/ready.json" ] || { echo "activator did not start:" >&2; tail -20 "$data/serve.log" >&2; return 1; }
  URL=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["url"])' "$data/ready.json")
  export ACTIVATOR_URL=$URL ACTIVATOR_TOKEN_FILE=$data/admin.token
  PPROF_URL=
  [ -z "$PPROF" ] || PPROF_URL=$(cat "$data/pprof.url")
}

# profiled NAME CMD...: run CMD; with BENCH_PPROF, under a CPU profile of
# serve written to $PPROF/NAME.$ENGINE.cpu.pprof.
profiled() {
  local name=$1
  shift
  [ -n "$PPROF_URL" ] || { "$@"; return; }
  curl -fsS -X POST "$PPROF_URL/debug/cpu/start"
  "$@"
  curl -fsS "$PPROF_URL/debug/cpu/stop" -o "$PPROF/$name.$ENGINE.cpu.pprof"
  echo "profile: $PPROF/$name.$ENGINE.cpu.pprof" >&2
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # PID: its user and system CPU time so far, in clock ticks

stop() { # PID: stop the process group it leads (it was started with setsid) and wait for it
  kill -TERM -- "-$1" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL -- "-$1" 2>/dev/null || true
}

start_ready() { # NAME CMD...: start a helper that writes a ready file; sets HELPER_URL
  local name=$1
  shift
  setsid "$@" --ready-file "$S/$name.ready" >"$S/$name.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 100); do [ -s "$S/$name.ready" ] && break; sleep 0.1; done
  [ -s "$S/$name.ready" ] || { echo "$name did not start:" >&2; cat "$S/$name.log" >&2; return 1; }
  HELPER_URL=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["url"])' "$S/$name.ready")
}

bodies() { # TOKENS > BODIES: one redeem request body per token (docs/protocol.md, section 5)
  awk '{printf "{\"token\":\"%s\",\"device\":{\"id\":\"bench-device-%d\",\"platform\":\"android\",\"model\":\"Pixel 8\",\"app_version\":\"bench/1\"}}\n", $1, NR}' "$1"
}

# The landing page and the redeem, on a database of $ACCOUNTS accounts, and
# serve's peak memory while they run; then the same loads on the ceiling.
step_hot() {
  local dsn data=$S/data
  new_db hot
  dsn=$DSN
  mkdir -p "$data"
  [ "$ENGINE" = sqlite ] && data=$(dirname "$dsn")
  "$BIN/gen" --database "$dsn" --secret-key-file "$data/secret.key" --accounts "$ACCOUNTS" --events "$EVENTS" --messages "$MESSAGES"
  serve "$data" "$dsn"
  "$BIN/load" links --url "$URL" --token-file "$data/admin.token" --count $((LINKS + REDEEMS)) --out "$S/tokens"
  head -n "$LINKS" "$S/tokens" | sed 's|^|/a/|' >"$S/paths"
  tail -n "$REDEEMS" "$S/tokens" >"$S/redeem-tokens"
  bodies "$S/redeem-tokens" >"$S/bodies"
  local ua='Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36'
  curl -fsS -A "$ua" "$URL$(head -1 "$S/paths")" -o "$S/page.html"
  grep -q 'Bench User' "$S/page.html" || { echo "the landing page does not show the account" >&2; return 1; }
  local page_bytes
  page_bytes=$(wc -c <"$S/page.html")
  echo "landing page: $page_bytes bytes"
  if has landing; then
    profiled landing "$BIN/load" http --url "$URL" --paths "$S/paths" --duration "$DURATION" --connections "$CONNS" --user-agent "$ua" --out "$R/landing.$ENGINE.activator.json"
  fi
  if has redeem; then
    profiled redeem "$BIN/load" http --url "$URL" --bodies "$S/bodies" --path /api/v1/device/activate --duration 10m --connections "$CONNS" --out "$R/redeem.$ENGINE.activator.json"
  fi
  if has memory; then
    local hwm rss
    hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$SERVE_PID/status")
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$SERVE_PID/status")
    echo "serve: peak RSS $((hwm / 1024)) MB, now $((rss / 1024)) MB, $ACCOUNTS accounts"
    printf '{"value": %s, "note": "VmHWM of serve, %s accounts, after the landing and redeem loads"}\n' \
      "$(awk -v k="$hwm" 'BEGIN {printf "%.1f", k / 1024}')" "$ACCOUNTS" >"$R/memory.$ENGINE.activator.json"
  fi
  scale_paths "$data"
  stop "$SERVE_PID"
  if has landing || has redeem; then
    "$BIN/ceiling" seed --database "$dsn" --count $((REDEEMS * 10)) --out "$S/ceiling-tokens"
    bodies "$S/ceiling-tokens" >"$S/ceiling-bodies"
    start_ready ceiling "$BIN/ceiling" serve --database "$dsn" --page-bytes "$page_bytes"
    local c=$HELPER_URL
    [ "$(curl -fsS "$c$(head -1 "$S/paths")" | wc -c)" -gt $((page_bytes * 9 / 10)) ] || { echo "the ceiling's page is not the landing page's size" >&2; return 1; }
    if has landing; then
      "$BIN/load" http --url "$c" --paths "$S/paths" --duration "$DURATION" --connections "$CONNS" --user-agent "$ua" --out "$R/landing.$ENGINE.ceiling.json"
    fi
    if has redeem; then
      "$BIN/load" http --url "$c" --bodies "$S/ceiling-bodies" --path /api/v1/device/activate --duration "$DURATION" --connections "$CONNS" --out "$R/redeem.$ENGINE.ceiling.json"
    fi
  fi
}

# Issue 15's paths on the hot step's database of $ACCOUNTS accounts: the
# whole export through the command line, the listings and the console's
# dashboard one request at a time (each request's own latency), then serve's
# memory once it has settled and its CPU while nothing happens.
scale_paths() {
  local data=$1 p
  if has export; then
    local t0 t1
    t0=$(date +%s.%N)
    "$BIN/activator" export -f "$S/export.csv" </dev/null 2>"$S/export.log" || { cat "$S/export.log" >&2; return 1; }
    t1=$(date +%s.%N)
    tail -1 "$S/export.log"
    python3 -c 'import json,re,sys; n=int(re.search(r"exported (\d+)", open(sys.argv[1]).read()).group(1)); a,b=float(sys.argv[2]),float(sys.argv[3]); print(json.dumps({"rate": n/(b-a), "seconds": b-a, "note": "%d rows in %.1f s" % (n, b-a)}))' \
      "$S/export.log" "$t0" "$t1" | tee "$R/export.$ENGINE.activator.json"
    rm -f "$S/export.csv"
  fi
  # The paths: random accounts' e-mail addresses and deep cursors, common
  # last names, each filter.
  python3 - "$ACCOUNTS" "$S" <<'PY'
import random, sys
n, d = int(sys.argv[1]), sys.argv[2]
random.seed(15)
ids = [random.randint(1, n) for _ in range(500)]
names = ["rossi", "bianchi", "ferrari", "esposito", "romano", "colombo", "ricci", "marino"]
w = lambda name, lines: open(f"{d}/{name}.paths", "w").write("\n".join(lines) + "\n")
w("first-page", ["/api/v1/accounts?limit=100"])
w("deep-page", [f"/api/v1/accounts?limit=50&cursor=b{i}" for i in ids])
w("search", [f"/api/v1/accounts?limit=50&q=.{i}%40example.com" for i in ids] + [f"/api/v1/accounts?limit=50&q={x}" for x in names])
w("filter", [f"/api/v1/accounts?limit=50&{q}" for q in ["status=invited", "status=disabled", "status=activated", "status=new", "group=gen-03", "status=opened&group=gen-02"]])
PY
  local auth="Authorization: Bearer $(cat "$data/admin.token")"
  for p in first-page deep-page search filter; do
    has "$p" || continue
    "$BIN/load" http --url "$URL" --paths "$S/$p.paths" --duration "$DURATION" --connections 1 --header "$auth" --out "$R/$p.$ENGINE.activator.json" >/dev/null
    echo "$p: $(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("%d requests, p50 %.1f ms, p99 %.1f ms" % (r["requests"], r["p50_ms"], r["p99_ms"]))' "$R/$p.$ENGINE.activator.json")"
  done
  if has dashboard; then
    local link cookie
    link=$("$BIN/activator" operator add bench-admin --role admin -o json </dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["set_password_url"])')
    cookie=$(python3 bench/console-login.py "$URL" "$link" bench-admin)
    echo /console/ >"$S/dashboard.paths"
    "$BIN/load" http --url "$URL" --paths "$S/dashboard.paths" --duration "$DURATION" --connections 1 --header "Cookie: $cookie" --out "$R/dashboard.$ENGINE.activator.json" >/dev/null
    echo "dashboard: $(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("%d requests, p50 %.1f ms, p99 %.1f ms" % (r["requests"], r["p50_ms"], r["p99_ms"]))' "$R/dashboard.$ENGINE.activator.json")"
  fi
  if has steady-memory || has idle-cpu; then
    local idle=$IDLE tick0 tick1 rss
    sleep 5 # the loads' buffers returned; the Go runtime gives memory back over minutes, so this is an upper bound
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$SERVE_PID/status")
    tick0=$(awk '{print $14 + $15}' "/proc/$SERVE_PID/stat")
    sleep "$idle"
    tick1=$(awk '{print $14 + $15}' "/proc/$SERVE_PID/stat")
    echo "serve after the loads: RSS $((rss / 1024)) MB; idle: $((tick1 - tick0)) ticks in $idle s"
    printf '{"value": %s, "note": "VmRSS of serve 5 s after the loads, %s accounts"}\n' \
      "$(awk -v k="$rss" 'BEGIN {printf "%.1f", k / 1024}')" "$ACCOUNTS" >"$R/steady-memory.$ENGINE.activator.json"
    printf '{"value": %s, "zero": true, "note": "%s ticks of CPU in %s s with no traffic"}\n' \
      "$(awk -v t=$((tick1 - tick0)) -v s="$idle" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", t / hz / s * 100}')" "$((tick1 - tick0))" "$idle" \
      >"$R/idle-cpu.$ENGINE.activator.json"
  fi
}

# $IMPORT_ROWS CSV rows through `activator import`, then as raw INSERTs.
step_import() {
  local dsn data
  awk -v n="$IMPORT_ROWS" 'BEGIN {
    print "full name,mobile number,e-mail,security model,description,group,profile,language"
    for (i = 0; i < n; i++) printf "User Number %d,+39333%07d,user%d@example.com,end-to-end,imported,,,it\n", i, i, i
  }' >"$S/import.csv"
  new_db import
  dsn=$DSN
  data=$S/data
  [ "$ENGINE" = sqlite ] && data=$(dirname "$dsn")
  mkdir -p "$data"
  serve "$data" "$dsn"
  "$BIN/activator" group create bench >/dev/null
  local t0 t1 out
  t0=$(date +%s.%N)
  out=$(profiled import "$BIN/activator" import "$S/import.csv" --group bench --yes </dev/null 2>/dev/null)
  t1=$(date +%s.%N)
  echo "$out" | tail -1
  echo "$out" | grep -q "import [0-9]*: $IMPORT_ROWS created" || { echo "the import did not create every row: $out" >&2; return 1; }
  python3 -c 'import json,sys; n,a,b=int(sys.argv[1]),float(sys.argv[2]),float(sys.argv[3]); print(json.dumps({"requests": n, "seconds": b-a, "rate": n/(b-a)}))' \
    "$IMPORT_ROWS" "$t0" "$t1" | tee "$R/import.$ENGINE.activator.json"
  stop "$SERVE_PID"
  new_db import_raw
  "$BIN/ceiling" import --database "$DSN" --file "$S/import.csv" --group bench --out "$R/import.$ENGINE.ceiling.json"
}

# $QUEUE queued SMS carried by the delivery worker through the Clickatell
# adapter to a stand-in on loopback.
step_queue() {
  local dsn data
  new_db queue
  dsn=$DSN
  data=$S/data
  [ "$ENGINE" = sqlite ] && data=$(dirname "$dsn")
  mkdir -p "$data"
  start_ready standin "$BIN/standin" --api-key bench-key
  local standin=$HELPER_URL
  serve "$data" "$dsn"
  "$BIN/activator" gateway add bench-sms --kind clickatell --set api_key=bench-key --set "base_url=$standin" >/dev/null
  stop "$SERVE_PID"
  # The messages are queued while the server is down, so the worker finds
  # the whole queue at once and nothing else competes with it.
  "$BIN/gen" --database "$dsn" --secret-key-file "$data/secret.key" --accounts "$QUEUE" --events 0 --messages 0 \
    --stages invited=1 --disabled 0 --queued "$QUEUE" --queued-gateway bench-sms
  serve "$data" "$dsn"
  profiled queue "$BIN/load" queue --database "$dsn" --gateway bench-sms --count "$QUEUE" --out "$R/queue.$ENGINE.activator.json"
  # From serve's start: the worker sends from its first moment, and what
  # starting costs is small beside thousands of messages.
  echo "serve: $(( $(cpu_ticks "$SERVE_PID") * 1000000 / $(getconf CLK_TCK) / QUEUE )) µs of CPU a message, its start included"
  local got
  got=$(curl -fsS "$standin/count")
  [ "$got" -ge "$QUEUE" ] || { echo "the stand-in accepted $got of $QUEUE messages" >&2; return 1; }
}

step_sip() {
  BENCH_BIN=$BIN SIP_ENGINE=$ENGINE SIP_POSTGRES=$PG SIP_ACCOUNTS=$SIP_ACCOUNTS SIP_LIMIT=$SIP_LIMIT SIP_OUT="$R/sip.$ENGINE" \
    SIP_PPROF=${PPROF:+$PPROF/sip.$ENGINE.cpu.pprof} bash bench/sip-register.sh "$SIP_RATE" "$SIP_COUNT"
}

if [ "${1:-}" = __step ]; then
  [ -n "${W:-}" ] || { echo "bench: __step runs only under bench/run.sh" >&2; exit 2; }
  STEP=$2 ENGINE=$3
  step_init
  "step_$STEP"
  exit 0
fi

# ---------------------------------------------------------------------------
# The run.

need=()
has sip && { command -v sipp >/dev/null || need+=(sip-tester); command -v kamailio >/dev/null || need+=(kamailio); }
has sip && [ ! -e /usr/lib/x86_64-linux-gnu/kamailio/modules/db_sqlite.so ] && need+=(kamailio-sqlite-modules)
has sip && [[ ",$ENGINES," == *",postgres,"* ]] && [ ! -e /usr/lib/x86_64-linux-gnu/kamailio/modules/db_postgres.so ] && need+=(kamailio-postgres-modules)
command -v sqlite3 >/dev/null || need+=(sqlite3)
command -v psql >/dev/null || need+=(postgresql-client)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" >/dev/null
  systemctl stop kamailio >/dev/null 2>&1 || true # its package may start the stock service; the benchmark runs its own
fi
if [[ ",$ENGINES," == *",postgres,"* ]] && ! psql "$PG" -qAtc 'SELECT 1' >/dev/null; then
  echo "bench: PostgreSQL is not reachable at $PG (set BENCH_POSTGRES, or BENCH_ENGINES=sqlite)" >&2
  exit 1
fi

[ -z "${BENCH_STEP:-}" ] || { echo "bench: a step started the whole benchmark" >&2; exit 2; }
W=$(mktemp -d "${TMPDIR:-/tmp}/activator-bench.XXXXXX")
STEP_PID=
# A step stops on TERM (its trap stops what it started); wait for that.
trap '[ -n "$STEP_PID" ] && { kill -TERM "$STEP_PID" 2>/dev/null; wait "$STEP_PID" 2>/dev/null; }; rm -rf "$W"' EXIT
trap 'exit 130' INT TERM HUP
BIN=$W/bin R=$W/results
mkdir -p "$BIN" "$R"
export W BIN R
echo "== building activator and the benchmark's programs"
go build ${PPROF:+-tags pprof} -o "$BIN/activator" ./cmd/activator
for p in gen load ceiling standin; do go build -o "$BIN/$p" "./bench/$p"; done

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
START=$(date +%s)
# step NAME PATHS...: run a step on each engine; a failure marks its paths failed.
step() {
  local name=$1 engine p
  shift
  local mine=()
  for p in "$@"; do has "$p" && mine+=("$p"); done
  [ ${#mine[@]} -gt 0 ] || return 0
  for engine in ${ENGINES//,/ }; do
    echo "== $name on $engine (${mine[*]})"
    local t0=$SECONDS
    BENCH_STEP=1 timeout -k 10 "$STEP_TIMEOUT" bash bench/run.sh __step "$name" "$engine" > >(sed -u 's/^/  /') 2>&1 &
    STEP_PID=$!
    local ok=yes
    wait "$STEP_PID" || ok=
    STEP_PID=
    echo "   $name on $engine: $((SECONDS - t0)) s${ok:+, done}"
    if [ -z "$ok" ]; then
      echo "   $name on $engine FAILED"
      for p in "${mine[@]}"; do
        case $p in landing | redeem | import | sip) [ -e "$R/$p.$engine.activator.json" ] && [ -e "$R/$p.$engine.ceiling.json" ] && continue ;;
          *) [ -e "$R/$p.$engine.activator.json" ] && continue ;; # rows without a ceiling
        esac
        echo "the $name step failed (its output is above)" >"$R/$p.$engine.error"
      done
    fi
  done
}
step hot landing redeem memory export first-page deep-page search filter dashboard steady-memory idle-cpu
step import import
step queue queue
step sip sip
END=$(date +%s)

echo
echo "activator benchmark, $SCALE scale: $ACCOUNTS accounts (landing over $LINKS links, $REDEEMS redeems), $IMPORT_ROWS CSV rows, $QUEUE messages, $SIP_ACCOUNTS SIP accounts"
echo "$(nproc) cores, load average $LOAD_BEFORE before and $(cut -d' ' -f1-3 /proc/loadavg) after, $CONNS HTTP connections, $((END - START)) s; $(go version | cut -d' ' -f3), $(uname -sr)"
echo
"$BIN/load" report --results "$R" --engines "$ENGINES" --paths "$PATHS" \
  --labels "memory=memory ($ACCOUNTS accounts),steady-memory=steady memory ($ACCOUNTS accounts),idle-cpu=idle CPU (${IDLE} s)"
