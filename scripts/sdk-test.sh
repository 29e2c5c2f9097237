#!/usr/bin/env bash
# Drives Microsoft's own Python SDKs against armsim, as a second client
# besides the provider: if armsim only worked for the provider, it would be
# testing the provider against itself.
#
#   scripts/sdk-test.sh            the pinned SDKs (make sdk-test, CI)
#   scripts/sdk-test.sh --newest   the newest SDKs on PyPI (make sdk-drift)
#
# Pinned: installs tests/sdk/requirements.txt (exact versions, every file's
# sha256, as Cargo.lock pins the Rust side) with --require-hashes into
# .work/pysdk, again only when that file changed. CI's verdict therefore
# never depends on what PyPI published after the commit.
#
# Newest: downloads the newest azure-identity, azure-mgmt-network and
# azure-mgmt-containerservice (and the newest containerservice pre-release,
# for its preview api-version) into .work/sdk-drift, prints their versions
# and the api-versions they send, lists those armsim does not accept
# (tests/armsim/src/api_versions.rs), then runs the same test with them.
# Exits 1 if a version is missing or the test fails.
#
# Both then build armsim, start it on a free loopback port with operations
# that take a moment (--lro-delay-ms, so the SDKs' pollers see InProgress
# before Succeeded), and run tests/sdk/test_sdk.py: token, route table,
# route, subnet association, a userDefinedRouting cluster, its credentials,
# an older and an unpublished (refused) api-version, and the teardown, all
# through the SDKs' clients and pollers.
set -euo pipefail

lib_name=sdk-test
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

newest=false
case "${1:-}" in
  "") ;;
  --newest) newest=true ;;
  -h | --help)
    sed -n '2,26s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
    exit 0
    ;;
  *) die "unknown argument '$1' (see --help)" ;;
esac

requirements="${lib_root}/tests/sdk/requirements.txt"
packages=(azure-identity azure-mgmt-network azure-mgmt-containerservice)
if $newest; then
  pysdk="${lib_root}/.work/sdk-drift/site"
  wheels="${lib_root}/.work/sdk-drift/wheels"
  work="${lib_root}/.work/sdk-drift/run"
else
  pysdk="${lib_root}/.work/pysdk"
  work="${lib_root}/.work/sdk-test"
fi
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
pip() {
  python3 -m pip --quiet --disable-pip-version-check --no-input "$@"
}

command -v python3 >/dev/null || die "python3 is required"
missing=0
if $newest; then
  step "the newest SDKs from PyPI, into ${pysdk#"${lib_root}"/}"
  rm -rf "$pysdk" "$wheels"
  pip download --no-deps --dest "$wheels" "${packages[@]}" || die "pip could not download ${packages[*]}"
  # The newest containerservice pre-release sends the newest AKS preview
  # api-version; it is only scanned, not installed.
  pre="$(python3 -m pip index versions --pre azure-mgmt-containerservice 2>/dev/null \
    | sed -n 's/^Available versions: //p' | tr ',' '\n' | tr -d ' ' | grep -E 'b[0-9]+$' | head -n 1 || true)"
  if [[ -n "$pre" ]]; then
    pip download --no-deps --dest "${wheels}/pre" "azure-mgmt-containerservice==${pre}" \
      || die "pip could not download azure-mgmt-containerservice==${pre}"
  fi
  pip install --root-user-action=ignore --target "$pysdk" "$wheels"/*.whl \
    || die "pip could not install the newest ${packages[*]}"
  step "api-versions the newest SDKs send, and those armsim does not accept"
  python3 "${lib_root}/tests/sdk/sdk_api_versions.py" --missing "${lib_root}/tests/armsim/src/api_versions.rs" "$wheels" \
    || missing=1
else
  step "the pinned SDKs (tests/sdk/requirements.txt), into ${pysdk#"${lib_root}"/}"
  stamp="${pysdk}/.requirements.sha256"
  want="$(sha256sum "$requirements")"
  want="${want%% *}"
  if [[ ! -f "$stamp" ]] || [[ "$(cat "$stamp")" != "$want" ]]; then
    rm -rf "$pysdk"
    # --no-deps: requirements.txt lists every package; --require-hashes
    # refuses any file whose sha256 it does not name.
    pip install --root-user-action=ignore --require-hashes --no-deps --only-binary :all: \
      --target "$pysdk" -r "$requirements" || die "pip could not install tests/sdk/requirements.txt"
    printf '%s\n' "$want" >"$stamp"
  fi
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
if [[ "$missing" != 0 ]]; then
  die "the newest SDKs send api-versions armsim does not accept (above): add them to tests/armsim/src/api_versions.rs (README: 'When Microsoft publishes an api-version')"
fi
echo "sdk-test: done in $((SECONDS - started))s"
