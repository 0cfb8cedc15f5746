#!/usr/bin/env bash
# Makes the upgrade fixture: a database filled by one release of activator
# through its own command line, for TestUpgradeFromAnEarlierRelease.
#
#   RELEASE=COMMIT make.sh ACTIVATOR_BINARY OUT_DIR [POSTGRES_URL]
#
# With SQLite (no URL) OUT_DIR gets activator.db; with a PostgreSQL URL (an
# empty database) it gets postgres.sql, a plain pg_dump. Either way it gets
# secret.key, the key its sealed rows are sealed with, phone/, the state of
# the device the script activated (its credential and the configuration it
# received, SIP password included), and release.txt, the
# version that made it. The test counts the rows before and after it
# upgrades the database, so nothing else needs keeping.
set -euo pipefail
bin=$(realpath "$1"); out=$(realpath "$2"); pg=${3:-}
work=$(mktemp -d); trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"
args=(--data data --listen 127.0.0.1:0 --ready-file ready.json --sip-udp off --sip-tcp off --sip-tls off)
[ -n "$pg" ] && args+=(--database "$pg")
"$bin" serve "${args[@]}" >serve.log 2>&1 </dev/null & pid=$!
for _ in $(seq 100); do [ -s ready.json ] && break; sleep 0.1; done
url=http://$(python3 -c 'import json;print(json.load(open("ready.json"))["http"])')
a() { "$bin" --url "$url" --token "$(cat data/admin.token)" "$@" </dev/null; }

a settings set public_base_url "$url" >/dev/null
a group create sales --it-email it@example.com >/dev/null
a group create support --it-email help@example.com >/dev/null
a app set android https://play.google.com/store/apps/details?id=com.example.voip >/dev/null
a gateway add sms --kind twilio --default-for sms --set account_sid=AC0123456789abcdef0123456789abcdef --set auth_token=0123456789abcdef0123456789abcdef --set from=+15550001111 >/dev/null
a operator add ada --role admin >/dev/null
a operator add bob --role csr >/dev/null
a token create script --operator bob >/dev/null
for n in "Ada Lovelace" "Alan Turing" "Grace Hopper"; do
  a account create --group sales --name "$n" --email "$(echo "$n" | tr ' A-Z' '.a-z')@example.com" >/dev/null
done
printf 'name,email,group\nKatherine Johnson,kj@example.com,support\nDorothy Vaughan,dv@example.com,support\n' >staff.csv
a import staff.csv --yes >/dev/null
users=$(a account list -o json | python3 -c 'import json,sys;print(" ".join(x["username"] for x in json.load(sys.stdin)["accounts"]))')
for u in $users; do a account send "$u" --channel email >/dev/null; done
# One device activated from a link the outbox kept, once the delivery
# worker has handed it every message.
outbox() { a outbox list -o json | python3 -c 'import json,sys;o=json.load(sys.stdin)["outbox"];print(len(o), o[0]["id"] if o else "")'; }
for _ in $(seq 100); do set -- $(outbox); [ "$1" -ge 5 ] && break; sleep 0.2; done
link=$(a outbox show "$2" -o json | python3 -c 'import json,sys,re;m=json.load(sys.stdin);print(re.search(r"https?://\S+/a/avl_[a-z2-7]{32}",json.dumps(m)).group(0))')
"$bin" device activate "$link" --dir phone --insecure </dev/null >/dev/null
kill -TERM $pid; wait $pid || true

mkdir -p "$out"
cp data/secret.key "$out/secret.key"
cp -r phone "$out/phone"
if [ -n "$pg" ]; then
  pg_dump --no-owner --no-privileges "$pg" | grep -v '^\\\(un\)\?restrict ' >"$out/postgres.sql"
else
  sqlite3 data/activator.db 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
  cp data/activator.db "$out/activator.db"
fi
echo "${RELEASE:-an unnamed commit}: $("$bin" version)" >"$out/release.txt"
