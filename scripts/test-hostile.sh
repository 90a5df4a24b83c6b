#!/usr/bin/env bash
# The hostile-environment suite, on the release binary: special files, link loops, unreadable
# folders, one file under several names, two writers on one output, outputs over inputs, existing
# results, endless model and stdin inputs, damaged merge inputs, absurd option values, signals.
# Every case must end by itself within its limit, keep every record exactly once, and say what
# happened (message and exit status).
#   bash scripts/test-hostile.sh [path/to/vidclass]     (default: builds the release binary)
set -uo pipefail
[ -n "${HOSTILE_DEBUG:-}" ] && set -x
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
if [ $# -ge 1 ]; then
  BIN="$(realpath "$1")"
else
  (cd "$ROOT" && swift build -c release --static-swift-stdlib --product vidclass >&2) || exit 1
  BIN="$(cd "$ROOT" && swift build -c release --static-swift-stdlib --show-bin-path)/vidclass"
fi
WORK="$(mktemp -d)"
chmod 755 "$WORK"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; chmod -R u+rwX "$WORK" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
passed=0; failed=0
ok() { echo "  ok: $1"; passed=$((passed + 1)); }
bad() { echo "  FAILED: $1"; failed=$((failed + 1)); }
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }
# Runs the binary with a hard time limit; sets OUT, ERR, STATUS (124: it did not end by itself).
run() {
  local limit="$1"; shift
  timeout -s KILL "$limit" "$BIN" "$@" >"$WORK/out" 2>"$WORK/err" </dev/null
  STATUS=$?; OUT="$(cat "$WORK/out")"; ERR="$(cat "$WORK/err")"
}
records() { grep -c . "$1" 2>/dev/null || echo 0; }
paths_once() { python3 -c 'import json,sys,collections; c=collections.Counter(json.loads(l)["path"] for l in open(sys.argv[1]) if l.strip()); sys.exit(0 if c and max(c.values())==1 else 1)' "$1"; }

