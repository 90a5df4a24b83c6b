#!/usr/bin/env bash
# Every torchvision encoder through the installed release binary, end to end on real footage:
# for each of resnet34, resnet50, mobilenet_v2, mobilenet_v3_small, mobilenet_v3_large and
# efficientnet_b0, a model is trained from scratch for one epoch on the bundled synthetic clips
# (standing in for an imported backbone: this machine may have no PyTorch), then its encoder is
# frozen and a new recurrent layer and head are trained on ../shared/data/surveillance-fight
# (`train --init-from … --freeze-encoder`); the result is described by `info`, classifies a clip
# (with the same probabilities on every vector instruction set the CPU has, and within a hundredth
# of them in bf16) and streams a timeline.
# A mismatched --encoder is refused with a message.
#   bash scripts/test-encoders.sh [path/to/vidclass]    (default: builds the release binary)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
if [ $# -ge 1 ]; then
  SOURCE_BIN="$(realpath "$1")"
else
  (cd "$ROOT" && swift build -c release --static-swift-stdlib --product vidclass >&2)
  SOURCE_BIN="$(cd "$ROOT" && swift build -c release --static-swift-stdlib --show-bin-path)/vidclass"
fi
FIGHT="${VIDCLASS_SHARED_DATA:-$ROOT/../shared/data}/surveillance-fight"
if [ ! -f "$FIGHT/labels.csv" ]; then
  echo "test-encoders: $FIGHT is missing: skipped"
  exit 0
fi
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/bin"
cp "$SOURCE_BIN" "$WORK/bin/vidclass"   # installed: a copy outside .build
BIN="$WORK/bin/vidclass"
fail() { echo "test-encoders: FAILED: $*" >&2; exit 1; }
CLIPS=("$FIGHT"/fight/*)
CLIP="${CLIPS[0]}"
# The vector instruction sets this CPU can run (the best is every other run's default).
ISAS="baseline"
grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo && ISAS="avx2 $ISAS"
grep -qw avx512f /proc/cpuinfo && grep -qw avx512vl /proc/cpuinfo && ISAS="avx512 $ISAS"
echo "test-encoders: classify compared across VIDCLASS_VECTOR_ISA = ${ISAS// /, }"
cd "$WORK"
for encoder in resnet34 resnet50 mobilenet_v2 mobilenet_v3_small mobilenet_v3_large efficientnet_b0; do
  start=$(date +%s)
  "$BIN" train "$ROOT/Fixtures/synthetic" -o "init-$encoder.safetensors" --encoder "$encoder" --input rgb \
      --size 64 --frames 4 --epochs 1 --validation-fraction 0 > "init-$encoder.log" 2>&1 \
    || { cat "init-$encoder.log"; fail "$encoder: training from scratch"; }
  "$BIN" train "$FIGHT" -o "frozen-$encoder.safetensors" --init-from "init-$encoder.safetensors" --freeze-encoder \
      --input rgb --size 64 --frames 4 --epochs 2 --hidden 64 --cache "$WORK/cache" > "frozen-$encoder.log" 2>&1 \
    || { cat "frozen-$encoder.log"; fail "$encoder: frozen-encoder training on surveillance-fight"; }
  grep -q "300 clips, 2 classes" "frozen-$encoder.log" || { cat "frozen-$encoder.log"; fail "$encoder: not all 300 clips"; }
  info="$("$BIN" info --model "frozen-$encoder.safetensors")"
  echo "$info" | grep -q "encoder *lrcn-${encoder//_/-}" || { echo "$info"; fail "$encoder: info does not name the encoder"; }
  echo "$info" | grep -q "labels *2: fight, noFight" || fail "$encoder: labels"
  "$BIN" classify "$CLIP" --model "frozen-$encoder.safetensors" --format json > "classify-$encoder.json"
  python3 - "classify-$encoder.json" <<'EOF' || fail "$encoder: classify output"
import json, sys
result = json.load(open(sys.argv[1]))[0]
probabilities = {p["label"]: p["score"] for p in result["labels"]}
assert set(probabilities) == {"fight", "noFight"}, probabilities
assert abs(sum(probabilities.values()) - 1) < 1e-3, probabilities
EOF
  # The same probabilities with every instruction set this CPU has (VIDCLASS_VECTOR_ISA caps the
  # kernels' choice; the default is the best).
  for isa in $ISAS; do
    VIDCLASS_VECTOR_ISA=$isa "$BIN" classify "$CLIP" --model "frozen-$encoder.safetensors" --format json > "classify-$encoder-$isa.json"
    python3 - "classify-$encoder.json" "classify-$encoder-$isa.json" <<'EOF' || fail "$encoder: $isa kernels differ"
import json, sys
best, capped = ({p["label"]: p["score"] for p in json.load(open(f))[0]["labels"]} for f in sys.argv[1:])
assert all(abs(best[k] - capped[k]) < 1e-4 for k in best), (best, capped)
EOF
  done
  # In bf16: within a hundredth of fp32, recorded in the JSON, and the same (to the order of the
  # additions) whether the CPU's AVX-512 BF16 instructions run it or fp32 multiply-adds do.
  for isa in $ISAS; do
    VIDCLASS_VECTOR_ISA=$isa "$BIN" classify "$CLIP" --model "frozen-$encoder.safetensors" --format json --precision bf16 \
      > "classify-$encoder-$isa-bf16.json"
    python3 - "classify-$encoder.json" "classify-$encoder-$isa-bf16.json" "classify-$encoder-${ISAS%% *}-bf16.json" <<'EOF' \
      || fail "$encoder: bf16 with $isa kernels"
import json, sys
single, rounded, first = (json.load(open(f))[0] for f in sys.argv[1:])
assert rounded.get("inferencePrecision") == "bf16", rounded
scores = [{p["label"]: p["score"] for p in r["labels"]} for r in (single, rounded, first)]
assert all(abs(scores[0][k] - scores[1][k]) < 1e-2 for k in scores[0]), scores
assert all(abs(scores[2][k] - scores[1][k]) < 1e-3 for k in scores[0]), scores
EOF
  done
  "$BIN" classify "$CLIP" --model "frozen-$encoder.safetensors" --timeline --format csv > "timeline-$encoder.csv"
  [ "$(wc -l < "timeline-$encoder.csv")" -ge 2 ] || fail "$encoder: timeline"
  echo "  ok: $encoder: from scratch, frozen-encoder training on 300 clips, info, classify (each instruction set, fp32 and bf16), timeline ($(( $(date +%s) - start )) s)"
done
if "$BIN" train "$FIGHT" -o wrong.safetensors --init-from init-resnet34.safetensors --encoder mobilenet_v2 --freeze-encoder \
    > wrong.log 2>&1; then
  fail "a mismatched --encoder was accepted"
fi
grep -q "differs from --init-from's encoder" wrong.log || { cat wrong.log; fail "the mismatch message"; }
[ ! -e wrong.safetensors ] || fail "a refused run wrote a model"
echo "  ok: a mismatched --encoder is refused"
echo "test-encoders: all passed"
