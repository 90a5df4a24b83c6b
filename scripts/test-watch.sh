#!/usr/bin/env bash
# `vidclass watch` on live sources over loopback, with the installed release binary: the ffmpeg
# command line publishes MPEG-TS over UDP in real time (-re, 30 fps, 360p); watch reports
# predictions within a second of publication, sees the publisher killed (disconnected), reconnects
# when it returns, runs --exec on started events, stops cleanly on Ctrl-C, keeps its memory flat
# on an endless source, reports the frames it drops when a source outpaces the network, reads
# standard input, and names a capture device that is not there.
#   bash scripts/test-watch.sh [path/to/vidclass]   (default: builds the release binary)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
bash "$ROOT/scripts/install-deps.sh" --tests
WORK="$(mktemp -d)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
if [ $# -ge 1 ]; then
  SOURCE_BIN="$(realpath "$1")"
else
  (cd "$ROOT" && swift build -c release --static-swift-stdlib --product vidclass >&2)
  SOURCE_BIN="$(cd "$ROOT" && swift build -c release --static-swift-stdlib --show-bin-path)/vidclass"
fi
mkdir -p "$WORK/bin"; cp "$SOURCE_BIN" "$WORK/bin/vidclass"; BIN="$WORK/bin/vidclass"
cd "$WORK"
passed=0; failed=0
ok() { echo "  ok: $1"; passed=$((passed + 1)); }
bad() { echo "  FAILED: $1"; failed=$((failed + 1)); }
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }
count() { grep -c "\"event\":\"$2\"" "$1" || true; }
PORT=$((20000 + RANDOM % 20000))
URL="udp://127.0.0.1:$PORT"
# A live publisher: 360p at 30 fps in real time, encoded for low latency, for $1 seconds.
publish() {
  ffmpeg -nostdin -v error -re -f lavfi -i "testsrc2=size=640x360:rate=30" -t "$1" -c:v libx264 -preset ultrafast \
    -tune zerolatency -g 30 -f mpegts "$URL?pkt_size=1316" &
  PUB=$!; PIDS+=("$PUB")
}

echo "1. live over UDP: latency, a publisher killed and restarted, --exec, Ctrl-C"
"$BIN" watch "$URL" --reconnect --stall-timeout 2s --every 500ms --threshold 0.3 \
  --exec 'echo "$VIDCLASS_EVENT $VIDCLASS_LABEL" >> hook.txt; cat >> hook.jsonl' -o live.jsonl 2>live.err &
WATCH=$!; PIDS+=("$WATCH")
# The latency counts from the publisher's start, so start ffmpeg once beforehand: in one CI run
# every prediction came 0.7 s later than in the next (median 1.01 s against 0.29 s), a constant
# offset, so from the publisher's start rather than the watcher.
ffmpeg -nostdin -v error -f lavfi -i "testsrc2=size=640x360:rate=30" -t 0.2 -c:v libx264 -preset ultrafast \
  -tune zerolatency -f mpegts -y /dev/null
sleep 1
date +%s.%N > publish1.start
publish 600; sleep 8; kill -9 "$PUB"; wait "$PUB" 2>/dev/null || true
sleep 5
date +%s.%N > publish2.start
publish 6; wait "$PUB" || true
sleep 2
kill -INT "$WATCH"; status=0; wait "$WATCH" || status=$?
check "Ctrl-C ends the watch with status 0 and a finished event saying stopped" \
  '[ "$status" -eq 0 ] && tail -1 live.jsonl | grep -q "\"event\":\"finished\"" && tail -1 live.jsonl | grep -q "\"reason\":\"stopped\""'
check "the first publication is opened" '[ "$(count live.jsonl opened)" -eq 1 ]'
check "the killed publisher is a disconnection" '[ "$(count live.jsonl disconnected)" -ge 1 ]'
check "its return is a reconnection" '[ "$(count live.jsonl reconnected)" -eq 1 ]'
python3 - live.jsonl publish1.start <<'PY' > latency.txt
import json, sys, datetime
start = float(open(sys.argv[2]).read())
events = [json.loads(l) for l in open(sys.argv[1])]
lat = []
for e in events:
    if e["event"] == "reconnected":
        break
    if e["event"] == "prediction":
        wall = datetime.datetime.fromisoformat(e["wall"].replace("Z", "+00:00")).timestamp()
        lat.append(wall - (start + e["time"]))
