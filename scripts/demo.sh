#!/usr/bin/env bash
# Shows the provider at work, with no Azure credentials needed:
#
#   1. builds the provider and publishes it in a local filesystem mirror;
#   2. runs `terraform init` and `terraform plan` on the example;
#   3. plans the example's broken variant, whose files are laid over a copy
#      of the example (so `broken/` holds either whole replacement files or
#      terraform `*_override.tf` files changing a line or two), and shows the
#      rule that rejects it.
#
#   scripts/demo.sh [EXAMPLE_DIR]    default: examples/udr-firewall-egress
#
# Exits 0 when the example plans and its broken variant is rejected.
set -euo pipefail

lib_name=demo
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
root="$lib_root"
example="${1:-${root}/examples/udr-firewall-egress}"
broken="${example}/broken"
work="${root}/.work/demo"

[[ -d "$example" ]] || die "no example at ${example}"
[[ -d "$broken" ]] || die "no broken variant at ${broken}"

# "No credentials" means no inherited ARM_* (nor TF_*) at all.
lib_scrub_env

step "building the provider"
cargo build --bin terraform-provider-aksudr --manifest-path "${root}/Cargo.toml"
lib_find_terraform
terraform="$lib_terraform"

step "publishing it in a local mirror"
rm -rf "$work"
mkdir -p "$work"
lib_publish_provider "$work"
echo "${lib_plugin_dir}"
"$terraform" version

# Copies the top-level configuration files of each argument, in order, into
# directory $1: later ones replace earlier files of the same name.
lay_out() {
  local dest="$1" src f
  shift
  mkdir -p "$dest"
  for src in "$@"; do
    for f in "$src"/*.tf "$src"/*.tfvars; do
      if [[ -e "$f" ]]; then cp "$f" "$dest/"; fi
    done
  done
}

# init's chatter (lock file notes) only matters when it fails.
quiet_init() {
  if ! "$terraform" init -no-color -input=false >init.log 2>&1; then
    cat init.log >&2
    die "terraform init failed in ${PWD}"
  fi
  echo "terraform init: ok"
}

step "terraform init + plan: ${example#"${root}"/}"
lay_out "${work}/good" "$example"
(
  cd "${work}/good"
  quiet_init
  "$terraform" plan -no-color -input=false
)

step "terraform plan: the broken variant (${broken#"${root}"/} over the example)"
lay_out "${work}/broken" "$example" "$broken"
for f in "$broken"/*.tf; do
  [[ -e "$f" ]] || continue
  printf -- '--- %s\n' "${f#"${root}"/}"
  cat "$f"
done
cd "${work}/broken"
quiet_init
if "$terraform" plan -no-color -input=false; then
  die "the broken variant planned without an error; the rules missed it"
fi

step "the broken variant was rejected, as it should be"
