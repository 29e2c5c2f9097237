#!/usr/bin/env bash
# Figures (no assertions) for many routes in one route table, against armsim:
#
#   * wall time of `terraform plan` (refresh included) of N routes, next to
#     the same plan of N built-in terraform_data resources in the same run,
#     and their ratio (median of --runs plans each);
#   * the ARM requests that refresh made (armsim's request log);
#   * the provider's peak RSS during that plan, and the CPU time of all the
#     provider processes Terraform started for it;
#   * the provider's start to its handshake line (min/median/max of 20);
#   * wall time of `terraform apply` creating M routes with armsim's
#     long-running operations taking --lro-delay-ms each.
#
#   scripts/bench.sh [--resource auto|route|route_table] [--routes N]
#                    [--apply-routes M] [--lro-delay-ms D] [--runs R] [--debug]
#
# Defaults: auto, N=200, M=50, D=1000, R=3, release build. With auto, one
# aksudr_route is applied first: if this build cannot apply routes yet (the
# provider answers "create of aksudr_route is not available in this build"),
# aksudr_route_table stands in — N route tables instead of N routes in one
# table — and the table says so. Any other failure of that probe is an error.
set -euo pipefail

lib_name=bench
lib_profile=release
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

resource=auto n_plan=200 n_apply=50 lro_delay_ms=1000 runs=3
while (($# > 0)); do
  case "$1" in
    --resource) resource="$2" ;;
    --routes) n_plan="$2" ;;
    --apply-routes) n_apply="$2" ;;
    --lro-delay-ms) lro_delay_ms="$2" ;;
    --runs) runs="$2" ;;
    --debug)
      lib_profile=debug
      shift
      continue
      ;;
    -h | --help)
      sed -n '2,19s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
      exit 0
      ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
  [[ $# -ge 2 ]] || die "$1 needs a value"
  shift 2
done
case "$resource" in auto | route | route_table) ;; *) die "--resource must be auto, route or route_table" ;; esac
for v in "$n_plan" "$n_apply" "$lro_delay_ms" "$runs"; do
  [[ "$v" =~ ^[0-9]+$ ]] || die "'$v' is not a number"
done
((runs >= 1)) || die "--runs must be at least 1"

work="${lib_root}/.work/bench"
lib_scrub_env
trap lib_cleanup EXIT

step "building the provider and armsim (${lib_profile})"
release_flag=()
[[ "$lib_profile" == release ]] && release_flag=(--release)
cargo build --workspace --bins "${release_flag[@]}" --manifest-path "${lib_root}/Cargo.toml"
lib_find_terraform
# Not `| head -n 1`: under pipefail, terraform's SIGPIPE would end the script.
tf_version="$("$lib_terraform" version)"
tf_version="${tf_version%%$'\n'*}"
echo "terraform: ${lib_terraform} (${tf_version})"

rm -rf "$work"
mkdir -p "$work"
lib_publish_provider "$work"
# LRO delay 0 for everything but the apply figure: plan and refresh make no
# writes, and the set-up applies should not take minutes.
lib_start_armsim "$work" --lro-delay-ms 0
echo "armsim: ${lib_armsim_url}"

# --- configurations ----------------------------------------------------------

# $1 = directory, $2 = measured resource (route | route_table | terraform_data),
# $3 = name prefix (keeps the workspaces' Azure objects apart). The count is
# a variable, so one configuration serves the set-up apply (n=0) too.
write_config() {
  local dir="$1" kind="$2" prefix="$3"
  mkdir -p "$dir"
  cat >"${dir}/main.tf" <<EOF
terraform {
  required_providers {
    aksudr = {
      source = "aksudr/aksudr"
    }
  }
}

# Everything comes from ARM_* in the environment.
provider "aksudr" {}

variable "n" {
  type = number
}
EOF
  case "$kind" in
    route)
      cat >>"${dir}/main.tf" <<EOF

resource "aksudr_route_table" "bench" {
  name                = "${prefix}"
  resource_group_name = "rg-egress"
  location            = "westeurope"
}

