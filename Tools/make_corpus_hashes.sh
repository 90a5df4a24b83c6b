#!/usr/bin/env bash
# Records what the ffmpeg CLI (Debian 12's 5.1) outputs for every file of the real-world corpus
# ../shared/data/decoder-samples: per file, the number of frames and each RGB24 frame's MD5,
# exactly as `ffmpeg -vsync passthrough -f framemd5 -pix_fmt rgb24` prints them. The test
# CorpusTests compares our decoder with this file. Run by hand (needs the ffmpeg CLI):
#   bash Tools/make_corpus_hashes.sh > Fixtures/corpus-framemd5.tsv
set -uo pipefail
HERE="$(cd "$(dirname "$0")/.." && pwd)"
CORPUS="${CORPUS:-$HERE/../shared/data/decoder-samples}"
printf '# file\tframes\tmd5 of each frame (RGB24, native size, ffmpeg 5.1 %s)\n' "$(ffmpeg -version | head -1 | cut -d' ' -f3)"
tail -n +2 "$CORPUS/manifest.csv" | cut -d, -f1 | while read -r f; do
  out=$(ffmpeg -nostdin -v error -i "$CORPUS/$f" -an -sn -dn -vsync passthrough -f framemd5 -pix_fmt rgb24 - 2>/dev/null)
  status=$?
  hashes=$(printf '%s\n' "$out" | grep -v '^#' | awk -F', *' 'NF>=6 {print $6}' | paste -sd, -)
  n=$(printf '%s\n' "$out" | grep -v '^#' | awk -F', *' 'NF>=6' | wc -l)
  if [ "$status" -ne 0 ] && [ "$n" -eq 0 ]; then
    printf '%s\tfail\t\n' "$f"
  else
    printf '%s\t%s\t%s\n' "$f" "$n" "$hashes"
  fi
done
