#!/usr/bin/env bash
# `vidclass report` end to end, as a person uses it: the installed release binary labels real
# clips (the 300 of ../shared/data/surveillance-fight when present, synthetic ones otherwise),
# evaluates a labelled set and makes a timeline; the report of the three opens in headless
# Chromium, where Tests/Browser/report_test.py checks the page, corrects three labels and
# downloads them; `vidclass train` then trains from the label output with those corrections and
# from the downloaded reviewed labels.
#   bash scripts/test-report.sh [path/to/vidclass]   (default: builds the release binary)
# SCREENSHOTS=dir keeps the page's screenshots there (the README's come from here).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
bash "$ROOT/scripts/install-deps.sh" --tests
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
# Chromium's own temporary folders (org.chromium.Chromium.*) go in here too, and with it.
mkdir "$WORK/tmp"
export TMPDIR="$WORK/tmp"
if [ $# -ge 1 ]; then
  SOURCE_BIN="$(realpath "$1")"
else
  (cd "$ROOT" && swift build -c release --static-swift-stdlib --product vidclass >&2)
  SOURCE_BIN="$(cd "$ROOT" && swift build -c release --static-swift-stdlib --show-bin-path)/vidclass"
fi
# Installed: the binary alone, outside the build tree.
mkdir -p "$WORK/bin" "$WORK/downloads" "$WORK/shots"
cp "$SOURCE_BIN" "$WORK/bin/vidclass"
BIN="$WORK/bin/vidclass"
cd "$WORK"

FIGHT="$ROOT/../shared/data/surveillance-fight"
if [ -d "$FIGHT/fight" ]; then
  CLIPS=("$FIGHT/fight" "$FIGHT/noFight"); EXPECT=300
else
  "$BIN" synth clips --clips-per-class 3 --seed 5 >/dev/null; CLIPS=(clips); EXPECT=33
fi
# One damaged file among them, so the page has an error to list.
printf 'not a video' > broken.mp4
"$BIN" label "${CLIPS[@]}" broken.mp4 -o labels.jsonl 2>label.err || [ $? -eq 1 ]
test "$(grep -c . labels.jsonl)" -eq $((EXPECT + 1)) || { echo "label wrote $(grep -c . labels.jsonl) records, expected $((EXPECT + 1))"; exit 1; }
"$BIN" synth evalset --clips-per-class 2 --seed 11 >/dev/null
"$BIN" evaluate evalset --format json > eval.json
"$BIN" synth longclip --clips-per-class 1 --seed 12 >/dev/null
"$BIN" classify --timeline --window 1s --stride 500ms --format json "$(ls longclip/grow/* | head -1)" "$(ls longclip/shrink/* | head -1)" > timeline.json
start=$(date +%s.%N)
"$BIN" report labels.jsonl eval.json timeline.json -o report
echo "report built in $(python3 -c "print(round($(date +%s.%N) - $start, 2))") s"
# An existing report is not overwritten without --overwrite.
if "$BIN" report labels.jsonl -o report 2>err; then echo "a second report over the first was not refused"; exit 1; fi
grep -q "already exists" err

# Refusals and interruptions: a named input that is missing, a folder that cannot be written,
# Ctrl-C half-way (exit 130, nothing left behind).
status=0; "$BIN" report missing.jsonl -o nothing 2>err || status=$?
[ "$status" -eq 2 ] && grep -q "missing.jsonl" err && [ ! -e nothing ] || { cat err; echo "a missing input was not named (status $status)"; exit 1; }
mkdir locked && chmod 555 locked
if [ "$(id -u)" -ne 0 ]; then
  status=0; "$BIN" report labels.jsonl -o locked/report 2>err || status=$?
  [ "$status" -eq 2 ] && grep -q "locked/report" err || { cat err; echo "an unwritable folder was not refused (status $status)"; exit 1; }
fi
"$BIN" report labels.jsonl -o interrupted 2>err & pid=$!
sleep 2; kill -INT "$pid"; status=0; wait "$pid" || status=$?
[ "$status" -eq 130 ] && [ ! -e interrupted ] && ! ls -a | grep -q "interrupted.partial" \
  || { cat err; ls -a; echo "an interrupted report left something behind (status $status)"; exit 1; }

/usr/bin/python3 "$ROOT/Tests/Browser/report_test.py" report downloads "${SCREENSHOTS:-$WORK/shots}"

# Ten thousand rows (no thumbnails): the page draws, pages and filters them (times printed).
python3 - labels10k.jsonl <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for n in range(10000):
        label = ["fight", "noFight", "unclear"][n % 3]
        f.write(json.dumps({"path": f"/nonexistent/clip_{n:05}.mp4", "status": "ok" if n % 97 else "error", "label": label if n % 97 else None,
                            "score": (n % 100) / 100, "model": "m", "modelHash": "h", "size": n, "mtime": 0,
                            "error": None if n % 97 else "cannot open: No such file or directory"}) + "\n")
PY
"$BIN" report labels10k.jsonl --no-thumbnails -o report10k >/dev/null
/usr/bin/python3 "$ROOT/Tests/Browser/report_large_test.py" report10k

# label -> review -> retrain: the corrections downloaded from the page train a model.
TINY=(--frames 4 --size 16 --short-side 20 --input diff --hidden 16 --batch-size 8 --epochs 1 --validation-fraction 0)
relabelled=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["relabelled"])' downloads/expected.json)
"$BIN" train labels.jsonl --corrections downloads/corrections.csv -o corrected.safetensors "${TINY[@]}" 2>train.err
grep -q "corrections.csv: $relabelled clip(s) relabelled, 1 excluded" train.err || { cat train.err; echo "train did not apply the corrections"; exit 1; }
test -s corrected.safetensors
"$BIN" train downloads/labels.csv -o reviewed.safetensors "${TINY[@]}" 2>train2.err || { cat train2.err; exit 1; }
rows=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["reviewed_rows"])' downloads/expected.json)
grep -q "^train: $rows clips" train2.err || { cat train2.err; echo "train read a different number of clips than labels.csv holds ($rows)"; exit 1; }
"$BIN" evaluate evalset --corrections downloads/corrections.csv --format json > /dev/null 2>eval.err
grep -q "evaluate: .*corrections.csv: 0 clip(s) relabelled, 0 excluded; 3 correction(s) name files not in the dataset" eval.err \
  || { cat eval.err; echo "evaluate did not read the corrections"; exit 1; }
echo "report test passed"