# /24s out of 10.128.0.0/9: distinct for up to 32768 routes.
resource "aksudr_route" "r" {
  count                  = var.n
  name                   = "r\${count.index}"
  route_table_id         = aksudr_route_table.bench.id
  address_prefix         = cidrsubnet("10.128.0.0/9", 15, count.index)
  next_hop_type          = "VirtualAppliance"
  next_hop_in_ip_address = "10.0.4.4"
}
EOF
      ;;
    route_table)
      cat >>"${dir}/main.tf" <<EOF

resource "aksudr_route_table" "r" {
  count               = var.n
  name                = "${prefix}-\${count.index}"
  resource_group_name = "rg-egress"
  location            = "westeurope"
}
EOF
      ;;
    terraform_data)
      cat >>"${dir}/main.tf" <<'EOF'

resource "terraform_data" "r" {
  count = var.n
  input = "r${count.index}"
}
EOF
      ;;
  esac
}

# Runs terraform init in $1, quietly.
tf_init() {
  (cd "$1" && lib_tf_log="${1}/init.log" lib_tf init >/dev/null) || die "terraform init failed in $1"
}

# terraform apply in $1 with -var n=$2 and any further arguments; the
# output goes to $1/apply.log.
tf_apply() {
  local dir="$1" n="$2"
  shift 2
  (cd "$dir" && lib_tf_log="${dir}/apply.log" lib_tf apply -auto-approve -var "n=${n}" "$@")
}

# Times one `terraform plan` (with refresh) in $1 with -var n=$2 and prints
# the seconds. A plan that wants changes is reported, not hidden: it means
# the refresh saw drift where there should be none.
plan_seconds() {
  local dir="$1" n="$2" start end rc=0
  start="$EPOCHREALTIME"
  (cd "$dir" && "$lib_terraform" plan -no-color -input=false -detailed-exitcode -var "n=${n}" \
    >"${dir}/plan.log" 2>&1) || rc=$?
  end="$EPOCHREALTIME"
  case "$rc" in
    0) ;;
    2) echo "bench: warning: the plan in ${dir#"${lib_root}"/} wants changes after apply (see plan.log)" >&2 ;;
    *)
      cat "${dir}/plan.log" >&2
      die "terraform plan failed in ${dir}"
      ;;
  esac
  awk -v s="$start" -v e="$end" 'BEGIN { printf "%.2f\n", e - s }'
}

