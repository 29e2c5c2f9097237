#!/usr/bin/env python3
"""Drives Microsoft's Python SDKs (azure-identity, azure-mgmt-network,
azure-mgmt-containerservice, whatever versions are installed) against a
running armsim, with the SDKs' own credential and long-running-operation
pollers:

  route table + 0.0.0.0/0 route to a virtual appliance, association with the
  seeded subnet rg-egress/vnet/aks, a managed cluster with outboundType
  userDefinedRouting in that subnet, its user credentials, then the cluster
  deleted, the subnet dissociated, the route and the table deleted.

    ARMSIM_URL=https://127.0.0.1:PORT REQUESTS_CA_BUNDLE=ca.pem python3 tests/sdk/test_sdk.py

scripts/sdk-test.sh starts armsim and runs this. Prints one line per step,
the SDK package versions and the api-versions each client sent; exits 1 at
the first failure, naming the step and the error.
"""

import base64
import collections
import importlib.metadata
import json
import logging
import os
import ssl
import sys
import time
import traceback
import urllib.parse
import urllib.request

SUB = "00000000-0000-0000-0000-000000000000"
TENANT = "00000000-0000-0000-0000-0000000000aa"
CLIENT_ID = "11111111-1111-1111-1111-111111111111"
SECRET = "armsim-secret"
RG = "rg-egress"
VNET = "vnet"
SUBNET = "aks"
TABLE = "rt-sdk"
ROUTE = "default-egress"
FIREWALL = "10.0.4.4"
CLUSTER = "aks-sdk"
# Older published api-versions a pinned client may use (armsim accepts all).
OLDER_NETWORK = "2023-09-01"
OLDER_AKS = "2024-07-01"

# What each client sent: {client: Counter((method, path kind, api-version))}.
sent = collections.defaultdict(collections.Counter)
# Errors the negative steps provoke: (method, path suffix, status).
expected_errors = []


class StepFailed(Exception):
    pass


def step(name, fn):
    """Runs one step; on failure prints what failed and stops the run."""
    started = time.monotonic()
    try:
        out = fn()
    except Exception as e:  # noqa: BLE001 - every failure is reported the same way
        print(f"FAILED: {name}: {type(e).__name__}: {e}", flush=True)
        traceback.print_exc()
        raise StepFailed(name) from e
    print(f"ok   {name} ({time.monotonic() - started:.1f}s)", flush=True)
    return out


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def recorder(client_name):
    """A raw_request_hook: notes the api-version of every ARM request a client sends."""

    def hook(request):
        url = urllib.parse.urlsplit(request.http_request.url)
        version = dict(urllib.parse.parse_qsl(url.query)).get("api-version", "(none)")
        path = url.path.lower()
        kind = "operation status" if "/locations/" in path else "resource"
        sent[client_name][(request.http_request.method, kind, version)] += 1

    return hook


def armsim_admin(base, path, body=None):
    """armsim's loopback admin API: GET, or POST of a JSON body."""
    ctx = ssl.create_default_context(cafile=os.environ["REQUESTS_CA_BUNDLE"])
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
        text = r.read()
        return json.loads(text) if text else None


