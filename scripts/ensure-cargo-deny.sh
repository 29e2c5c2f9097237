#!/usr/bin/env bash
# Prints the path of a cargo-deny binary: the one on PATH, else one built
# from crates.io (pinned, with its Cargo.lock: --locked) into .work/tools
# the first time or when the pin moves. Used by
# `make lint` and .ci/run.
set -euo pipefail

version="0.20.2"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${root}/.work/tools"

if command -v cargo-deny >/dev/null && [[ "$(cargo-deny --version)" == "cargo-deny ${version}" ]]; then
  command -v cargo-deny
  exit 0
fi
if [[ -x "${tools}/bin/cargo-deny" ]] && [[ "$("${tools}/bin/cargo-deny" --version)" == "cargo-deny ${version}" ]]; then
  echo "${tools}/bin/cargo-deny"
  exit 0
fi
echo "building cargo-deny ${version} into ${tools} (once)" >&2
cargo install cargo-deny --version "=${version}" --locked --root "$tools" >&2
echo "${tools}/bin/cargo-deny"
