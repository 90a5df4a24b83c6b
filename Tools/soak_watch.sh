#!/usr/bin/env bash
# `vidclass watch` on a live 360p30 MPEG-TS stream over loopback UDP for MINUTES (default 30):
# resident memory and predictions sampled every minute, then Ctrl-C; prints the samples, the
# processing latency (frame arrival to event) and the exit status. Needs the ffmpeg CLI.
#   bash Tools/soak_watch.sh [path/to/vidclass] [MINUTES]
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="${1:-}"
MINUTES="${2:-30}"
if [ -z "$BIN" ]; then
  (cd "$ROOT" && swift build -c release --static-swift-stdlib --product vidclass >&2) || exit 1
  BIN="$(cd "$ROOT" && swift build -c release --static-swift-stdlib --show-bin-path)/vidclass"
fi
WORK="$(mktemp -d)"
PORT=$((40000 + RANDOM % 10000))
ffmpeg -nostdin -v error -re -f lavfi -i "testsrc2=size=640x360:rate=30" -t $((MINUTES * 60 + 120)) -c:v libx264 \
  -preset ultrafast -tune zerolatency -g 30 -f mpegts "udp://127.0.0.1:$PORT?pkt_size=1316" &
PUB=$!
"$BIN" watch "udp://127.0.0.1:$PORT" --reconnect -o "$WORK/events.jsonl" 2>"$WORK/err" &
WATCH=$!
echo "minute  RSS-KB  predictions"
for m in $(seq 0 "$MINUTES"); do
  echo "$m  $(awk '/VmRSS/ {print $2}' "/proc/$WATCH/status")  $(grep -c '"prediction"' "$WORK/events.jsonl")"
  [ "$m" -lt "$MINUTES" ] && sleep 60
done
kill -INT "$WATCH"; wait "$WATCH"; echo "watch exit status $?"
kill "$PUB" 2>/dev/null; wait "$PUB" 2>/dev/null
python3 - "$WORK/events.jsonl" <<'PY'
import json, sys
events = [json.loads(l) for l in open(sys.argv[1])]
lat = sorted(e["latency"] for e in events if e["event"] == "prediction")
kinds = {}
for e in events: kinds[e["event"]] = kinds.get(e["event"], 0) + 1
print("events:", kinds)
print(f"latency from arrival to event: median {lat[len(lat)//2]*1000:.1f} ms, 99th percentile {lat[int(len(lat)*.99)]*1000:.1f} ms, max {lat[-1]*1000:.1f} ms")
PY
rm -rf "$WORK"
