#!/bin/bash
# Server CPU time per SCIM create: the `scim` bench's creates part (SQLite), with the
# server's utime + stime sampled until it exits, over every create it served (the rounds
# and the warm-up's 200; its start-up and one login are included, a few hundred ms).
#
#   BIN=target/release/scim ROUNDS=1 CREATES=3000 bench/scripts/cpu_per_create.sh
BIN=${BIN:-target/release/scim}
ROUNDS=${ROUNDS:-1}
CREATES=${CREATES:-3000}
OUT=$(mktemp)
STAFFROOM_TEST_DATABASE_URL= $BIN --sizes none --rounds $ROUNDS --creates $CREATES > $OUT 2>&1 &
BENCH=$!
for _ in $(seq 1 300); do
  SERVER=$(pgrep -P $BENCH -f "serve --listen" | head -1)
  [ -n "$SERVER" ] && break
  sleep 0.1
done
TICKS=0
while [ -n "$SERVER" ] && kill -0 $SERVER 2>/dev/null; do
  TICKS=$(awk '{print $14+$15}' /proc/$SERVER/stat 2>/dev/null || echo $TICKS)
  sleep 0.2
done
wait $BENCH
grep -E "^staffroom|^scim2-server|^ratio|one transaction|per transaction" $OUT
rm -f $OUT
N=$((CREATES * ROUNDS + 200))
python3 -c "print(f'server CPU: {$TICKS/100:.2f} s for $N creates = {$TICKS*10000/$N:.0f} µs per create')"
