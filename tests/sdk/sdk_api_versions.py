#!/usr/bin/env python3
"""Lists the api-versions that releases of azure-mgmt-network and
azure-mgmt-containerservice know for the operation groups armsim serves.

    python3 tests/sdk/sdk_api_versions.py [--check|--missing tests/armsim/src/api_versions.rs] WHEEL_OR_DIR...

Each argument is a wheel (.whl) of one of the two packages, or a directory
holding wheels (searched recursively). The script reads, without installing
or importing anything:

* multi-api releases with one sub-package per api-version
  (azure/mgmt/network/v2019_09_01/...): a version counts when its
  sub-package has the operation group's operations;
* "combined multi-api" releases: the `api_version_validation(method_valid_on=[...])`
  list on the client's operation-group property;
* single-api releases: the default `api-version` of the operation group's
  request builders (build_route_tables_get_request, ...).

It prints, per package and operation group, the sorted union and the
releases naming each version. With --check it also compares the unions
with armsim's lists (NETWORK_SDK: every network group's union;
CONTAINER_SERVICE_SDK: the stable versions of managed_clusters;
CONTAINER_SERVICE_PREVIEW: holds the newest preview, and only previews the
wheels name) and exits 1 on a difference.
The releases read for armsim's lists are named in api_versions.rs.

With --missing it lists the versions the wheels send that armsim does not
accept at all (any of its lists), and exits 1 if there is one: what
`make sdk-drift` runs on the newest releases.
"""

import collections
import os
import re
import sys
import zipfile

GROUPS = {
    "network": ["route_tables", "routes", "subnets", "virtual_networks"],
    "containerservice": ["managed_clusters", "agent_pools"],
}
VERSION = r"\d{4}-\d{2}-\d{2}(?:-preview)?"


def wheels(args):
    """The azure-mgmt-* wheels among the arguments (others, e.g. azure-identity, are skipped)."""
    for a in args:
        if os.path.isdir(a):
            for root, _, files in os.walk(a):
                for f in files:
                    if f.endswith(".whl") and f.startswith("azure_mgmt_"):
                        yield os.path.join(root, f)
        else:
            yield a


def scan(path):
    """-> (package, release, {group: set(versions)})"""
    z = zipfile.ZipFile(path)
    names = z.namelist()
    m = re.match(r"azure_mgmt_(\w+?)-([^-]+)-", os.path.basename(path))
    pkg, release = m.group(1), m.group(2)
    found = collections.defaultdict(set)
    root = f"azure/mgmt/{pkg}/"
    # 1. One sub-package per api-version.
    subs = collections.defaultdict(list)
    for n in names:
        s = re.match(re.escape(root) + r"(v\d{4}_\d{2}_\d{2}(?:_preview)?)/(?:aio/)?operations/(.+)\.py$", n)
        if s:
            subs[s.group(1)].append(n)
    for sub, files in subs.items():
        version = sub[1:].replace("_preview", "-preview").replace("_", "-")
        text = "".join(z.read(f).decode("utf-8", "replace") for f in files)
        for g in GROUPS[pkg]:
            if re.search(rf"def build_{g}_get_request|class {camel(g)}Operations\b", text):
                found[g].add(version)
    # 2. Combined multi-api: api_version_validation on the client properties.
    for n in names:
        if re.fullmatch(re.escape(root) + r"_(?:client|\w+_client)\.py", n):
            text = z.read(n).decode("utf-8", "replace")
            for g in GROUPS[pkg]:
                v = re.search(
                    r"method_valid_on=\[([^\]]*)\]\s*\)\s*def " + g + r"\(self\)", text
                )
                if v:
                    found[g].update(re.findall(VERSION, v.group(1)))
    # 3. Single-api: the default of the group's request builders, either
    #    build_{group}_*_request in one operations module, or build_*_request
    #    in the group's own module (operations/_{group}_operations.py).
    default = re.compile(r'kwargs\.pop\("api_version", _params\.pop\("api-version", [^"]*"(' + VERSION + ')"')
    for n in names:
        if not (n.startswith(root + "operations/") and n.endswith(".py")):
            continue
        text = z.read(n).decode("utf-8", "replace")
        for g in GROUPS[pkg]:
            own = n == f"{root}operations/_{g}_operations.py"
            prefix = "" if own else g + "_"
            for b in re.finditer(rf"def build_{prefix}\w+_request\(.*?\n\s+return HttpRequest", text, re.S):
                d = default.search(b.group(0))
                if d:
                    found[g].add(d.group(1))
    return pkg, release, found


