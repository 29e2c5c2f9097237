# shellcheck shell=bash
# Shell shared by the scripts that drive terraform against the freshly built
# provider (demo.sh, conformance.sh, bench.sh). Source it; it defines
# functions and a few variables, and runs nothing else.
#
#   lib_root                 the repository root
#   lib_version, lib_platform  the provider version (Cargo.toml) and os_arch
#   die / step               messages; die needs $lib_name set by the caller
#   lib_scrub_env            unset TF_*/ARM_* inherited from the caller
#   lib_profile              cargo profile whose binaries are used: debug
#                            (default) or release
#   lib_publish_provider W   copy the built provider into a filesystem
#                            mirror under W, write W/terraform.rc, export
#                            TF_CLI_CONFIG_FILE pointing at it
#   lib_start_armsim W ARGS  start the built armsim on a free loopback
#                            port, wait for its "listening" line, export the
#                            ARM_* settings that point the provider at it
#   lib_stop_armsim          stop it (also done by lib_cleanup)
#   lib_cleanup              for `trap lib_cleanup EXIT`
#   lib_tf ARGS              run $lib_terraform quietly, showing its output
#                            only on failure
#   lib_armsim_admin M P [B] curl an armsim admin endpoint

lib_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
lib_name="${lib_name:-$(basename "$0" .sh)}"

lib_version="$(sed -n 's/^version = "\(.*\)"$/\1/p' "${lib_root}/Cargo.toml" | head -n 1)"
case "$(uname -m)" in
  x86_64) lib_arch=amd64 ;;
  aarch64) lib_arch=arm64 ;;
  *) lib_arch="$(uname -m)" ;;
esac
lib_platform="$(uname -s | tr '[:upper:]' '[:lower:]')_${lib_arch}"

lib_profile="${lib_profile:-debug}"

# Set by lib_start_armsim.
lib_armsim_pid=""
lib_armsim_url=""
# Set by lib_publish_provider: where the provider binary sits in the mirror
# (for callers to show; unused here).
# shellcheck disable=SC2034
lib_plugin_dir=""

step() { printf '\n=== %s\n' "$*"; }
die() {
  printf '%s: %s\n' "$lib_name" "$*" >&2
  exit 1
}

# These scripts must not depend on, or leak into, the caller's terraform
# setup or Azure login: an inherited ARM_CLIENT_ID would otherwise send a
# real identity to the simulator, or a TF_LOG would drown the output.
lib_scrub_env() {
  local var
  for var in $(compgen -e); do
    case "$var" in TF_* | ARM_*) unset "$var" ;; esac
  done
  export TF_IN_AUTOMATION=1 TF_INPUT=0 CHECKPOINT_DISABLE=1
}

# Publishes target/$lib_profile/terraform-provider-aksudr in a filesystem mirror
# under $1 and makes terraform use it (and only it) for aksudr/aksudr, so no
# registry is contacted and no prior `make install` is needed. The binary is
# copied: rebuilding while terraform runs must not swap it underneath.
lib_publish_provider() {
  local work="$1" plugin_dir
  plugin_dir="${work}/mirror/registry.terraform.io/aksudr/aksudr/${lib_version}/${lib_platform}"
  rm -rf "${work}/mirror"
  mkdir -p "$plugin_dir"
  cp "${lib_root}/target/${lib_profile}/terraform-provider-aksudr" "${plugin_dir}/terraform-provider-aksudr_v${lib_version}"
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
  export TF_CLI_CONFIG_FILE="${work}/terraform.rc"
  # shellcheck disable=SC2034
  lib_plugin_dir="$plugin_dir"
}

# Starts armsim with "--listen 127.0.0.1:0 --ca-out $1/armsim-ca.pem" plus
# the remaining arguments. The port is learnt from the line armsim prints
# once its socket is bound, so there is no polling and no race on a port
# chosen in advance. armsim's stdout goes to a FIFO held open on a file
# descriptor: we read that one line from it, then hand the descriptor to a
# `cat` that keeps draining it, so armsim never writes to a FIFO without a
# reader (SIGPIPE) nor blocks on a full one.
lib_start_armsim() {
  local work="$1" fifo line fd
  shift
  mkdir -p "$work"
  fifo="${work}/armsim.stdout"
  rm -f "$fifo"
  mkfifo "$fifo"
  "${lib_root}/target/${lib_profile}/armsim" --listen 127.0.0.1:0 --ca-out "${work}/armsim-ca.pem" "$@" \
    >"$fifo" 2>"${work}/armsim.stderr" &
  lib_armsim_pid=$!
  exec {fd}<"$fifo"
  # The read ends at the first line, or at EOF if armsim exits first; the
  # timeout only guards against a hang, it is not a wait for readiness.
  if ! IFS= read -r -t 60 -u "$fd" line || [[ "$line" != "armsim listening on https://"* ]]; then
    exec {fd}<&-
    cat "${work}/armsim.stderr" >&2 || true
    die "armsim did not start (first line: '${line:-}')"
  fi
  cat <&"$fd" >"${work}/armsim.stdout.log" &
  exec {fd}<&-
  lib_armsim_url="${line#armsim listening on }"

  # The provider's azurerm-style settings, aimed at the simulator: the same
  # base URL serves ARM and the token endpoint; its throwaway CA is trusted
  # through SSL_CERT_FILE; the Azure CLI must never be tried.
  export ARM_RESOURCE_MANAGER_ENDPOINT="$lib_armsim_url"
  export ARM_AUTHORITY_HOST="$lib_armsim_url"
  export ARM_SUBSCRIPTION_ID=00000000-0000-0000-0000-000000000000
  export ARM_TENANT_ID=00000000-0000-0000-0000-0000000000aa
  export ARM_CLIENT_ID=11111111-1111-1111-1111-111111111111
  export ARM_CLIENT_SECRET=armsim-secret
  export ARM_USE_CLI=false
  export SSL_CERT_FILE="${work}/armsim-ca.pem"
}

lib_stop_armsim() {
  if [[ -n "$lib_armsim_pid" ]]; then
    # armsim exits cleanly on SIGINT (it waits for ctrl-c).
    kill -INT "$lib_armsim_pid" 2>/dev/null || true
    wait "$lib_armsim_pid" 2>/dev/null || true
    lib_armsim_pid=""
  fi
}

# Stops what this shell started: armsim and the background `cat`s. Only our
# own children, by pid.
lib_cleanup() {
  lib_stop_armsim
  local pid
  for pid in $(jobs -p); do
    kill "$pid" 2>/dev/null || true
  done
}

# Calls an armsim admin endpoint: lib_armsim_admin METHOD PATH [JSON_BODY].
lib_armsim_admin() {
  local method="$1" path="$2" body="${3:-}"
  local args=(--silent --show-error --fail --cacert "$SSL_CERT_FILE" -X "$method")
  if [[ -n "$body" ]]; then
    args+=(-H 'Content-Type: application/json' --data "$body")
  fi
  curl "${args[@]}" "${lib_armsim_url}${path}"
}

# Runs terraform ($lib_terraform) with -no-color -input=false; its output
# goes to ${lib_tf_log:-tf.log} and is shown only when the command fails,
# so a passing run prints one line per step.
lib_tf() {
  local log="${lib_tf_log:-tf.log}"
  if "$lib_terraform" "$1" -no-color -input=false "${@:2}" >"$log" 2>&1; then
    return 0
  fi
  cat "$log" >&2
  return 1
}

lib_terraform=""
# Finds (or installs) terraform once.
lib_find_terraform() {
  lib_terraform="$("${lib_root}/scripts/ensure-terraform.sh")"
}