# Runs the same plan once more and prints the CPU seconds of terraform and
# every process it started (the providers included), as the kernel counts
# them for reaped children.
plan_cpu() {
  local dir="$1" n="$2"
  (cd "$dir" && python3 -c '
import resource, subprocess, sys
subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%.3f" % (r.ru_utime + r.ru_stime))' "$lib_terraform" plan -no-color -input=false -var "n=${n}")
}

# The median of the numbers given as arguments.
median() {
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Reads armsim's request log and prints, tab-separated, the number of ARM
# requests, their breakdown by method and status, and the number of token
# requests.
# The identity endpoints share the server, and are counted apart.
count_requests() {
  lib_armsim_admin GET /_armsim/requests | python3 -c '
import collections, json, sys
log = json.load(sys.stdin)
identity = [r for r in log if "/oauth2/" in r["path"] or "/.well-known/" in r["path"] or "/discovery/" in r["path"]]
arm = [r for r in log if r not in identity]
by = collections.Counter(r["method"] + " " + str(r["status"]) for r in arm)
breakdown = ", ".join(f"{n} {k}" for k, n in sorted(by.items())) or "-"
print(len(arm), breakdown, len(identity), sep="\t")
'
}

# --- which resource is measured -------------------------------------------------

if [[ "$resource" == auto ]]; then
  step "probe: can this build apply aksudr_route?"
  probe="${work}/probe"
  write_config "$probe" route rt-bench-probe
  tf_init "$probe"
  if tf_apply "$probe" 1 2>/dev/null; then
    resource=route
    echo "yes: measuring aksudr_route"
    tf_apply "$probe" 0 >/dev/null 2>&1 || true
  elif grep -q 'create of aksudr_route is not available in this build' "${probe}/apply.log"; then
    resource=route_table
    echo "no (\"create of aksudr_route is not available in this build\"): aksudr_route_table stands in"
  else
    cat "${probe}/apply.log" >&2
    die "the probe apply of one aksudr_route failed"
  fi
fi
if [[ "$resource" == route ]]; then
  measured="aksudr_route (N routes in one aksudr_route_table)"
else
  measured="aksudr_route_table (STAND-IN for aksudr_route: N route tables)"
fi

# --- plan/refresh of N --------------------------------------------------------------

step "set-up: apply ${n_plan} ${resource} and ${n_plan} terraform_data"
aks="${work}/plan-${resource}"
data="${work}/plan-terraform_data"
write_config "$aks" "$resource" rt-bench-plan
write_config "$data" terraform_data unused
tf_init "$aks"
tf_init "$data"
t0="$EPOCHREALTIME"
tf_apply "$aks" "$n_plan" || die "applying ${n_plan} ${resource} failed"
setup_apply_s="$(awk -v s="$t0" -v e="$EPOCHREALTIME" 'BEGIN { printf "%.2f", e - s }')"
tf_apply "$data" "$n_plan" || die "applying ${n_plan} terraform_data failed"
echo "applied (${resource}: ${setup_apply_s} s at LRO delay 0)"

step "plan with refresh, ${runs} run(s) each, alternating"
aks_times=() data_times=()
for ((i = 1; i <= runs; i++)); do
  # The first measured plan also gives the request count.
  if ((i == 1)); then lib_armsim_admin DELETE /_armsim/requests >/dev/null; fi
  aks_times+=("$(plan_seconds "$aks" "$n_plan")")
  if ((i == 1)); then IFS=$'\t' read -r arm_requests arm_breakdown token_requests < <(count_requests); fi
  data_times+=("$(plan_seconds "$data" "$n_plan")")
  echo "run ${i}: ${resource} ${aks_times[-1]} s, terraform_data ${data_times[-1]} s"
done
aks_plan_s="$(median "${aks_times[@]}")"
data_plan_s="$(median "${data_times[@]}")"
aks_cpu_s="$(plan_cpu "$aks" "$n_plan")"
data_cpu_s="$(plan_cpu "$data" "$n_plan")"
ratio="$(awk -v a="$aks_plan_s" -v d="$data_plan_s" 'BEGIN { printf "%.1f", (d > 0) ? a / d : 0 }')"

# --- peak RSS --------------------------------------------------------------------------
#
# Once more, in a copy of the workspace whose mirror holds a two-line wrapper
# instead of the provider: it runs the real binary under peak-rss.py, which
# records the kernel's peak RSS figure when the provider exits. A separate
# mirror and workspace because terraform checks the provider package against
# the lock file written at init; a separate run so the timed plans carry no
# wrapper overhead.
step "provider peak RSS during the same plan"
rss="${work}/rss"
rss_file="${rss}/peak-rss.txt"
mkdir -p "${rss}/tf"
cp "${aks}/main.tf" "${aks}/terraform.tfstate" "${rss}/tf/"
(
  lib_publish_provider "${rss}"
  plugin="${lib_plugin_dir}/terraform-provider-aksudr_v${lib_version}"
  mv "$plugin" "${rss}/provider.real"
  printf '#!/bin/sh\nexec python3 %q %q %q "$@"\n' \
    "${lib_root}/scripts/peak-rss.py" "$rss_file" "${rss}/provider.real" >"$plugin"
  chmod 0755 "$plugin"
  tf_init "${rss}/tf"
  : >"$rss_file" # init ran the provider too; only the plan counts
  plan_seconds "${rss}/tf" "$n_plan" >/dev/null
)
# Terraform may start the provider more than once in a plan; the peak is
# the largest.
read -r rss_procs rss_kib cpu_ms < <(awk '{ n++; if ($2 > m) m = $2; c += $3 } END { print n + 0, m + 0, c + 0 }' "$rss_file")
((rss_procs > 0)) || die "the wrapper recorded no provider process"
rss_mib="$(awk -v k="$rss_kib" 'BEGIN { printf "%.1f", k / 1024 }')"
cpu_s="$(awk -v c="$cpu_ms" 'BEGIN { printf "%.3f", c / 1000 }')"

# --- start-up ---------------------------------------------------------------------------
#
# With the P-521 AutoMTLS client certificate Terraform would pass, so that
# the TLS set-up counts.
step "provider start to handshake line"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:secp521r1 -nodes -days 1 -subj "/CN=localhost" \
  -keyout "${work}/client-key.pem" -out "${work}/client-cert.pem" 2>/dev/null \
  || die "openssl could not make a P-521 client certificate"
IFS=$'\t' read -r start_min start_med start_max start_cpu < <(
  python3 "${lib_root}/scripts/startup-time.py" "${lib_root}/target/${lib_profile}/terraform-provider-aksudr" \
    "${work}/client-cert.pem" 20
) || die "timing the provider's start failed"

# --- apply of M with slow operations --------------------------------------------------------

step "apply ${n_apply} ${resource} with LRO delay ${lro_delay_ms} ms"
slow="${work}/apply-${resource}"
write_config "$slow" "$resource" rt-bench-apply
tf_init "$slow"
if [[ "$resource" == route ]]; then
  # The route table is set up before the delay is switched on: only the
  # routes' creation is timed.
  tf_apply "$slow" 0 || die "creating the route table for the apply figure failed"
fi
lib_armsim_admin POST /_armsim/config "{\"lro_delay_ms\":${lro_delay_ms}}" >/dev/null
lib_armsim_admin DELETE /_armsim/requests >/dev/null
t0="$EPOCHREALTIME"
tf_apply "$slow" "$n_apply" || die "applying ${n_apply} ${resource} failed"
apply_s="$(awk -v s="$t0" -v e="$EPOCHREALTIME" 'BEGIN { printf "%.2f", e - s }')"
IFS=$'\t' read -r apply_requests apply_breakdown _ < <(count_requests)
# Again with -parallelism=50, from none.
lib_armsim_admin POST /_armsim/config '{"lro_delay_ms":0}' >/dev/null
tf_apply "$slow" 0 || die "removing the ${resource} again failed"
lib_armsim_admin POST /_armsim/config "{\"lro_delay_ms\":${lro_delay_ms}}" >/dev/null
t0="$EPOCHREALTIME"
tf_apply "$slow" "$n_apply" -parallelism=50 || die "applying ${n_apply} ${resource} with -parallelism=50 failed"
apply50_s="$(awk -v s="$t0" -v e="$EPOCHREALTIME" 'BEGIN { printf "%.2f", e - s }')"

# --- the figures ----------------------------------------------------------------------------

step "figures"
printf 'measured:  %s\n' "$measured"
printf 'build:     %s; %s; terraform -parallelism 10 (default)\n' "$lib_profile" "$tf_version"
printf '\n'
row() { printf '%-58s %s\n' "$1" "$2"; }
row "figure" "value"
row "plan+refresh, ${n_plan} ${resource} (median of ${runs})" "${aks_plan_s} s  (runs: ${aks_times[*]})"
row "plan+refresh, ${n_plan} terraform_data (median of ${runs})" "${data_plan_s} s  (runs: ${data_times[*]})"
row "ratio ${resource} / terraform_data" "${ratio}x"
row "CPU of that plan, terraform + providers (one more run)" "${aks_cpu_s} s ${resource}, ${data_cpu_s} s terraform_data"
row "ARM requests during that refresh" "${arm_requests}  (${arm_breakdown}; token requests: ${token_requests})"
row "provider peak RSS during the plan" "${rss_mib} MiB  (max of ${rss_procs} provider process(es))"
row "provider CPU during the plan" "${cpu_s} s  (user+system, all ${rss_procs} provider process(es))"
row "provider start to handshake (20 starts)" "min ${start_min} / median ${start_med} / max ${start_max} ms  (CPU per process life ${start_cpu} ms)"
row "apply, ${n_apply} ${resource}, LRO delay ${lro_delay_ms} ms" "${apply_s} s  (${apply_requests} ARM requests: ${apply_breakdown})"
row "the same apply with -parallelism=50" "${apply50_s} s"
if [[ "$resource" == route ]]; then
  # What bounds the apply figure.
  printf '\nNOTE: a route table takes one write at a time (Azure answers 409 otherwise, and\n'
  printf 'so does armsim); routes that Terraform applies together are written as one PUT of\n'
  printf 'their table, so %s routes take about %s / -parallelism operations of %s ms.\n' "$n_apply" "$n_apply" "$lro_delay_ms"
else
  printf '\nNOTE: aksudr_route_table was measured as a stand-in for aksudr_route; the\n'
  printf 'route tables are independent, so the apply runs 10 at a time.\n'
fi
