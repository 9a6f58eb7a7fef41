#!/usr/bin/env bash
# Fails when a C++ line changed since the style was adopted is not formatted
# as .clang-format says (clang-format 14). Only changed lines are checked
# (git clang-format), so old code is reformatted when it is next touched.
# Usage: scripts/check-format.sh [BASE]   (default: the commit that added
# .clang-format). scripts/test.sh runs it first.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v git-clang-format-14 >/dev/null || ! git rev-parse --git-dir >/dev/null 2>&1; then
  echo "check-format: git-clang-format-14 or git history missing; skipped" >&2
  exit 0
fi
base=${1:-$(git log --diff-filter=A --format=%H -- .clang-format | tail -1)}
if [ -z "$base" ]; then
  echo "check-format: .clang-format is not committed yet; nothing to compare with" >&2
  exit 0
fi
out=$(git-clang-format-14 --binary clang-format-14 --diff --extensions cpp,hpp,h,cc "$base" -- \
  src include tests apps bench examples 2>&1 || true)
case "$out" in
  "" | *"no modified files to format"* | *"did not modify any files"*)
    echo "check-format: lines changed since ${base:0:12} are formatted" >&2
    exit 0 ;;
esac
echo "check-format: these changed lines are not formatted as .clang-format says" >&2
echo "(fix: git clang-format-14 $base):" >&2
echo "$out"
exit 1
