#!/usr/bin/env bash
# REGISTER with digest per second, measured with sipp against activator's
# embedded registrar and against Kamailio 5.6 (the kamailio.cfg of
# docs/kamailio.md, children=4) on this machine, in one run, with the same
# accounts and passwords: SIP_ACCOUNTS distinct activated accounts, each
# registering in turn. Each registration is a REGISTER, its 401, the
# authenticated REGISTER and its 200.
#
#   bash bench/sip-register.sh [RATE] [COUNT]     (default 2000 per second, 20000)
#
# The accounts are made by bench/gen (activated, with a known password) and
# one more through the real flow (link, device activate), so the digest is
# checked against a password activator made itself too. Kamailio gets the
# subscriber rows activator's kamailio backend would write: the accounts'
# own HA1.
#
# Environment: SIP_ACCOUNTS (default 10000), SIP_ENGINE (sqlite or postgres:
# activator's database and Kamailio's db_sqlite or db_postgres; default
# sqlite), SIP_POSTGRES (a PostgreSQL URL whose user may create databases),
# SIP_LIMIT (registrations in flight at once, default 200 or half the
# accounts when fewer), SIP_OUT (write
# SIP_OUT.activator.json and SIP_OUT.ceiling.json with the rates), BENCH_BIN
# (a folder with activator and gen already built), SIP_PPROF (a file: a CPU
# profile of activator while sipp registers against it is written there;
# activator must be built with -tags pprof). It fails when more than
# 5% of either server's registrations failed. Some fail at saturation on a
# busy machine: a REGISTER answered after 500 ms is sent again, and on
# PostgreSQL activator's registrar fails one of the two ("contact is
# already taken"); the count is reported with the rate.
#
# Needs: go, sipp, kamailio (+ kamailio-sqlite-modules or -postgres-modules), sqlite3, psql.
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=${1:-2000}
COUNT=${2:-20000}
ACCOUNTS=${SIP_ACCOUNTS:-10000}
ENGINE=${SIP_ENGINE:-sqlite}
# Fewer in flight than accounts, so no account registers twice at once:
# on PostgreSQL two concurrent REGISTERs of one account and contact race
# (the second fails with "contact is already taken"), which is not the load
# measured here.
LIMIT=${SIP_LIMIT:-$(( ACCOUNTS / 2 < 200 ? ACCOUNTS / 2 : 200 ))}
[ "$LIMIT" -ge 1 ] || LIMIT=1
PG=${SIP_POSTGRES:-${ACTIVATOR_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}}
W=$(mktemp -d)
PIDS=()
DBS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -- "-$p" 2>/dev/null || kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done; done
  for d in "${DBS[@]}"; do psql "$PG" -qAtc "DROP DATABASE IF EXISTS $d WITH (FORCE)" >/dev/null 2>&1 || true; done
  rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

BIN=${BENCH_BIN:-}
if [ -z "$BIN" ]; then
  BIN=$W/bin
  go build -o "$BIN/activator" ./cmd/activator
  go build -o "$BIN/gen" ./bench/gen
fi
pg_url() { python3 -c 'import sys,urllib.parse as u; p=u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/"+sys.argv[2])))' "$PG" "$1"; }
new_pg() { # NAME: a throwaway database, dropped at exit; sets PGDSN
  local name="bench_sip_$$_${RANDOM}_$1"
  psql "$PG" -qAtc "CREATE DATABASE $name" >/dev/null
  DBS+=("$name")
  PGDSN=$(pg_url "$name")
}

# activator's database: generated activated accounts with known passwords.
mkdir -p "$W/data"
case $ENGINE in
  sqlite) DSN=$W/data/activator.db DB=() ;;
  postgres) new_pg activator; DSN=$PGDSN DB=(--database "$DSN") ;;
  *) echo "SIP_ENGINE=$ENGINE: want sqlite or postgres" >&2; exit 2 ;;
esac
"$BIN/gen" --database "$DSN" --secret-key-file "$W/data/secret.key" --accounts "$ACCOUNTS" --events 0 --messages 0 \
  --stages activated=1 --disabled 0 --sip-domain localhost --sip-passwords "$W/passwords" 2>&1 | sed 's/^/  /'

