#!/usr/bin/env bash
# The property tests (src/tf/properties.rs, src/resources/properties.rs)
# with many cases, in a release build: the msgpack and JSON codecs on
# arbitrary bytes and arbitrary typed values, ID parsing against the
# request URL it produces, and arbitrary ARM bodies through every
# resource's read-back and update code. Prints each property's count and
# the total of codec cases.
#
#   scripts/fuzz.sh [CASES_PER_PROPERTY]    default 300000
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
cases="${1:-300000}"
mkdir -p .work
log=.work/fuzz.log

echo "fuzz: ${cases} cases per property (release build)"
status=0
AKSUDR_FUZZ_CASES="$cases" cargo test --release --lib properties -- --nocapture --test-threads=2 >"$log" 2>&1 || status=$?
grep -E '^property ' "$log" || true
if [[ $status -ne 0 ]]; then
  echo "fuzz: a property failed; the end of ${log}:" >&2
  tail -n 40 "$log" >&2
  exit "$status"
fi
total=$(sed -n 's/^property \(msgpack\|json\) .*: \([0-9]*\) cases passed$/\2/p' "$log" | awk '{ s += $1 } END { print s + 0 }')
echo "fuzz: ${total} codec cases without a failure"