def camel(g):
    return "".join(p.title() for p in g.split("_"))


def rust_list(text, name):
    m = re.search(rf"const {name}: &\[&str\] = &\[(.*?)\];", text, re.S)
    if not m:
        raise SystemExit(f"{name} not found")
    return set(re.findall(r'"([^"]+)"', m.group(1)))


def check(path, union):
    text = open(path, encoding="utf-8").read()
    net = set().union(*(union["network"][g] for g in GROUPS["network"]))
    mc = union["containerservice"]["managed_clusters"]
    previews = sorted(v for v in mc if v.endswith("-preview"))
    want = {
        "NETWORK_SDK": net,
        "CONTAINER_SERVICE_SDK": {v for v in mc if not v.endswith("-preview")},
    }
    ok = True
    # Previews: armsim keeps a few; the newest must be among them, and each
    # must be one a release named.
    have = rust_list(text, "CONTAINER_SERVICE_PREVIEW")
    if not previews or previews[-1] not in have or not have <= set(previews):
        ok = False
        print(f"CONTAINER_SERVICE_PREVIEW {sorted(have)}: the wheels' previews are {previews}")
    else:
        print(f"CONTAINER_SERVICE_PREVIEW: the newest preview, {previews[-1]}, and {len(have) - 1} older")
    for name, versions in want.items():
        have = rust_list(text, name)
        if have != versions:
            ok = False
            print(f"{name} differs: only in armsim {sorted(have - versions)}, only in the wheels {sorted(versions - have)}")
        else:
            print(f"{name}: the same {len(have)} versions as the wheels")
    return 0 if ok else 1


def missing(path, union):
    text = open(path, encoding="utf-8").read()
    accepted = {
        "network": rust_list(text, "NETWORK_SDK") | rust_list(text, "NETWORK_DOCUMENTED"),
        "containerservice": rust_list(text, "CONTAINER_SERVICE_SDK") | rust_list(text, "CONTAINER_SERVICE_PREVIEW"),
    }
    gaps = []
    for pkg in sorted(union):
        for g in GROUPS[pkg]:
            for v in sorted(union[pkg][g] - accepted[pkg]):
                gaps.append(f"{pkg} {g}: {v}")
    if gaps:
        print("api-versions armsim does not accept:")
        for gap in gaps:
            print(f"  {gap}")
        return 1
    print("armsim accepts every api-version these releases send")
    return 0


def main(args):
    check_file = missing_file = None
    if args[:1] == ["--check"] and len(args) >= 2:
        check_file, args = args[1], args[2:]
    elif args[:1] == ["--missing"] and len(args) >= 2:
        missing_file, args = args[1], args[2:]
    if not args:
        print(__doc__)
        return 2
    union = collections.defaultdict(lambda: collections.defaultdict(set))
    sources = collections.defaultdict(lambda: collections.defaultdict(set))
    for w in sorted(wheels(args)):
        pkg, release, found = scan(w)
        for g, vs in found.items():
            union[pkg][g] |= vs
            for v in vs:
                sources[pkg][v].add(release)
    for pkg in sorted(union):
        print(f"azure-mgmt-{pkg}")
        for g in GROUPS[pkg]:
            vs = sorted(union[pkg][g])
            print(f"  {g} ({len(vs)}): {', '.join(vs)}")
        print("  releases naming each version:")
        for v in sorted(sources[pkg]):
            rel = sorted(sources[pkg][v], key=lambda r: [int(x) if x.isdigit() else x for x in re.split(r"(\d+)", r)])
            print(f"    {v}: {', '.join(rel)}")
    if check_file:
        return check(check_file, union)
    if missing_file:
        return missing(missing_file, union)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