# activator binds ports the system picks (port 0) and says which in its
# ready file: no port is chosen here and lost to another process.
PROF=()
[ -z "${SIP_PPROF:-}" ] || PROF=(ACTIVATOR_PPROF=127.0.0.1:0 "ACTIVATOR_PPROF_READY=$W/pprof.url")
setsid env "${PROF[@]}" "$BIN/activator" serve --data "$W/data" "${DB[@]}" --listen 127.0.0.1:0 --sip-udp 127.0.0.1:0 --sip-tcp off \
  --sip-tls off --log-level warn --ready-file "$W/ready.json" >"$W/activator.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 300); do [ -s "$W/ready.json" ] && break; sleep 0.1; done
[ -s "$W/ready.json" ] || { echo "activator did not start:"; cat "$W/activator.log"; exit 1; }
ready() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$W/ready.json" "$1"; }
SIP_ADDR=$(ready sip_udp)
export ACTIVATOR_URL=$(ready url) ACTIVATOR_TOKEN_FILE="$W/data/admin.token"
for _ in $(seq 50); do curl -fs "$ACTIVATOR_URL/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
A="$BIN/activator"
$A group create bench >/dev/null
USER=$($A account create --group bench --name Bench --email bench@example.com -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["username"])')
$A account send "$USER" --channel email >/dev/null
ID=
for _ in $(seq 50); do
  ID=$($A outbox list -o json | python3 -c 'import json,sys; o=json.load(sys.stdin)["outbox"]; print(max(i["id"] for i in o) if o else "")')
  [ -n "$ID" ] && break
  sleep 0.1
done
LINK=$($A outbox show "$ID" -o json | grep -o 'http://[^ "\\]*/a/avl_[a-z2-7]*' | head -1)
$A device activate "$LINK" --dir "$W/phone" --insecure >/dev/null # --insecure: the link is plain http on loopback
PW=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["account"]["password"])' "$W/phone/config.json")
printf '%s;%s\n' "$USER" "$PW" >>"$W/passwords"

# Kamailio with the same accounts: the subscriber rows activator's kamailio
# backend writes (username, domain, the account's own HA1).
SELECT="SELECT username, 'localhost', '', ha1_md5, '' FROM accounts WHERE stage = 'activated' AND NOT disabled AND ha1_md5 <> ''"
case $ENGINE in
  sqlite)
    S=/usr/share/kamailio/db_sqlite
    KDB=$W/kamailio.sqlite
    cat $S/standard-create.sql $S/auth_db-create.sql | sqlite3 "$KDB"
    sqlite3 "$KDB" "ATTACH '$DSN' AS a; INSERT INTO subscriber (username, domain, password, ha1, ha1b) ${SELECT/FROM accounts/FROM a.accounts};"
    KURL="sqlite://$KDB" KDEF=(-A WITH_SQLITE)
    ;;
  postgres)
    new_pg kamailio
    cat /usr/share/kamailio/postgres/standard-create.sql /usr/share/kamailio/postgres/auth_db-create.sql | psql -q "$PGDSN" >/dev/null
    psql -qAt "$DSN" -c "COPY ($SELECT) TO STDOUT" | psql -q "$PGDSN" -c "COPY subscriber (username, domain, password, ha1, ha1b) FROM STDIN"
    KURL=${PGDSN%%\?*} KDEF=() # db_postgres takes no URL parameters
    ;;
esac
# Kamailio must be told its port (0 means 5060 to it): one that was free a
# moment ago, and another when Kamailio exits because a process took it first.
udp_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
for attempt in 1 2 3 4 5; do
  KAM=$(udp_port)
  sed -n '/^```cfg$/,/^```$/p' docs/kamailio.md | sed '1d;$d' \
    | sed "s|^#!substdef \"!SIP_LISTEN!.*|#!substdef \"!SIP_LISTEN!udp:127.0.0.1:$KAM!g\"|; s|^#!substdef \"!DB_URL!.*|#!substdef \"!DB_URL!$KURL!g\"|; s|^debug=2|debug=1|" >"$W/kamailio.cfg"
  setsid kamailio -f "$W/kamailio.cfg" -DD -E -Y "$W" -m 256 -M 16 "${KDEF[@]}" >"$W/kamailio.log" 2>&1 &
  KPID=$!
  PIDS+=($KPID)
  # Up once its port is bound by it; gone if another process took the port.
  for _ in $(seq 50); do
    kill -0 "$KPID" 2>/dev/null || break
    ss -Hlunp "sport = :$KAM" 2>/dev/null | grep -q kamailio && break
    sleep 0.1
  done
  kill -0 "$KPID" 2>/dev/null && break
  if ! grep -q 'Address already in use' "$W/kamailio.log" || [ "$attempt" = 5 ]; then
    echo "kamailio did not start:"; cat "$W/kamailio.log"; exit 1
  fi
