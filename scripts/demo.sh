#!/usr/bin/env bash
# The main job, end to end, on the embedded ARM simulator (no Azure account):
#
#   1. builds the provider and armsim, publishes the provider in a local
#      filesystem mirror, and starts armsim with its default seed (resource
#      group rg-egress, VNet vnet, subnets aks, AzureFirewallSubnet and users);
#   2. on the example: terraform init, apply, a second plan that must show
#      no changes, and destroy;
#   3. plans the example's broken variant (the files of `broken/` laid over a
#      copy of the example: whole replacement files or `*_override.tf`) and
#      shows the rule that rejects it;
#   4. stops the simulator.
#
#   scripts/demo.sh [EXAMPLE_DIR]    default: examples/udr-firewall-egress
#
# Exits 0 when all of that happened as described.
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

# Nothing inherited: the simulator's settings only.
lib_scrub_env
trap lib_cleanup EXIT

step "building the provider and the ARM simulator"
cargo build --bins --workspace --manifest-path "${root}/Cargo.toml"
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

step "starting the ARM simulator"
lib_start_armsim "${work}/armsim"
echo "armsim listening on ${lib_armsim_url}"

lay_out "${work}/good" "$example"
cd "${work}/good"
step "terraform init: ${example#"${root}"/}"
quiet_init

step "terraform apply"
"$terraform" apply -no-color -input=false -auto-approve

step "terraform plan, again: nothing to change"
set +e
"$terraform" plan -no-color -input=false -detailed-exitcode
code=$?
set -e
[[ $code -eq 0 ]] || die "the second plan wants changes (exit code ${code})"

step "terraform destroy"
"$terraform" destroy -no-color -input=false -auto-approve

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

step "the broken variant was rejected at plan, as it should be"
lib_stop_armsim
echo "armsim stopped"
