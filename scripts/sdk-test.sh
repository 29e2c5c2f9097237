#!/usr/bin/env bash
# Drives Microsoft's own Python SDKs against armsim, as a second client
# besides the provider: if armsim only worked for the provider, it would be
# testing the provider against itself.
#
#   1. installs the newest azure-identity, azure-mgmt-network and
#      azure-mgmt-containerservice from PyPI (no pins) into .work/pysdk,
#      once: they are reinstalled only when absent (SDK_TEST_REINSTALL=1
#      forces it, to pick up new releases); prints their versions;
#   2. builds armsim and starts it on a free loopback port, with operations
#      that take a moment (--lro-delay-ms), so the SDKs' pollers see
#      InProgress before Succeeded;
#   3. runs tests/sdk/test_sdk.py: token, route table, route, subnet
#      association, a userDefinedRouting cluster, its credentials, and the
#      teardown, all through the SDKs' clients and pollers.
#
#   scripts/sdk-test.sh
#
# Exits non-zero, naming the failed step, when anything fails.
set -euo pipefail

lib_name=sdk-test
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

case "${1:-}" in
  "") ;;
  -h | --help)
    sed -n '2,18s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
    exit 0
    ;;
  *) die "unknown argument '$1' (see --help)" ;;
esac

pysdk="${lib_root}/.work/pysdk"
work="${lib_root}/.work/sdk-test"
packages=(azure-identity azure-mgmt-network azure-mgmt-containerservice)
started=$SECONDS

lib_scrub_env
# Nothing of the caller's Azure login may reach the SDKs (azure-identity
# reads AZURE_*), and no proxy may take loopback traffic elsewhere.
for var in $(compgen -e); do
  case "$var" in AZURE_* | MSAL_* | http_proxy | https_proxy | HTTP_PROXY | HTTPS_PROXY) unset "$var" ;; esac
done
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
trap lib_cleanup EXIT

sdk_python() {
  PYTHONPATH="$pysdk" PYTHONDONTWRITEBYTECODE=1 python3 "$@"
}

step "Python SDKs in ${pysdk#"${lib_root}"/}"
command -v python3 >/dev/null || die "python3 is required"
if [[ "${SDK_TEST_REINSTALL:-}" == 1 ]] \
  || ! sdk_python -c 'import azure.identity, azure.mgmt.network, azure.mgmt.containerservice' 2>/dev/null; then
  echo "installing ${packages[*]} (newest) from PyPI"
  rm -rf "$pysdk"
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-input --target "$pysdk" "${packages[@]}" \
    || die "pip could not install ${packages[*]}"
fi
for p in "${packages[@]}"; do
  printf '%s %s\n' "$p" "$(sdk_python -c 'import importlib.metadata, sys; print(importlib.metadata.version(sys.argv[1]))' "$p")"
done

step "building armsim"
cargo build --quiet -p armsim --bin armsim --manifest-path "${lib_root}/Cargo.toml"

rm -rf "$work"
lib_start_armsim "$work" --lro-delay-ms 300
echo "armsim: ${lib_armsim_url}"
# requests (under azure-core and MSAL) reads REQUESTS_CA_BUNDLE.
export REQUESTS_CA_BUNDLE="$SSL_CERT_FILE"

step "tests/sdk/test_sdk.py"
status=0
ARMSIM_URL="$lib_armsim_url" sdk_python "${lib_root}/tests/sdk/test_sdk.py" || status=$?
lib_stop_armsim
if [[ "$status" != 0 ]]; then
  echo "armsim's log: ${work#"${lib_root}"/}/armsim.stderr, armsim.stdout.log" >&2
  die "the SDK test failed (exit ${status})"
fi
echo "sdk-test: done in $((SECONDS - started))s"
