#!/bin/bash
# Server CPU time per request (the process's utime + stime over the requests wrk completed),
# a figure that moves less than throughput when other processes share the cores.
#
#   bench/scripts/cpu_per_request.sh target/release/request-path LABEL
#
# BIN is a request-path executable (started here in its server role). /tmp/seed10k must
# hold a copy of a seeded 10,000-user database (test.db, test.db-wal, test.db-shm), taken
# from a running `request-path --sizes 10000` (the server's --database-url names it).
# DUR sets wrk's seconds per request (default 8).
BIN=$1; L=$2; PORT=$((41000 + RANDOM % 2000)); D=/tmp/run-$L
rm -rf $D; mkdir -p $D/data; cp /tmp/seed10k/test.db* $D/
STAFFROOM_BENCH_ROLE=server MIMALLOC_ALLOW_THP=0 STAFFROOM_LOG=warn $BIN --database-url sqlite://$D/test.db --data-dir $D/data serve --listen 127.0.0.1:$PORT --workers 2 --rate-limit 0 --jwt-secret 'bench-secret-bench-secret-bench-secret!!' --imaging-webhook-secret 'whsec_YmVuY2gtd2ViaG9vay1zZWNyZXQtYmVuY2gtd2ViaG9vaw==' > $D/out.txt 2>&1 &
SP=$!
for i in $(seq 1 100); do curl -sf http://127.0.0.1:$PORT/readyz >/dev/null && break; sleep 0.2; done
TOKEN=$(curl -s http://127.0.0.1:$PORT/v1/auth/login -H 'content-type: application/json' -d '{"email":"bench-admin@example.test","password":"bench passphrase, long enough"}' | python3 -c 'import sys,json;print(json.load(sys.stdin)["access_token"])')
UID_=$(python3 -c "import sqlite3;c=sqlite3.connect('$D/test.db');print(c.execute(\"select id from users where email like 'u5000@%'\").fetchone()[0])")
ticks() { awk '{print $14+$15}' /proc/$SP/stat; }
for P in "/v1/users?limit=50" "/v1/users/$UID_" "/v1/users?q=okafor&limit=50" "/v1/users?q=u9987%40"; do
  curl -sf -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT$P" -o /dev/null || echo "FAILED $P"
  T0=$(ticks)
  OUT=$(wrk -t2 -c8 -d${DUR:-8}s --latency -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT$P")
  T1=$(ticks)
  REQ=$(echo "$OUT" | awk '/requests in/{print $1}')
  RPS=$(echo "$OUT" | awk '/Requests\/sec/{print $2}')
  P99=$(echo "$OUT" | awk '/ 99%/{print $2}')
  NON2=$(echo "$OUT" | awk '/Non-2xx/{print $4}')
  echo "$L $P: $(python3 -c "print(f'{($T1-$T0)*10000/$REQ:.0f} µs CPU/request')") ($REQ req, $RPS/s, p99 $P99 ${NON2:+non2xx $NON2})"
done
kill $SP; wait $SP 2>/dev/null