done

cp e2e/testdata/sipp-register.xml "$W/reg.xml" # the scenario the SIP tests run
{
  echo SEQUENTIAL
  awk -F';' '{printf "%s;localhost;[authentication username=%s password=%s]\n", $1, $1, $2}' "$W/passwords"
} >"$W/users.csv"

bench() { # name target
  local start end
  local prof=
  [ "$1" = embedded ] && [ -n "${SIP_PPROF:-}" ] && prof=$(cat "$W/pprof.url")
  [ -z "$prof" ] || curl -fsS -X POST "$prof/debug/cpu/start"
  start=$(date +%s.%N)
  # No -p: sipp binds its own port (the first free one from 5060, else one the system picks).
  (cd "$W" && sipp "$2" -sf reg.xml -inf users.csv -i 127.0.0.1 -bind_local -r "$RATE" -rp 1000 -m "$COUNT" -l "$LIMIT" \
    -buff_size 2097152 -nostdin -timeout 120s -default_behaviors all,-bye -trace_stat -stf "$1.csv" >/dev/null 2>&1) || true
  end=$(date +%s.%N)
  [ -z "$prof" ] || { curl -fsS "$prof/debug/cpu/stop" -o "$SIP_PPROF" && echo "profile: $SIP_PPROF" >&2; }
  local ok failed
  ok=$(tail -1 "$W/$1.csv" | awk -F';' '{print $16}')     # SuccessfulCall(C)
  failed=$(tail -1 "$W/$1.csv" | awk -F';' '{print $18}') # FailedCall(C)
  python3 -c "import sys; n,f,s,e=int(sys.argv[1]),int(sys.argv[2]),float(sys.argv[3]),float(sys.argv[4]); print(f'{sys.argv[5]:9s} {n} registered, {f} failed, {n/(e-s):.0f} REGISTER with digest per second')" "$ok" "$failed" "$start" "$end" "$1"
}
echo "sipp at $RATE/s, at most $LIMIT at once, $COUNT registrations each over $(wc -l <"$W/passwords") accounts, $ENGINE, $(nproc) cores"
E=$(bench embedded "$SIP_ADDR")
K=$(bench kamailio "127.0.0.1:$KAM")
echo "$E"
echo "$K"
if grep -q 'level=ERROR' "$W/activator.log"; then
  echo "activator logged $(grep -c 'level=ERROR' "$W/activator.log") errors, the first:"
  grep -m 3 'level=ERROR' "$W/activator.log" | cut -c1-400
fi
python3 - "$E" "$K" "$COUNT" "${SIP_OUT:-}" <<'EOF'
import json, re, sys
e, k, count, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
def parse(line):
    n, f, rate = re.match(r'\S+\s+(\d+) registered, (\d+) failed, (\d+) REGISTER', line).groups()
    return int(n), int(f), float(rate)
(en, ef, er), (kn, kf, kr) = parse(e), parse(k)
print(f"embedded/kamailio = {er / kr:.2f}" if kr else "kamailio registered nothing")
good = lambda n, f: n + f >= count and f <= count // 20
if out:
    for side, (n, f, r) in (("activator", (en, ef, er)), ("ceiling", (kn, kf, kr))):
        if good(n, f):
            with open(f"{out}.{side}.json", "w") as fh:
                json.dump({"requests": n, "errors": f, "rate": r, "note": f"{f} of {n + f} registrations failed"}, fh)
if not good(en, ef) or not good(kn, kf):
    sys.exit(f"too many registrations failed: embedded {en} ok, {ef} failed; kamailio {kn} ok, {kf} failed, of {count}")
EOF
