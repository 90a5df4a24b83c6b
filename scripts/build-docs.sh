#!/usr/bin/env bash
# The DocC documentation of every library product, with warnings as errors (a broken symbol
# link, an unknown parameter, a missing article fails the build). Output: .build/docs/<Target>/.
#   bash scripts/build-docs.sh                  # all four libraries
#   bash scripts/build-docs.sh VideoClassification
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(VideoIO Tensors NeuralNetwork VideoClassification)
for target in "${TARGETS[@]}"; do
  out=".build/docs/$target"
  mkdir -p "$out"
  swift package --allow-writing-to-directory "$out" generate-documentation --target "$target" \
    --disable-indexing --output-path "$out" --warnings-as-errors
done
echo "documentation: ${#TARGETS[@]} targets built without warnings (.build/docs/)"
