#!/usr/bin/env bash
# REGISTER with digest per second, measured with sipp against activator's
# embedded registrar (SQLite) and against Kamailio 5.6 (db_sqlite, the
# kamailio.cfg of docs/kamailio.md, children=4) on this machine, in one run,
# with the same account and password. Each registration is a REGISTER, its
# 401, the authenticated REGISTER and its 200.
#
#   bash bench/sip-register.sh [RATE] [COUNT]     (default 2000 per second, 20000)
#
# Needs: go, sipp, kamailio (+ kamailio-sqlite-modules), sqlite3.
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=${1:-2000}
COUNT=${2:-20000}
W=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -- "-$p" 2>/dev/null || kill "$p" 2>/dev/null || true; done; rm -rf "$W"; }
trap cleanup EXIT

go build -o "$W/activator" ./cmd/activator

# activator binds ports the system picks (port 0) and says which in its
# ready file: no port is chosen here and lost to another process.
setsid "$W/activator" serve --data "$W/data" --listen 127.0.0.1:0 --sip-udp 127.0.0.1:0 --sip-tcp off \
  --sip-tls off --log-level warn --ready-file "$W/ready.json" >"$W/activator.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do [ -s "$W/ready.json" ] && break; sleep 0.1; done
[ -s "$W/ready.json" ] || { echo "activator did not start:"; cat "$W/activator.log"; exit 1; }
ready() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$W/ready.json" "$1"; }
SIP_ADDR=$(ready sip_udp)
export ACTIVATOR_URL=$(ready url) ACTIVATOR_TOKEN_FILE="$W/data/admin.token"
for _ in $(seq 50); do curl -fs "$ACTIVATOR_URL/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
A="$W/activator"
$A settings set sip_domain localhost >/dev/null
$A group create bench >/dev/null
USER=$($A account create --group bench --name Bench --email bench@example.com -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["username"])')
$A account send "$USER" --channel email >/dev/null
sleep 0.5
ID=$($A outbox list -o json | python3 -c 'import json,sys; print(max(i["id"] for i in json.load(sys.stdin)["outbox"]))')
LINK=$($A outbox show "$ID" -o json | grep -o 'http://[^ "\\]*/a/avl_[a-z2-7]*' | head -1)
$A device activate "$LINK" --dir "$W/phone" >/dev/null
PW=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["account"]["password"])' "$W/phone/config.json")

# Kamailio with the same account: the subscriber row activator's kamailio backend writes.
S=/usr/share/kamailio/db_sqlite
cat $S/standard-create.sql $S/auth_db-create.sql | sqlite3 "$W/kamailio.sqlite"
HA1=$(printf '%s' "$USER:localhost:$PW" | md5sum | cut -d' ' -f1)
sqlite3 "$W/kamailio.sqlite" "INSERT INTO subscriber(username,domain,password,ha1,ha1b) VALUES('$USER','localhost','','$HA1','')"
# Kamailio must be told its port (0 means 5060 to it): one that was free a
# moment ago, and another when Kamailio exits because a process took it first.
udp_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
for attempt in 1 2 3 4 5; do
  KAM=$(udp_port)
  sed -n '/^```cfg$/,/^```$/p' docs/kamailio.md | sed '1d;$d' \
    | sed "s|^#!substdef \"!SIP_LISTEN!.*|#!substdef \"!SIP_LISTEN!udp:127.0.0.1:$KAM!g\"|; s|^#!substdef \"!DB_URL!.*|#!substdef \"!DB_URL!sqlite://$W/kamailio.sqlite!g\"|; s|^debug=2|debug=1|" >"$W/kamailio.cfg"
  setsid kamailio -f "$W/kamailio.cfg" -DD -E -Y "$W" -m 256 -M 16 -A WITH_SQLITE >"$W/kamailio.log" 2>&1 &
  KPID=$!
  PIDS+=($KPID)
  for _ in $(seq 20); do kill -0 "$KPID" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$KPID" 2>/dev/null && break
  if ! grep -q 'Address already in use' "$W/kamailio.log" || [ "$attempt" = 5 ]; then
    echo "kamailio did not start:"; cat "$W/kamailio.log"; exit 1
  fi
done

cp e2e/testdata/sipp-register.xml "$W/reg.xml"   # the scenario the SIP tests run
printf 'SEQUENTIAL\n%s;localhost;[authentication username=%s password=%s]\n' "$USER" "$USER" "$PW" >"$W/users.csv"

bench() { # name target
  local start end
  start=$(date +%s.%N)
  # No -p: sipp binds its own port (the first free one from 5060, else one the system picks).
  (cd "$W" && sipp "$2" -sf reg.xml -inf users.csv -i 127.0.0.1 -bind_local -r "$RATE" -rp 1000 -m "$COUNT" -l 5000 \
    -buff_size 2097152 -nostdin -timeout 120s -default_behaviors all,-bye -trace_stat -stf "$1.csv" >/dev/null 2>&1) || true
  end=$(date +%s.%N)
  local ok failed
  ok=$(tail -1 "$W/$1.csv" | awk -F';' '{print $16}')   # SuccessfulCall(C)
  failed=$(tail -1 "$W/$1.csv" | awk -F';' '{print $18}') # FailedCall(C)
  python3 -c "import sys; n,f,s,e=int(sys.argv[1]),int(sys.argv[2]),float(sys.argv[3]),float(sys.argv[4]); print(f'{sys.argv[5]:9s} {n} registered, {f} failed, {n/(e-s):.0f} REGISTER with digest per second')" "$ok" "$failed" "$start" "$end" "$1"
}
echo "sipp at $RATE/s, $COUNT registrations each, $(nproc) cores"
E=$(bench embedded "$SIP_ADDR")
K=$(bench kamailio "127.0.0.1:$KAM")
echo "$E"
echo "$K"
python3 -c "import re,sys; e=float(re.findall(r'([0-9]+) REGISTER',sys.argv[1])[0]); k=float(re.findall(r'([0-9]+) REGISTER',sys.argv[2])[0]); print(f'embedded/kamailio = {e/k:.2f}')" "$E" "$K"
