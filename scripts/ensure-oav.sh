#!/usr/bin/env bash
# Prints the path of an `oav` (Azure's OpenAPI traffic validator, npm
# package oav) for scripts/conformance.sh, installing it with npm into
# .work/oav when it is not there yet. Only the path goes to stdout.
#
#   scripts/ensure-oav.sh
#
# Pinned to 4.0.3, the version ../shared/arm-specs/README.md was checked
# with: its command line (the `-r ""` that avoids the broken HTML report)
# is what conformance.sh relies on. Its ~190 dependencies are pinned too:
# tests/conformance/oav/package-lock.json (versions and integrity hashes),
# installed with `npm ci`, so CI's verdict never changes with what the npm
# registry publishes. To move to a newer oav: change package.json, run
# `npm install --package-lock-only` in that folder, commit both files.
# Needs node and npm (Debian: nodejs npm).
set -euo pipefail

readonly OAV_VERSION=4.0.3

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly prefix="${root}/.work/oav"
readonly oav="${prefix}/node_modules/.bin/oav"

log() { printf 'ensure-oav: %s\n' "$*" >&2; }

installed_version() {
  # oav --version prints the bare version.
  "$oav" --version 2>/dev/null | head -n 1
}

lock_dir="${root}/tests/conformance/oav"
stamp="${prefix}/.lock.sha256"
want="$(cat "${lock_dir}/package.json" "${lock_dir}/package-lock.json" | sha256sum)"
want="${want%% *}"

if [[ -x "$oav" ]] && [[ -f "$stamp" ]] && [[ "$(cat "$stamp")" == "$want" ]] \
  && [[ "$(installed_version || true)" == "$OAV_VERSION" ]]; then
  printf '%s\n' "$oav"
  exit 0
fi

command -v npm >/dev/null || {
  log "npm is needed to install oav ${OAV_VERSION} (Debian: apt-get install nodejs npm)"
  exit 1
}
node_major="$(node --version 2>/dev/null | sed -n 's/^v\([0-9]*\)\..*/\1/p')"
if [[ -z "$node_major" ]] || ((node_major < 20)); then
  log "warning: oav ${OAV_VERSION} declares node >= 20; this is node ${node_major:-(none)}"
fi
log "installing oav ${OAV_VERSION} and its locked dependencies with npm ci into ${prefix}"
rm -rf "$prefix"
mkdir -p "$prefix"
cp "${lock_dir}/package.json" "${lock_dir}/package-lock.json" "$prefix/"
# npm ci installs exactly the lock file (and fails if package.json and the
# lock disagree); --ignore-scripts runs none of the ~190 packages' install
# scripts (oav needs none); --no-audit/--no-fund skip calls that only print
# advice.
(cd "$prefix" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) >&2
[[ "$(installed_version || true)" == "$OAV_VERSION" ]] || {
  log "the installed oav does not run or is not ${OAV_VERSION}"
  exit 1
}
printf '%s\n' "$want" >"$stamp"
printf '%s\n' "$oav"