CLIPS="$ROOT/Fixtures/synthetic"
mk_videos() {  # a folder with 4 real clips
  mkdir -p "$1"
  local i=0
  for f in "$CLIPS"/move_right/* "$CLIPS"/move_left/* "$CLIPS"/grow/* "$CLIPS"/shrink/*; do
    cp "$f" "$1/clip$i.${f##*.}"; i=$((i + 1))
  done
}

echo "== special files"
mk_videos "$WORK/special"
mkfifo "$WORK/special/pipe.mp4"
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$WORK/special/sock.mp4"
run 60 label "$WORK/special" -o "$WORK/special.jsonl"
check "label over a FIFO and a socket ends by itself" '[ $STATUS -ne 124 ]'
check "... exits 1 and names both" '[ $STATUS -eq 1 ] && grep -q "pipe.mp4: is a FIFO" <<<"$ERR" && grep -q "sock.mp4: is a socket" <<<"$ERR"'
check "... and labels the 4 clips once each" '[ "$(records "$WORK/special.jsonl")" -eq 4 ] && paths_once "$WORK/special.jsonl"'
run 30 classify "$WORK/special/pipe.mp4"
check "classify on a FIFO ends with an error naming it" '[ $STATUS -eq 1 ] && grep -q "pipe.mp4.*FIFO" <<<"$ERR"'
run 30 probe "$WORK/special/pipe.mp4"
check "probe on a FIFO ends with an error naming it" '[ $STATUS -eq 1 ] && grep -q "pipe.mp4.*FIFO" <<<"$ERR"'
run 30 classify /dev/zero
check "classify on a device ends with an error" '[ $STATUS -eq 1 ] && grep -q "/dev/zero.*device" <<<"$ERR"'

echo "== link loops and several names of one file"
mk_videos "$WORK/loop/a"
ln -s .. "$WORK/loop/a/up"
ln -s "$WORK/loop" "$WORK/loop/a/again"
ln -s "$(cd "$WORK/loop/a" && ls clip0.* | head -1)" "$WORK/loop/a/alias.mp4"
FIRST_CLIP="$(cd "$WORK/loop/a" && ls clip0.* | head -1)"; SECOND_CLIP="$(cd "$WORK/loop/a" && ls clip1.* | head -1)"
(cd "$WORK" && run 60 label "$WORK/loop" "$WORK/loop/a/$FIRST_CLIP" "loop/../loop/a/$SECOND_CLIP" -o "$WORK/loop.jsonl"
 echo "$STATUS" > "$WORK/status")
STATUS="$(cat "$WORK/status")"
check "a folder with link loops is walked once and the walk ends" '[ $STATUS -eq 0 ] || [ $STATUS -eq 1 ]'
check "... every real file is recorded exactly once (4 records)" '[ "$(records "$WORK/loop.jsonl")" -eq 4 ] && paths_once "$WORK/loop.jsonl"'

echo "== names that are not UTF-8"
mkdir -p "$WORK/latin1"
LATIN1="$(printf 'caf\351.mp4')"
cp "$CLIPS"/grow/* "$WORK/latin1/$LATIN1"
cp "$CLIPS"/shrink/* "$WORK/latin1/plain.mp4"
run 60 label "$WORK/latin1" -o "$WORK/latin1.jsonl"
check "a file named in Latin-1 is labelled, not reported missing" '[ $STATUS -eq 0 ] && [ "$(records "$WORK/latin1.jsonl")" -eq 2 ] && ! grep -q "\"error\"" "$WORK/latin1.jsonl"'
check "... its record carries the byte as U+F7E9 (the documented escape)" 'python3 -c "import json,sys; ps=[json.loads(l)[\"path\"] for l in open(sys.argv[1])]; sys.exit(0 if any(p.endswith(\"caf\uf7e9.mp4\") for p in ps) else 1)" "$WORK/latin1.jsonl"'
run 60 label "$WORK/latin1" -o "$WORK/latin1.jsonl" --resume
check "... and --resume finds it again (nothing to do)" '[ $STATUS -eq 0 ] && grep -q "labelled 0, failed 0 (0 timed out), skipped 2" <<<"$ERR"'
run 60 classify "$WORK/latin1/$LATIN1" --top 1
check "... classify opens it by its bytes" '[ $STATUS -eq 0 ] && grep -q grow <<<"$OUT"'
printf '%s\n' "$WORK/latin1/$LATIN1" > "$WORK/latin1.list"
run 60 label --files-from "$WORK/latin1.list" -o "$WORK/latin1-list.jsonl"
check "... and --files-from reads its bytes" '[ $STATUS -eq 0 ] && [ "$(records "$WORK/latin1-list.jsonl")" -eq 1 ] && ! grep -q "\"error\"" "$WORK/latin1-list.jsonl"'

echo "== unreadable folders"
mk_videos "$WORK/perm/ok"
mkdir -p "$WORK/perm/closed" && cp "$CLIPS"/move_up/* "$WORK/perm/closed/" && chmod 000 "$WORK/perm/closed"
chmod -R a+rX "$WORK/perm/ok"; chmod a+rwx "$WORK"
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
  AS_NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
else
  AS_NOBODY=()
fi
timeout -s KILL 60 "${AS_NOBODY[@]}" "$BIN" label "$WORK/perm" -o "$WORK/perm.jsonl" >"$WORK/out" 2>"$WORK/err" </dev/null; STATUS=$?; ERR="$(cat "$WORK/err")"
check "an unreadable folder is reported and the exit status says so" '[ $STATUS -eq 1 ] && grep -q "closed: cannot read the folder" <<<"$ERR"'
check "... the readable clips are labelled" '[ "$(records "$WORK/perm.jsonl")" -eq 4 ]'
chmod 755 "$WORK/perm/closed"

echo "== one writer per output"
mk_videos "$WORK/two"
ORIGINALS=("$WORK"/two/clip*)
for i in 1 2 3 4; do for f in "${ORIGINALS[@]}"; do cp "$f" "${f%.*}-$i.${f##*.}"; done; done
"$BIN" label "$WORK/two" -o "$WORK/two.jsonl" --jobs 1 >/dev/null 2>"$WORK/first.err" </dev/null &
FIRST=$!; PIDS+=("$FIRST")
for _ in $(seq 1 50); do [ -s "$WORK/two.jsonl" ] && break; sleep 0.1; done
run 30 label "$WORK/two" -o "$WORK/two.jsonl" --resume
check "a second writer is refused at once, naming the holder" '[ $STATUS -eq 2 ] && grep -q "being written by another vidclass run (process $FIRST)" <<<"$ERR"'
timeout -s KILL 120 "$BIN" label "$WORK/two" -o "$WORK/two.jsonl" --resume --wait-for-output >"$WORK/out" 2>"$WORK/err" </dev/null &
WAITER=$!; PIDS+=("$WAITER")
wait "$FIRST"; FIRST_STATUS=$?
wait "$WAITER"; WAITER_STATUS=$?; ERR="$(cat "$WORK/err")"
check "... the first run finishes and every file is recorded exactly once" '[ $FIRST_STATUS -eq 0 ] && [ "$(records "$WORK/two.jsonl")" -eq 20 ] && paths_once "$WORK/two.jsonl"'
check "... a run with --wait-for-output waits, then resumes with nothing left to do" '[ $WAITER_STATUS -eq 0 ] && grep -q "labelled 0, failed 0 (0 timed out), skipped 20" <<<"$ERR"'

# A resumed run keeps its lock after reading what is recorded (closing another descriptor of the
# file would drop a POSIX lock).
head -1 "$WORK/two.jsonl" > "$WORK/resumed.jsonl"
"$BIN" label "$WORK/two" -o "$WORK/resumed.jsonl" --resume --jobs 1 >/dev/null 2>"$WORK/first.err" </dev/null &
FIRST=$!; PIDS+=("$FIRST")
for _ in $(seq 1 100); do [ "$(records "$WORK/resumed.jsonl")" -gt 1 ] && break; sleep 0.1; done
run 30 label "$WORK/two" -o "$WORK/resumed.jsonl" --resume
check "a --resume run holds its lock too" '[ $STATUS -eq 2 ] && grep -q "being written by another vidclass run (process $FIRST)" <<<"$ERR"'
wait "$FIRST"

echo "== outputs never destroy data"
mk_videos "$WORK/safe"
VICTIM="$(ls "$WORK"/safe/clip0.* | head -1)"
SUM="$(md5sum "$VICTIM")"
run 30 label "$WORK/safe" -o "$VICTIM"
check "an output that is one of the inputs is refused" '[ $STATUS -ne 0 ] && grep -q "one of the inputs" <<<"$ERR" && [ "$(md5sum "$VICTIM")" = "$SUM" ]'
run 60 label "$WORK/safe" -o "$WORK/safe.jsonl"
cp "$WORK/safe.jsonl" "$WORK/safe.before"
run 30 label "$WORK/safe" -o "$WORK/safe.jsonl"
check "an existing results file is refused without --resume or --overwrite" '[ $STATUS -eq 2 ] && grep -q "already holds results" <<<"$ERR" && cmp -s "$WORK/safe.jsonl" "$WORK/safe.before"'
run 60 label "$WORK/safe" -o "$WORK/safe.jsonl" --overwrite
check "... --overwrite replaces it" '[ $STATUS -eq 0 ] && [ "$(records "$WORK/safe.jsonl")" -eq 4 ]'
printf 'path,label\nx.mp4,cat\n' > "$WORK/not-jsonl.csv"
echo 'garbage {' >> "$WORK/safe.before"
run 30 merge -o "$WORK/merged.jsonl" "$WORK/safe.before" "$WORK/not-jsonl.csv"
check "merge reports every line it cannot use and exits non-zero" '[ $STATUS -eq 1 ] && [ "$(grep -c "not a label record" <<<"$ERR")" -eq 3 ] && [ "$(records "$WORK/merged.jsonl")" -eq 4 ]'
run 30 merge -o "$WORK/safe.before" "$WORK/safe.before"
check "merge refuses to write over one of its inputs" '[ $STATUS -ne 0 ] && grep -q "one of the inputs" <<<"$ERR"'

echo "== retrying failures on resume"
mk_videos "$WORK/retry"
printf 'not a video yet' > "$WORK/retry/late.mp4"
run 60 label "$WORK/retry" -o "$WORK/retry.jsonl"
cp "$CLIPS"/move_down/* "$WORK/retry/late.mp4"; touch -d '+1 min' "$WORK/retry/late.mp4"
run 60 label "$WORK/retry" -o "$WORK/retry.jsonl" --resume --retry-failed
check "--retry-failed labels the failed file again" '[ $STATUS -eq 0 ] && tail -1 "$WORK/retry.jsonl" | grep -q "\"status\":\"ok\"" && tail -1 "$WORK/retry.jsonl" | grep -q late.mp4'
run 60 merge -o "$WORK/retry-merged.jsonl" "$WORK/retry.jsonl"
check "... and merge keeps the file once, with its new record" '[ "$(records "$WORK/retry-merged.jsonl")" -eq 5 ] && grep late.mp4 "$WORK/retry-merged.jsonl" | grep -q "\"status\":\"ok\""'

echo "== endless inputs"
run 30 classify "$VICTIM" --model /dev/zero
check "--model /dev/zero ends at once with an error" '[ $STATUS -eq 1 ] && grep -q "/dev/zero" <<<"$ERR"'
head -c 50000000 /dev/zero > "$WORK/big"
mkdir -p "$WORK/tmp1"
timeout -s KILL 60 env VIDCLASS_MAX_STDIN_BYTES=10000000 TMPDIR="$WORK/tmp1" "$BIN" classify - <"$WORK/big" >/dev/null 2>"$WORK/err"; STATUS=$?
mkdir -p "$WORK/tmp1"
check "stdin beyond the spool limit is refused, named as -" '[ $STATUS -ne 0 ] && [ $STATUS -ne 124 ] && grep -q -- "-: standard input is larger" "$WORK/err" && [ -z "$(ls -A "$WORK/tmp1")" ]'
mkdir -p "$WORK/tmp2"
(cat /dev/zero | TMPDIR="$WORK/tmp2" "$BIN" classify - >/dev/null 2>&1) &
SPOOLER=$!; PIDS+=("$SPOOLER")
sleep 1.5
pkill -INT -f "vidclass classify -$" 2>/dev/null || kill -INT "$SPOOLER"
wait "$SPOOLER" 2>/dev/null
sleep 0.5
check "an interrupted stdin spool leaves no temporary file" '[ -z "$(ls -A "$WORK/tmp2")" ]'

timeout -s KILL 60 env TMPDIR="$WORK/no-such-folder" "$BIN" classify - --top 1 <"$VICTIM" >"$WORK/out" 2>"$WORK/err"; STATUS=$?
check "a small standard input is decoded from memory (no temporary file, none possible here)" '[ $STATUS -eq 0 ] && [ -n "$(cat "$WORK/out")" ] && [ ! -e "$WORK/no-such-folder" ]'

echo "== absurd option values"
for args in "--timeout nan" "--timeout inf" "--timeout -1" "--jobs 0" "--window 0" "--stride nan" "--top 0"; do
  run 30 label "$WORK/safe" -o "$WORK/absurd.jsonl" $args
  name="${args%% *}"
  check "label $args is refused naming $name" '[ $STATUS -eq 64 ] && grep -q -- "$name" <<<"$ERR"'
done
for args in "--window 0 --timeline" "--stride inf --timeline" "--top 0" "--threads -1"; do
  run 30 classify "$VICTIM" $args
  name="$(awk '{print $1}' <<<"$args")"
  check "classify $args is refused naming $name" '[ $STATUS -eq 64 ] && grep -q -- "$name" <<<"$ERR"'
done

for args in "--lr nan" "--lr 0" "--weight-decay inf" "--clip-norm -1" "--dropout 2" "--epochs 0" "--jobs 0" "--label-smoothing 1"; do
  run 30 train "$WORK/safe" -o "$WORK/m.safetensors" $args
  name="${args%% *}"
  check "train $args is refused naming $name" '[ $STATUS -eq 64 ] && grep -q -- "$name" <<<"$ERR"'
done

for args in "--tasks bogus" "--models lrcn-huge" "--batches 0x16"; do
  run 30 bench model $args
  name="${args%% *}"
  check "bench model $args is refused naming $name" '[ $STATUS -eq 64 ] && grep -q -- "$name" <<<"$ERR"'
done

for args in "--batch-limit 0" "--every 0"; do
  run 30 bench stream "$VICTIM" $args
  name="${args%% *}"
  check "bench stream $args is refused naming $name" '[ $STATUS -eq 64 ] && grep -q -- "$name" <<<"$ERR"'
done
# The same stream in batches of up to 16 frames and one frame at a time: the same predictions.
run 120 bench stream "$VICTIM" --every 2
BATCHED="$OUT"
run 120 bench stream "$VICTIM" --every 2 --batch-limit 1
check "bench stream gives the same number of predictions with batches and one frame at a time" \
  '[ $STATUS -eq 0 ] && grep -q "batch limit 1" <<<"$OUT" && [ -n "$(grep -o "[0-9]* predictions" <<<"$BATCHED")" ] && [ "$(grep -o "[0-9]* predictions" <<<"$BATCHED")" = "$(grep -o "[0-9]* predictions" <<<"$OUT")" ]'

echo "hostile environment: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
