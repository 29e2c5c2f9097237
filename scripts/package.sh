#!/usr/bin/env bash
# Packages a provider binary as a Terraform registry (or private mirror)
# release, in the layout the registry protocol and `terraform providers
# mirror` use:
#
#   OUTDIR/terraform-provider-aksudr_VERSION_OS_ARCH.zip   (the binary, named
#          terraform-provider-aksudr_vVERSION)
#   OUTDIR/terraform-provider-aksudr_VERSION_manifest.json (protocol 6.0)
#   OUTDIR/terraform-provider-aksudr_VERSION_SHA256SUMS
#   OUTDIR/terraform-provider-aksudr_VERSION_SHA256SUMS.sig  (only with
#          GPG_FINGERPRINT set: a detached signature by that key, which a
#          registry checks against the key it holds for the namespace)
#
#   scripts/package.sh BINARY VERSION OUTDIR [OS_ARCH]
#
# OS_ARCH defaults to this machine's (e.g. linux_amd64). `make release`
# builds the release binary and calls this.
set -euo pipefail

[[ $# -ge 3 ]] || {
  sed -n '2,19s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
  exit 2
}
binary="$1" version="$2" out="$3"
os="$(uname -s | tr '[:upper:]' '[:lower:]')"
arch="$(uname -m | sed -e 's/^x86_64$/amd64/' -e 's/^aarch64$/arm64/')"
target="${4:-${os}_${arch}}"
[[ -x "$binary" ]] || { echo "package: no executable at ${binary}" >&2; exit 1; }
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] || {
  echo "package: '${version}' is not a version like 1.2.3" >&2
  exit 1
}
[[ "$target" =~ ^[a-z0-9]+_[a-z0-9]+$ ]] || { echo "package: '${target}' is not OS_ARCH" >&2; exit 1; }

name="terraform-provider-aksudr"
mkdir -p "$out"
zip="${out}/${name}_${version}_${target}.zip"
manifest="${out}/${name}_${version}_manifest.json"
sums="${out}/${name}_${version}_SHA256SUMS"

# Windows executables keep their suffix inside the zip.
member="${name}_v${version}"
[[ "$target" == windows_* ]] && member="${member}.exe"

# python's zipfile: no dependency on a zip tool; the member is executable.
python3 - "$binary" "$zip" "$member" <<'PY'
import sys, zipfile
binary, zip_path, member = sys.argv[1:4]
info = zipfile.ZipInfo(member, date_time=(2020, 1, 1, 0, 0, 0))
info.external_attr = 0o100755 << 16
info.compress_type = zipfile.ZIP_DEFLATED
with open(binary, "rb") as f, zipfile.ZipFile(zip_path, "w") as z:
    z.writestr(info, f.read())
PY
printf '{\n  "version": 1,\n  "metadata": {\n    "protocol_versions": ["6.0"]\n  }\n}\n' >"$manifest"
# Every platform's zip of this version in OUTDIR: packaging several
# platforms into one folder yields one SHA256SUMS that covers them all.
(cd "$out" && sha256sum "${name}_${version}"_*.zip "$(basename "$manifest")") >"$sums"
if [[ -n "${GPG_FINGERPRINT:-}" ]]; then
  gpg --batch --yes --local-user "$GPG_FINGERPRINT" --output "${sums}.sig" --detach-sign "$sums"
fi
echo "$zip"