lat.sort()
print(len(lat), round(lat[len(lat) // 2], 3) if lat else 99, round(lat[int(len(lat) * 0.95)], 3) if lat else 99)
PY
read -r n median p95 < latency.txt
echo "     publish-to-event latency over $n predictions: median $median s, 95th percentile $p95 s"
check "predictions arrive within 1 s of publication (median; publisher start-up included)" \
  "python3 -c 'import sys; sys.exit(0 if $n >= 10 and $median < 1.0 else 1)'"
check "predictions after the reconnection" \
  'python3 -c "import json,sys; e=[json.loads(l) for l in open(\"live.jsonl\")]; i=[x[\"event\"] for x in e].index(\"reconnected\"); sys.exit(0 if any(x[\"event\"]==\"prediction\" for x in e[i:]) else 1)"'
started=$(count live.jsonl started)
check "--exec ran once per started event ($started) with the event in its environment and on its input" \
  '[ "$started" -ge 1 ] && [ "$(grep -c "^started " hook.txt)" -eq "$started" ] && [ "$(grep -c "\"event\":\"started\"" hook.jsonl)" -eq "$started" ]'

echo "1b. a publisher restarted within the stall timeout: a new stream on the same connection"
"$BIN" watch "$URL" --stall-timeout 5s -o restart.jsonl 2>restart.err &
WATCH=$!; PIDS+=("$WATCH")
sleep 1; publish 4; wait "$PUB" || true; sleep 0.5; publish 4; wait "$PUB" || true
sleep 1; kill -INT "$WATCH"; wait "$WATCH" || true
check "its timestamps starting again are a disconnected/reconnected pair, predictions after it" \
  'grep -q "timestamps went back" restart.jsonl && python3 -c "import json,sys; e=[json.loads(l) for l in open(\"restart.jsonl\")]; k=[x[\"event\"] for x in e]; i=k.index(\"reconnected\"); sys.exit(0 if \"prediction\" in k[i:] else 1)"'

echo "2. an endless live source for 40 s: memory stays flat"
publish 100000
"$BIN" watch "$URL" --stall-timeout 5s -o endless.jsonl 2>endless.err &
WATCH=$!; PIDS+=("$WATCH")
sleep 10; rss1=$(awk '/VmRSS/ {print $2}' "/proc/$WATCH/status")
sleep 30; rss2=$(awk '/VmRSS/ {print $2}' "/proc/$WATCH/status")
kill -TERM "$WATCH"; status=0; wait "$WATCH" || status=$?
kill -9 "$PUB" 2>/dev/null || true; wait "$PUB" 2>/dev/null || true
echo "     resident memory after 10 s: $rss1 KB, after 40 s: $rss2 KB"
check "SIGTERM ends it with status 0" '[ "$status" -eq 0 ] && tail -1 endless.jsonl | grep -q "\"event\":\"finished\""'
check "memory grows by less than 8 MB over 30 s of 30 fps" '[ $((rss2 - rss1)) -lt 8192 ]'

echo "3. a source that outpaces the network: dropped frames are reported"
ffmpeg -nostdin -v error -f lavfi -i "testsrc2=size=320x180:rate=1000" -t 3 -c:v libx264 -preset ultrafast fast.mp4
"$BIN" watch fast.mp4 --realtime --window 20ms --every-frames 1 -o fast.jsonl 2>fast.err || true
dropped=$(python3 -c 'import json,sys; print(sum(json.loads(l).get("dropped",0) for l in open("fast.jsonl") if "\"event\":\"dropped\"" in l))')
total=$(python3 -c 'import json; print([json.loads(l) for l in open("fast.jsonl")][-1].get("dropped", -1))')
echo "     $dropped of 3000 frames dropped at 1,000 frames/s"
check "dropped events say how many frames were left out, and finished counts them all" '[ "$dropped" -gt 0 ] && [ "$dropped" -eq "$total" ]'
"$BIN" watch fast.mp4 --window 20ms --every-frames 1 -o fast2.jsonl 2>fast2.err
check "the same file read as fast as possible drops nothing" '[ "$(count fast2.jsonl dropped)" -eq 0 ] && tail -1 fast2.jsonl | grep -q "\"frames\":3000"'

echo "4. standard input, a missing device, a silent URL"
status=0
ffmpeg -nostdin -v error -f lavfi -i "testsrc2=size=320x180:rate=30" -t 3 -c:v libx264 -preset ultrafast -f mpegts - \
  | "$BIN" watch - -o stdin.jsonl 2>stdin.err || status=$?
check "a pipe (MPEG-TS from another program) is watched to its end, its writer waiting (nothing dropped)" '[ "$status" -eq 0 ] && [ "$(count stdin.jsonl opened)" -eq 1 ] && [ "$(count stdin.jsonl prediction)" -ge 1 ] && [ "$(count stdin.jsonl dropped)" -eq 0 ]'
status=0; "$BIN" watch /dev/video97 > dev.jsonl 2>dev.err || status=$?
check "a capture device that is not there is named (exit 1)" '[ "$status" -eq 1 ] && grep -q "/dev/video97" dev.err'
status=0; timeout 20 "$BIN" watch "udp://127.0.0.1:$((PORT + 1))" --stall-timeout 2s > quiet.jsonl 2>quiet.err || status=$?
check "a live source that never sends gives up after the stall timeout (exit 1, named)" '[ "$status" -eq 1 ] && grep -q "no data for 2" quiet.err'

status=0; "$BIN" watch fast.mp4 -o /dev/full 2>full.err || status=$?
check "a full disk stops the watch with the reason (exit 1)" '[ "$status" -eq 1 ] && grep -q "/dev/full: cannot write" full.err'
mkfifo fifo
status=0; timeout 20 "$BIN" watch fifo >fifo.jsonl 2>fifo.err || status=$?
check "a FIFO named as a file is refused, not waited on for ever" '[ "$status" -eq 1 ] && grep -q "fifo" fifo.err'

echo "watch test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