def main():
    # The SDKs' own warnings (e.g. about a response they could not use) show.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    base = os.environ.get("ARMSIM_URL", "").rstrip("/")
    if not base.startswith("https://"):
        print("ARMSIM_URL must be armsim's https base URL", file=sys.stderr)
        return 2
    if not os.environ.get("REQUESTS_CA_BUNDLE"):
        print("REQUESTS_CA_BUNDLE must name armsim's CA file", file=sys.stderr)
        return 2

    from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
    from azure.identity import ClientSecretCredential
    from azure.mgmt.containerservice import ContainerServiceClient
    from azure.mgmt.containerservice import models as aks_models
    from azure.mgmt.network import NetworkManagementClient
    from azure.mgmt.network import models as net_models

    packages = ["azure-identity", "azure-core", "azure-mgmt-core", "msal",
                "azure-mgmt-network", "azure-mgmt-containerservice"]
    print("SDK packages: " + ", ".join(f"{p} {importlib.metadata.version(p)}" for p in packages))

    # armsim is both the identity platform and ARM. Instance discovery is
    # off: MSAL would otherwise ask login.microsoftonline.com whether this
    # authority is known, which a test must not do (and cannot, offline).
    credential = ClientSecretCredential(
        TENANT, CLIENT_ID, SECRET, authority=base, disable_instance_discovery=True
    )
    # The token's audience must be armsim's own URL (it checks, as ARM does).
    common = dict(base_url=base, credential_scopes=[base + "/.default"], polling_interval=1)
    network = NetworkManagementClient(
        credential, SUB, raw_request_hook=recorder("network"), **common
    )
    aks = ContainerServiceClient(credential, SUB, raw_request_hook=recorder("containerservice"), **common)

    subnet_id = (
        f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network/"
        f"virtualNetworks/{VNET}/subnets/{SUBNET}"
    )

    def token():
        t = credential.get_token(base + "/.default")
        check(t.token, "no token")

    step("token from armsim's identity endpoint (ClientSecretCredential)", token)

    def create_table():
        rt = network.route_tables.begin_create_or_update(
            RG, TABLE, net_models.RouteTable(location="westeurope")
        ).result()
        check(rt.name == TABLE, f"name {rt.name!r}")
        check(rt.provisioning_state == "Succeeded", f"provisioningState {rt.provisioning_state!r}")
        return rt

    rt = step("route table: begin_create_or_update().result()", create_table)

    def tags_and_older_version():
        t = network.route_tables.update_tags(RG, TABLE, {"tags": {"owner": "sdk-test"}})
        check(t.tags == {"owner": "sdk-test"}, f"tags {t.tags!r}")
        # A client pinned to an older published version is served too.
        old = network.route_tables.get(RG, TABLE, api_version=OLDER_NETWORK)
        check(old.name == TABLE, f"name {old.name!r}")

    step(f"route table: update_tags; get with api_version={OLDER_NETWORK}", tags_and_older_version)

    def create_route():
        r = network.routes.begin_create_or_update(
            RG,
            TABLE,
            ROUTE,
            net_models.Route(
                address_prefix="0.0.0.0/0", next_hop_type="VirtualAppliance", next_hop_ip_address=FIREWALL
            ),
        ).result()
        check(r.next_hop_ip_address == FIREWALL, f"nextHopIpAddress {r.next_hop_ip_address!r}")
        check(r.provisioning_state == "Succeeded", f"provisioningState {r.provisioning_state!r}")

    step("route 0.0.0.0/0 -> VirtualAppliance 10.0.4.4", create_route)

    def refused_route():
        try:
            network.routes.begin_create_or_update(
                RG, TABLE, "no-ip", net_models.Route(address_prefix="0.0.0.0/0", next_hop_type="VirtualAppliance")
            ).result()
        except HttpResponseError as e:
            check(e.status_code == 400, f"status {e.status_code}")
            check(e.error is not None and e.error.code == "MissingNextHopIpAddress", f"error {e.error!r}")
            expected_errors.append(("PUT", "/routes/no-ip", 400))
            return
        raise AssertionError("a VirtualAppliance route without nextHopIpAddress was accepted")

    step("refused synchronously: HttpResponseError with ARM's error code", refused_route)

    def missing_table():
        try:
            network.route_tables.get(RG, "rt-missing")
        except ResourceNotFoundError as e:
            check(e.error is not None and e.error.code == "ResourceNotFound", f"error {e.error!r}")
            expected_errors.append(("GET", "/routetables/rt-missing", 404))
            return
        raise AssertionError("a missing route table was found")

    step("missing table: ResourceNotFoundError", missing_table)

    def failed_operation():
        armsim_admin(
            base,
            "/_armsim/lro-fail",
            {"method": "PUT", "path_regex": "routes/failing$", "code": "InternalServerError",
             "message": "Injected: the operation failed.", "count": 1},
        )
        poller = network.routes.begin_create_or_update(
            RG, TABLE, "failing", net_models.Route(address_prefix="10.9.0.0/16", next_hop_type="None")
        )
        try:
            poller.result()
        except HttpResponseError as e:
            check(e.error is not None and e.error.code == "InternalServerError", f"error {e.error!r}")
            check(poller.status().lower() == "failed", f"poller status {poller.status()!r}")
        else:
            raise AssertionError("a failed operation was reported as a success")
        # A Failed route is still there (provisioningState Failed); remove it.
        network.routes.begin_delete(RG, TABLE, "failing").result()

    step("operation ending Failed: the poller raises with its error", failed_operation)

    def associate():
        subnet = network.subnets.get(RG, VNET, SUBNET)
        check(subnet.route_table is None, "the seeded subnet already has a route table")
        subnet.route_table = net_models.RouteTable(id=rt.id)
        s = network.subnets.begin_create_or_update(RG, VNET, SUBNET, subnet).result()
        check(s.route_table is not None and s.route_table.id.lower() == rt.id.lower(), f"routeTable {s.route_table!r}")
        table = network.route_tables.get(RG, TABLE)
        check([x.id.lower() for x in (table.subnets or [])] == [subnet_id.lower()], f"table subnets {table.subnets!r}")

    step("subnet aks: read, associate with the table", associate)

    def create_cluster():
        cluster = aks_models.ManagedCluster(
            location="westeurope",
            identity=aks_models.ManagedClusterIdentity(type="SystemAssigned"),
            dns_prefix="aks-sdk",
            agent_pool_profiles=[
                aks_models.ManagedClusterAgentPoolProfile(
                    name="system",
                    mode="System",
                    count=1,
                    vm_size="Standard_D2s_v5",
                    os_type="Linux",
                    type="VirtualMachineScaleSets",
                    vnet_subnet_id=subnet_id,
                )
            ],
            network_profile=aks_models.ContainerServiceNetworkProfile(
                network_plugin="azure",
                network_plugin_mode="overlay",
                outbound_type="userDefinedRouting",
                load_balancer_sku="standard",
            ),
        )
        mc = aks.managed_clusters.begin_create_or_update(RG, CLUSTER, cluster).result()
        check(mc.provisioning_state == "Succeeded", f"provisioningState {mc.provisioning_state!r}")
        check(mc.network_profile.outbound_type == "userDefinedRouting", f"outboundType {mc.network_profile.outbound_type!r}")
        check(mc.network_profile.load_balancer_profile is None, "a UDR cluster has no load balancer profile")
        check(mc.agent_pool_profiles[0].vnet_subnet_id.lower() == subnet_id.lower(), "pool subnet")
        pools = list(aks.agent_pools.list(RG, CLUSTER))
        check([p.name for p in pools] == ["system"], f"agent pools {[p.name for p in pools]}")

    step("managed cluster, outboundType userDefinedRouting", create_cluster)

    def agent_pool():
        pool = aks.agent_pools.begin_create_or_update(
            RG,
            CLUSTER,
            "user1",
            aks_models.AgentPool(
                properties=aks_models.ManagedClusterAgentPoolProfileProperties(
                    mode="User", count=2, vm_size="Standard_D2s_v5", vnet_subnet_id=subnet_id
                )
            ),
        ).result()
        check(pool.properties.provisioning_state == "Succeeded", f"pool state {pool.properties.provisioning_state!r}")
        check(pool.properties.count == 2, f"count {pool.properties.count!r}")
        names = sorted(p.name for p in aks.agent_pools.list(RG, CLUSTER))
        check(names == ["system", "user1"], f"agent pools {names}")
        aks.agent_pools.begin_delete(RG, CLUSTER, "user1").result()
        names = sorted(p.name for p in aks.agent_pools.list(RG, CLUSTER))
        check(names == ["system"], f"agent pools after delete {names}")

    step("agent pool: create, list, delete", agent_pool)

    def credentials():
        creds = aks.managed_clusters.list_cluster_user_credentials(RG, CLUSTER)
        check(creds.kubeconfigs, "no kubeconfigs")
        value = creds.kubeconfigs[0].value
        # The SDK decodes the base64 "value" into bytes; accept a str too.
        text = value.decode() if isinstance(value, (bytes, bytearray)) else base64.b64decode(value).decode()
        check("kind: Config" in text and "server: https://" in text, f"not a kubeconfig: {text[:200]!r}")

    step("list_cluster_user_credentials: a kubeconfig", credentials)

    def other_versions():
        pinned = ContainerServiceClient(
            credential, SUB, api_version=OLDER_AKS, raw_request_hook=recorder("containerservice"), **common
        )
        mc = pinned.managed_clusters.get(RG, CLUSTER)
        check(mc.name == CLUSTER, f"name {mc.name!r}")
        bogus = ContainerServiceClient(
            credential, SUB, api_version="2099-01-01", raw_request_hook=recorder("containerservice"), **common
        )
        try:
            bogus.managed_clusters.get(RG, CLUSTER)
        except HttpResponseError as e:
            check(e.status_code == 400, f"status {e.status_code}")
            check(e.error is not None and e.error.code == "InvalidApiVersionParameter", f"error {e.error!r}")
            check(OLDER_AKS in e.error.message, f"{OLDER_AKS} not among the versions listed: {e.error.message}")
            expected_errors.append(("GET", f"/managedclusters/{CLUSTER}", 400))
            return
        raise AssertionError("api-version 2099-01-01 was accepted")

    step(f"cluster read with a client pinned to {OLDER_AKS}; 2099-01-01 refused", other_versions)

    def delete_cluster():
        aks.managed_clusters.begin_delete(RG, CLUSTER).result()
        names = [c.name for c in aks.managed_clusters.list_by_resource_group(RG)]
        check(CLUSTER not in names, f"cluster still listed: {names}")

    step("delete the cluster", delete_cluster)

    def dissociate():
        subnet = network.subnets.get(RG, VNET, SUBNET)
        subnet.route_table = None
        s = network.subnets.begin_create_or_update(RG, VNET, SUBNET, subnet).result()
        check(s.route_table is None, f"routeTable {s.route_table!r}")

    step("subnet aks: dissociate", dissociate)

    def delete_route_and_table():
        network.routes.begin_delete(RG, TABLE, ROUTE).result()
        check([r.name for r in network.routes.list(RG, TABLE)] == [], "route still listed")
        network.route_tables.begin_delete(RG, TABLE).result()
        names = [t.name for t in network.route_tables.list(RG)]
        check(TABLE not in names, f"table still listed: {names}")

    step("delete the route and the table", delete_route_and_table)

    # What went over the wire, from armsim's request log (ARM requests only).
    log = armsim_admin(base, "/_armsim/requests")
    errors = [e for e in log if e["status"] >= 400 or e["status"] == 0]

    def expected(e):
        return any(
            e["method"] == m and e["path"].lower().endswith(p) and e["status"] == st for m, p, st in expected_errors
        )

    unexpected = [e for e in errors if not expected(e)]
    print(f"armsim saw {len(log)} ARM requests; {len(errors) - len(unexpected)} expected errors, {len(unexpected)} others")
    for e in unexpected:
        print(f"  {e['status']} {e['method']} {e['path']}?{e['query']}")
    for client in sorted(sent):
        print(f"api-versions sent by the {client} client:")
        for (method, kind, version), n in sorted(sent[client].items(), key=lambda i: (i[0][2], i[0][0], i[0][1])):
            print(f"  {version}  {method:<6} {kind} x{n}")
    config_version = getattr(aks._config, "api_version", None)
    if config_version:
        print(f"ContainerServiceClient._config.api_version = {config_version}")
    if unexpected:
        print("FAILED: armsim answered requests of the SDKs with unexpected errors (above)")
        return 1
    print("sdk-test: ok")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except StepFailed:
        sys.exit(1)
