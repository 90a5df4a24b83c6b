#!/usr/bin/env bash
# vidclass as users get it, from a fresh clone of this repository's HEAD:
#  1. Installed: scripts/install.sh into a temporary prefix, then the copy run alone from an empty
#     folder with no build folder in sight: it classifies a clip with its embedded default model.
#     The install reuses this tree's release build (the other scripts' binary) and its build
#     folder is hidden from the run by an empty tmpfs in a private mount namespace; where
#     namespaces are not allowed, the clone builds and installs itself and its build folder is
#     deleted instead (one more release build).
#  2. As a dependency: Examples/FolderWatcher depends on vidclass by URL and version
#     (https://github.com/vidclass/vidclass from 0.1.0); git is pointed at the clone, tagged 0.1.0,
#     so SwiftPM resolves it as a remote, versioned package (it refuses unsafe flags there). It is
#     built as `swift build` builds it by default, in debug (three times faster to compile here
#     than release; the library's release build is the installed binary's, checked above), and
#     labels fixtures dropped into a watched folder.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d)"
WATCHER_PID=""
cleanup() {
  [ -n "$WATCHER_PID" ] && kill "$WATCHER_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "test-examples: FAILED: $*" >&2; exit 1; }

git clone --quiet --no-hardlinks "$ROOT" "$WORK/vidclass"
# Uncommitted work is part of what is tested when run by hand.
(cd "$ROOT" && git diff HEAD --binary) | (cd "$WORK/vidclass" && git apply --allow-empty 2>/dev/null || true)
(cd "$ROOT" && git ls-files --others --exclude-standard -z) | (cd "$ROOT" && xargs -0 -r cp --parents -t "$WORK/vidclass")
cd "$WORK/vidclass"
git add -A && git -c user.name=ci -c user.email=ci@localhost commit --quiet --allow-empty -m "working tree under test"
git tag -l | xargs -r git tag -d >/dev/null
git tag 0.1.0
CLIP="$ROOT/Fixtures/synthetic/move_right/$(ls "$ROOT/Fixtures/synthetic/move_right" | head -1)"

echo "== installed binary, alone in an empty folder"
mkdir "$WORK/empty"
run_alone=(env -i PATH=/usr/bin:/bin HOME="$WORK/empty" "$WORK/prefix/bin/vidclass" classify "$CLIP" --top 1)
mkdir "$WORK/probe"
if command -v unshare >/dev/null && unshare -m sh -c 'mount -t tmpfs none "$1"' sh "$WORK/probe" 2>/dev/null; then
  bash "$ROOT/scripts/install.sh" "$WORK/prefix"
  [ -d "$ROOT/.build" ] || fail "the install left no build folder to hide"
  OUT="$(cd "$WORK/empty" && unshare -m sh -c 'mount -t tmpfs none "$1" && shift && exec "$@"' sh "$ROOT/.build" "${run_alone[@]}")" \
    || fail "the installed binary could not classify $CLIP with the build folder hidden"
else
  bash scripts/install.sh "$WORK/prefix"
  rm -rf .build
  OUT="$(cd "$WORK/empty" && "${run_alone[@]}")" || fail "the installed binary could not classify $CLIP"
fi
echo "$OUT"
echo "$OUT" | grep -q "move_right" || fail "the installed binary did not say move_right"
[ -z "$(ls -A "$WORK/empty")" ] || fail "the installed binary left files behind: $(ls -A "$WORK/empty")"

echo "== Examples/FolderWatcher, depending on vidclass 0.1.0 by URL"
export GIT_CONFIG_COUNT=1
export GIT_CONFIG_KEY_0="url.file://$WORK/vidclass.insteadOf"
export GIT_CONFIG_VALUE_0="https://github.com/vidclass/vidclass"
cp -r "$ROOT/Examples/FolderWatcher" "$WORK/FolderWatcher"
rm -rf "$WORK/FolderWatcher/.build" "$WORK/FolderWatcher/Package.resolved"
# Own cache and security folders: every run tags a new commit 0.1.0, which the shared
# fingerprint store would refuse as a changed release.
SWIFTPM=(--package-path "$WORK/FolderWatcher" --scratch-path "$WORK/watcher-build" --cache-path "$WORK/swiftpm-cache"
         --security-path "$WORK/swiftpm-security" --config-path "$WORK/swiftpm-config")
swift package "${SWIFTPM[@]}" resolve
grep -q '"version" : "0.1.0"' "$WORK/FolderWatcher/Package.resolved" || fail "vidclass did not resolve as version 0.1.0"
swift build "${SWIFTPM[@]}" >&2
WATCHER="$(swift build "${SWIFTPM[@]}" --show-bin-path)/folder-watcher"

mkdir "$WORK/incoming"
cp "$ROOT"/Fixtures/synthetic/move_left/* "$WORK/incoming/"
ONCE="$("$WATCHER" "$WORK/incoming" --once)"
echo "$ONCE"
echo "$ONCE" | grep -q '"label":"move_left"' || fail "--once did not label the move_left clip"

# Watching: a clip dropped in later is labelled within a few seconds; SIGTERM ends the watch.
"$WATCHER" "$WORK/incoming" --interval 0.2 > "$WORK/watch.jsonl" &
WATCHER_PID=$!
sleep 1
cp "$CLIP" "$WORK/incoming/new.${CLIP##*.}"
for _ in $(seq 1 100); do
  grep -q "new\.${CLIP##*.}" "$WORK/watch.jsonl" 2>/dev/null && break
  sleep 0.2
done
kill "$WATCHER_PID"; wait "$WATCHER_PID" 2>/dev/null || true; WATCHER_PID=""
cat "$WORK/watch.jsonl"
grep "new\.${CLIP##*.}" "$WORK/watch.jsonl" | grep -q '"label":"move_right"' || fail "the watched folder's new clip was not labelled move_right"
[ "$(grep -c . "$WORK/watch.jsonl")" -eq 2 ] || fail "every file is labelled exactly once"
echo "test-examples: 2 passed, 0 failed"
