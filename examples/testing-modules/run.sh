#!/usr/bin/env bash
# Tests the module in modules/aks-egress against armsim, the ARM simulator,
# as a module author's CI job would, with no Azure account:
#
#   1. start armsim on a free loopback port, seeded with seed.json (your
#      subscription, resource groups, VNets and subnets);
#   2. trust its throwaway CA and point the provider at it (ARM_* and
#      SSL_CERT_FILE);
#   3. `terraform test` (Terraform 1.6+; older versions: apply, a plan that
#      must be empty, destroy);
#   4. inject a fault — Azure throttling the route table's reads — and check
#      that a plan still succeeds (the provider waits and retries);
#   5. stop armsim.
#
#   ARMSIM=/path/to/armsim TERRAFORM=/path/to/terraform ./run.sh
#
# ARMSIM defaults to `armsim` on PATH (`make armsim` builds it,
# `cargo install --path tests/armsim` installs it); TERRAFORM to `terraform`.
# The provider comes from wherever `terraform init` finds it (the registry,
# a mirror named in TF_CLI_CONFIG_FILE).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
armsim="$(command -v "${ARMSIM:-armsim}")" || { echo "no armsim: set ARMSIM or run make armsim" >&2; exit 1; }
terraform="$(command -v "${TERRAFORM:-terraform}")" || { echo "no terraform: set TERRAFORM" >&2; exit 1; }
# Absolute, since the work happens in a scratch directory.
[[ "$armsim" == /* ]] || armsim="${PWD}/${armsim}"
[[ "$terraform" == /* ]] || terraform="${PWD}/${terraform}"
if [[ -n "${TF_CLI_CONFIG_FILE:-}" && "$TF_CLI_CONFIG_FILE" != /* ]]; then
  export TF_CLI_CONFIG_FILE="${PWD}/${TF_CLI_CONFIG_FILE}"
fi
work="$(mktemp -d)"
armsim_pid=""
cleanup() {
  [[ -n "$armsim_pid" ]] && kill -INT "$armsim_pid" 2>/dev/null && wait "$armsim_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
cp -r "${here}/main.tf" "${here}/modules" "${here}/tests" "${here}/seed.json" "$work/"
cd "$work"

# 1. armsim prints one line once its socket is bound: wait for that line.
mkfifo armsim.out
"$armsim" --listen 127.0.0.1:0 --seed seed.json --ca-out armsim-ca.pem >armsim.out 2>armsim.err &
armsim_pid=$!
exec {out}<armsim.out
IFS= read -r -t 60 -u "$out" line || { cat armsim.err >&2; echo "armsim did not start" >&2; exit 1; }
cat <&"$out" >/dev/null &
url="${line#armsim listening on }"
echo "armsim: ${url}"

# 2. The provider reads azurerm's environment variables; armsim serves both
#    ARM and the token endpoint, and accepts this client and secret.
export SSL_CERT_FILE="${work}/armsim-ca.pem"
export ARM_RESOURCE_MANAGER_ENDPOINT="$url" ARM_AUTHORITY_HOST="$url"
export ARM_SUBSCRIPTION_ID=11111111-2222-3333-4444-555555555555
export ARM_TENANT_ID=00000000-0000-0000-0000-0000000000aa
export ARM_CLIENT_ID=11111111-1111-1111-1111-111111111111 ARM_CLIENT_SECRET=armsim-secret
export ARM_USE_CLI=false
tf() { "$terraform" "$@" -no-color -input=false; }

# 3. The module's tests.
tf init >/dev/null
version="$("$terraform" version | head -n 1)"
if printf '%s\n' "Terraform v1.6.0" "$version" | sort -V -C; then
  "$terraform" test -no-color
else
  echo "${version}: no \`terraform test\`; apply, plan, destroy instead"
  tf apply -auto-approve >/dev/null
  tf plan -detailed-exitcode >/dev/null || { echo "the plan after apply is not empty" >&2; exit 1; }
fi

# 4. A fault: the next three reads of any route table answer 429 with
#    Retry-After. The plan must still succeed.
# (terraform test destroys what it built; build it again to plan against.)
if ! grep -qs rt-aks-egress terraform.tfstate; then
  tf apply -auto-approve >/dev/null
fi
curl --silent --show-error --fail --cacert armsim-ca.pem -X POST "${url}/_armsim/faults" \
  -H 'Content-Type: application/json' \
  --data '{"path_regex": "routeTables/[^/]+$", "method": "GET", "status": 429, "count": 3, "retry_after": 1}'
tf plan -detailed-exitcode >/dev/null || { echo "the plan under throttling failed or wants changes" >&2; exit 1; }
log="$(curl --silent --show-error --fail --cacert armsim-ca.pem "${url}/_armsim/requests")"
[[ "$log" == *'"status":429'* ]] || { echo "the fault never fired" >&2; exit 1; }
echo "throttled plan: ok"
tf destroy -auto-approve >/dev/null
echo "module tests against armsim: ok"
