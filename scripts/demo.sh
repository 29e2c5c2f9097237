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

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
example="${1:-${root}/examples/udr-firewall-egress}"
broken="${example}/broken"
work="${root}/.work/demo"

version="$(sed -n 's/^version = "\(.*\)"$/\1/p' "${root}/Cargo.toml" | head -n 1)"
case "$(uname -m)" in
  x86_64) arch=amd64 ;;
  aarch64) arch=arm64 ;;
  *) arch="$(uname -m)" ;;
esac
platform="$(uname -s | tr '[:upper:]' '[:lower:]')_${arch}"

step() { printf '\n=== %s\n' "$*"; }
die() {
  printf 'demo: %s\n' "$*" >&2
  exit 1
}

[[ -d "$example" ]] || die "no example at ${example}"
[[ -d "$broken" ]] || die "no broken variant at ${broken}"

# The demo must not depend on, or leak into, the caller's terraform setup or
# Azure login; unset ARM_* is what "no credentials" means.
for var in $(compgen -e); do
  case "$var" in TF_* | ARM_*) unset "$var" ;; esac
done
export TF_CLI_CONFIG_FILE="${work}/terraform.rc" TF_IN_AUTOMATION=1 TF_INPUT=0 CHECKPOINT_DISABLE=1

step "building the provider"
cargo build --bin terraform-provider-aksudr --manifest-path "${root}/Cargo.toml"
terraform="$("${root}/scripts/ensure-terraform.sh")"

step "publishing it in a local mirror"
rm -rf "$work"
plugin_dir="${work}/mirror/registry.terraform.io/aksudr/aksudr/${version}/${platform}"
mkdir -p "$plugin_dir"
cp "${root}/target/debug/terraform-provider-aksudr" "${plugin_dir}/terraform-provider-aksudr_v${version}"
cat >"${work}/terraform.rc" <<EOF
disable_checkpoint = true
provider_installation {
  filesystem_mirror {
    path    = "${work}/mirror"
    include = ["registry.terraform.io/aksudr/aksudr"]
  }
  direct {
    exclude = ["registry.terraform.io/aksudr/aksudr"]
  }
}
EOF
echo "${plugin_dir}"
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
