//! End-to-end tests of the simulator over HTTPS with a real client.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use armsim::{AksErrorShape, Config, Fault, FaultStatus, Latency, LroFailure, RunningSim, Seed, Sim};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

const SUB: &str = "00000000-0000-0000-0000-000000000000";
const NET: &str = "2024-07-01";
const RG: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-egress";

struct T {
    sim: RunningSim,
    http: Client,
    token: String,
}

struct R {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl R {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    fn code(&self) -> Option<&str> {
        self.body["error"]["code"].as_str().or(self.body["code"].as_str())
    }
}

fn client(sim: &RunningSim) -> Client {
    let ca = reqwest::Certificate::from_pem(sim.ca_pem().as_bytes()).unwrap();
    Client::builder().add_root_certificate(ca).build().unwrap()
}

async fn start(config: Config) -> T {
    let sim = Sim::start(config).await.unwrap();
    let http = client(&sim);
    let token = sim.issue_token();
    T { sim, http, token }
}

async fn default_sim() -> T {
    start(Config::default()).await
}

fn rt_id(name: &str) -> String {
    format!("{RG}/providers/Microsoft.Network/routeTables/{name}")
}

fn subnet_id(name: &str) -> String {
    format!("{RG}/providers/Microsoft.Network/virtualNetworks/vnet/subnets/{name}")
}

impl T {
    fn url(&self, path: &str, api: &str) -> String {
        if path.starts_with("https://") {
            return path.to_string();
        }
        format!("{}{path}?api-version={api}", self.sim.base_url())
    }

    async fn send(&self, method: Method, url: &str, body: Option<Value>, headers: &[(&str, &str)]) -> R {
        let mut b = self.http.request(method, url).bearer_auth(&self.token);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        if let Some(body) = body {
            b = b.json(&body);
        }
        let resp = b.send().await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() };
        R { status, headers, body }
    }

    async fn get(&self, path: &str) -> R {
        self.send(Method::GET, &self.url(path, NET), None, &[]).await
    }

    async fn put(&self, path: &str, body: Value) -> R {
        self.send(Method::PUT, &self.url(path, NET), Some(body), &[]).await
    }

    async fn delete(&self, path: &str) -> R {
        self.send(Method::DELETE, &self.url(path, NET), None, &[]).await
    }

    /// Polls an Azure-AsyncOperation URL until it leaves InProgress.
    async fn poll(&self, r: &R) -> Value {
        let url = r.header("azure-asyncoperation").expect("Azure-AsyncOperation header").to_string();
        for _ in 0..50 {
            let s = self.send(Method::GET, &url, None, &[]).await;
            assert_eq!(s.status, StatusCode::OK);
            if s.body["status"] != "InProgress" {
                return s.body;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("operation never finished");
    }

    async fn put_rt(&self, name: &str, routes: Value) -> R {
        let r = self.put(&rt_id(name), json!({"location": "westeurope", "properties": {"routes": routes}})).await;
        assert!(r.status.is_success(), "{:?} {}", r.status, r.body);
        assert_eq!(self.poll(&r).await["status"], "Succeeded");
        r
    }
}

fn fw_route(name: &str) -> Value {
    json!({"name": name, "properties": {"addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.0.4.4"}})
}

#[tokio::test]
async fn token_endpoint_grants_secret_and_assertion() {
    let t = default_sim().await;
    let url = t.sim.token_url("tenant-1");
    // The simulator is the Resource Manager: its URL is the audience.
    let arm_scope = format!("{}/.default", t.sim.base_url());
    let form = |extra: &[(&'static str, &str)]| -> Vec<(&'static str, String)> {
        let mut v = vec![
            ("grant_type", "client_credentials".to_string()),
            ("client_id", "11111111-1111-1111-1111-111111111111".to_string()),
            ("scope", arm_scope.clone()),
        ];
        v.extend(extra.iter().map(|(k, x)| (*k, x.to_string())));
        v
    };
    let post = |f: Vec<(&'static str, String)>| {
        let body: String = f
            .iter()
            .map(|(k, v)| format!("{k}={}", v.replace(':', "%3A").replace('/', "%2F")))
            .collect::<Vec<_>>()
            .join("&");
        t.http.post(&url).header("content-type", "application/x-www-form-urlencoded").body(body).send()
    };
    let ok = post(form(&[("client_secret", "armsim-secret")])).await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    let body: Value = ok.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3599);
    assert_eq!(body["ext_expires_in"], 3599);
    let token = body["access_token"].as_str().unwrap().to_string();

    // The minted token works on ARM.
    let r = t.http.get(t.url(RG, "2021-04-01")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // A token for another resource does not.
    let mut graph = form(&[("client_secret", "armsim-secret")]);
    graph.retain(|(k, _)| *k != "scope");
    graph.push(("scope", "https://graph.microsoft.com/.default".to_string()));
    let other: Value = post(graph).await.unwrap().json().await.unwrap();
    let other = other["access_token"].as_str().unwrap().to_string();
    let r = t.http.get(t.url(RG, "2021-04-01")).bearer_auth(&other).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "InvalidAuthenticationTokenAudience");

    let bad = post(form(&[("client_secret", "wrong")])).await.unwrap();
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");

    // eyJhbGciOiJSUzI1NiJ9 = {"alg":"RS256"}, eyJzdWIiOiJ4In0 = {"sub":"x"}
    let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
    let ok = post(form(&[("client_assertion", jwt), ("client_assertion_type", armsim::JWT_BEARER)])).await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    let bad =
        post(form(&[("client_assertion", "not-a-jwt"), ("client_assertion_type", armsim::JWT_BEARER)])).await.unwrap();
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);

    let disc = t
        .http
        .get(format!("{}/tenant-1/v2.0/.well-known/openid-configuration", t.sim.base_url()))
        .send()
        .await
        .unwrap();
    let body: Value = disc.json().await.unwrap();
    assert_eq!(body["token_endpoint"], url);
}

#[tokio::test]
async fn arm_requires_a_bearer_token() {
    let t = default_sim().await;
    let r = t.http.get(t.url(&rt_id("x"), NET)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.headers().get("www-authenticate").unwrap().to_str().unwrap().starts_with("Bearer "));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "AuthenticationFailed");

    let r = t.http.get(t.url(&rt_id("x"), NET)).bearer_auth("forged").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.headers().contains_key("www-authenticate"));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "InvalidAuthenticationToken");
}

#[tokio::test]
async fn api_version_is_required_and_checked() {
    let t = default_sim().await;
    let url = format!("{}{}", t.sim.base_url(), rt_id("x"));
    let r = t.send(Method::GET, &url, None, &[]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.code(), Some("MissingApiVersionParameter"));
    let r = t.send(Method::GET, &t.url(&rt_id("x"), "2019-01-01"), None, &[]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.code(), Some("InvalidApiVersionParameter"));
}

/// Real ARM serves every published api-version of a resource type, so clients pinned to an
/// older one and Microsoft's SDKs (which send their newest) work.
#[tokio::test]
async fn older_and_newest_api_versions_are_accepted() {
    let t = default_sim().await;
    // An older Microsoft.Network version: a route table written and polled at 2023-09-01.
    let url = t.url(&rt_id("older"), "2023-09-01");
    let r = t.send(Method::PUT, &url, Some(json!({"location": "westeurope"})), &[]).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let aso = r.header("azure-asyncoperation").unwrap().to_string();
    assert!(aso.ends_with("?api-version=2023-09-01"), "{aso}");
    assert_eq!(t.poll(&r).await["status"], "Succeeded");
    // The newest ones azure-mgmt-network / azure-mgmt-containerservice send.
    let r = t.send(Method::GET, &t.url(&rt_id("older"), "2026-03-01"), None, &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["properties"]["provisioningState"], "Succeeded");
    let subnet = t.send(Method::GET, &t.url(&subnet_id("aks"), "2026-03-01"), None, &[]).await;
    assert_eq!(subnet.status, StatusCode::OK);
    let clusters = format!("{RG}/providers/Microsoft.ContainerService/managedClusters");
    for v in ["2026-09-01", "2026-08-02-preview", "2026-08-01", "2026-07-02-preview", "2024-07-01", "2018-03-31"] {
        let r = t.send(Method::GET, &t.url(&clusters, v), None, &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{v}: {}", r.body);
    }
    // Agent pools came with 2019-02-01: older versions do not know the type.
    let pools = format!("{}/agentPools", cluster_id("c1"));
    let r = t.send(Method::GET, &t.url(&pools, "2018-03-31"), None, &[]).await;
    assert_eq!(r.code(), Some("InvalidApiVersionParameter"));
    let r = t.send(Method::GET, &t.url(&pools, "2019-02-01"), None, &[]).await;
    assert_eq!(r.code(), Some("ResourceNotFound"), "the version passes, the cluster is missing");
    // Resource groups keep their own list.
    let r = t.send(Method::GET, &t.url(RG, "2025-04-01"), None, &[]).await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn unknown_api_version_is_refused_listing_the_accepted_ones() {
    let t = default_sim().await;
    let r = t.send(Method::GET, &t.url(&rt_id("x"), "2024-07-02"), None, &[]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.code(), Some("InvalidApiVersionParameter"));
    let msg = r.body["error"]["message"].as_str().unwrap();
    let listed = msg
        .strip_prefix("The api-version '2024-07-02' is invalid. The supported versions are '")
        .and_then(|m| m.strip_suffix("'."))
        .unwrap_or_else(|| panic!("message shape: {msg}"));
    let listed: Vec<&str> = listed.split(',').collect();
    // Newest first, as ARM lists them; the provider's, an older and the SDK's newest included.
    assert_eq!(listed.first(), Some(&"2026-03-01"));
    assert_eq!(listed.last(), Some(&"2015-06-15"));
    assert!(listed.windows(2).all(|w| w[0] > w[1]));
    for v in ["2024-07-01", "2023-09-01", "2016-03-30"] {
        assert!(listed.contains(&v), "{v} missing from {msg}");
    }
    // AKS lists its own versions (a preview among them), not the network ones.
    let r = t.send(Method::GET, &t.url(&cluster_id("c1"), "2024-07-01-preview"), None, &[]).await;
    assert_eq!(r.code(), Some("InvalidApiVersionParameter"));
    let msg = r.body["error"]["message"].as_str().unwrap();
    assert!(msg.contains("'2026-09-01,2026-08-02-preview,2026-08-01,2026-07-02-preview,2026-07-01,"), "{msg}");
    assert!(!msg.contains("2026-03-01,2026-01-01,2025-09-01"), "{msg}");
    // A version nobody has published yet, for each type armsim serves.
    for path in [rt_id("x"), cluster_id("c1"), format!("{}/agentPools/p", cluster_id("c1"))] {
        let r = t.send(Method::GET, &t.url(&path, "2099-01-01"), None, &[]).await;
        assert_eq!(r.code(), Some("InvalidApiVersionParameter"), "{path}");
    }
}

#[tokio::test]
async fn seeded_network_is_visible() {
    let t = default_sim().await;
    let vnet = t.get(&format!("{RG}/providers/Microsoft.Network/virtualNetworks/vnet")).await;
    assert_eq!(vnet.status, StatusCode::OK);
    assert_eq!(vnet.body["properties"]["addressSpace"]["addressPrefixes"], json!(["10.0.0.0/16"]));
    let names: Vec<&str> =
        vnet.body["properties"]["subnets"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["aks", "AzureFirewallSubnet", "users"]);
    let s = t.get(&subnet_id("aks")).await;
    assert_eq!(s.body["properties"]["addressPrefix"], "10.0.0.0/22");
    assert_eq!(s.body["type"], "Microsoft.Network/virtualNetworks/subnets");
    let missing = t.get(&subnet_id("nope")).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.code(), Some("NotFound"));
    let rg = t.get(&rt_id("x").replace("rg-egress", "rg-missing")).await;
    assert_eq!(rg.code(), Some("ResourceGroupNotFound"));
}

#[tokio::test]
async fn route_table_crud_with_lro() {
    let t = default_sim().await;
    let id = rt_id("rt-fw");
    let r = t
        .put(
            &id,
            json!({"location": "West Europe", "tags": {"a": "b"}, "properties": {"routes": [fw_route("default")]}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.body["properties"]["provisioningState"], "Updating");
    assert_eq!(r.body["location"], "westeurope");
    assert_eq!(r.body["type"], "Microsoft.Network/routeTables");
    assert!(r.body["etag"].as_str().unwrap().starts_with("W/\""));
    assert!(r.body["properties"]["resourceGuid"].is_string());
    let route = &r.body["properties"]["routes"][0];
    assert_eq!(route["id"], format!("{id}/routes/default"));
    assert_eq!(route["properties"]["nextHopIpAddress"], "10.0.4.4");
    assert_eq!(route["properties"]["hasBgpOverride"], false);
    let aso = r.header("azure-asyncoperation").unwrap();
    assert!(aso.contains("/providers/Microsoft.Network/locations/westeurope/operations/"));
    assert!(aso.ends_with("?api-version=2024-07-01"));
    assert_eq!(r.header("retry-after"), Some("0"));
    assert_eq!(t.poll(&r).await, json!({"status": "Succeeded"}));

    let g = t.get(&id).await;
    assert_eq!(g.body["properties"]["provisioningState"], "Succeeded");
    assert_eq!(g.body["properties"]["routes"][0]["properties"]["provisioningState"], "Succeeded");
    assert_eq!(g.body["tags"], json!({"a": "b"}));

    // An update answers 200.
    let r = t.put(&id, json!({"location": "westeurope", "properties": {"routes": [fw_route("default")]}})).await;
    assert_eq!(r.status, StatusCode::OK);
    t.poll(&r).await;

    let p = t.send(Method::PATCH, &t.url(&id, NET), Some(json!({"tags": {"env": "test"}})), &[]).await;
    assert_eq!(p.status, StatusCode::OK);
    assert_eq!(p.body["tags"], json!({"env": "test"}));

    let list = t.get(&format!("{RG}/providers/Microsoft.Network/routeTables")).await;
    assert_eq!(list.body["value"].as_array().unwrap().len(), 1);
    let all = t.get(&format!("/subscriptions/{SUB}/providers/Microsoft.Network/routeTables")).await;
    assert_eq!(all.body["value"].as_array().unwrap().len(), 1);

    let d = t.delete(&id).await;
    assert_eq!(d.status, StatusCode::ACCEPTED);
    let loc = d.header("location").unwrap().to_string();
    assert!(loc.contains("/operationResults/"));
    assert_eq!(t.poll(&d).await["status"], "Succeeded");
    let l = t.send(Method::GET, &loc, None, &[]).await;
    assert_eq!(l.status, StatusCode::NO_CONTENT);
    let g = t.get(&id).await;
    assert_eq!(g.status, StatusCode::NOT_FOUND);
    assert_eq!(g.code(), Some("ResourceNotFound"));
    // Deleting what is gone is a no-op.
    assert_eq!(t.delete(&id).await.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn put_replaces_routes_and_ids_are_case_insensitive() {
    let t = default_sim().await;
    let id = rt_id("RT-Mixed");
    t.put_rt(
        "RT-Mixed",
        json!([fw_route("default"), {"name": "onprem", "properties": {"addressPrefix": "192.168.0.0/16", "nextHopType": "VirtualNetworkGateway"}}]),
    )
    .await;
    let routes = t.get(&format!("{id}/routes")).await;
    assert_eq!(routes.body["value"].as_array().unwrap().len(), 2);
    // A PUT that omits `onprem` deletes it, as in Azure.
    t.put_rt("rt-mixed", json!([fw_route("default")])).await;
    let g = t.get(&id.to_uppercase().replace("/SUBSCRIPTIONS/", "/subscriptions/")).await;
    assert_eq!(g.status, StatusCode::OK);
    assert_eq!(g.body["name"], "RT-Mixed", "canonical casing is kept");
    assert_eq!(g.body["id"], id);
    let names: Vec<&str> =
        g.body["properties"]["routes"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["default"]);
    assert_eq!(t.get(&format!("{id}/routes/onprem")).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn routes_as_child_resources() {
    let t = default_sim().await;
    let rt = rt_id("rt");
    let missing_parent = t.put(&format!("{}/routes/r", rt_id("none")), fw_route("r")).await;
    assert_eq!(missing_parent.status, StatusCode::NOT_FOUND);
    assert_eq!(missing_parent.code(), Some("ParentResourceNotFound"));
    t.put_rt("rt", json!([])).await;
    let r = t
        .put(
            &format!("{rt}/routes/internet"),
            json!({"properties": {"addressPrefix": "0.0.0.0/0", "nextHopType": "Internet"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "0.0.0.0/0 to Internet is allowed by Microsoft.Network");
    assert_eq!(r.body["type"], "Microsoft.Network/routeTables/routes");
    t.poll(&r).await;
    let g = t.get(&format!("{rt}/routes/internet")).await;
    assert_eq!(g.body["properties"]["provisioningState"], "Succeeded");
    let parent = t.get(&rt).await;
    assert_eq!(parent.body["properties"]["routes"][0]["name"], "internet");
    let d = t.delete(&format!("{rt}/routes/internet")).await;
    assert_eq!(d.status, StatusCode::ACCEPTED);
    assert!(d.header("location").is_some());
    t.poll(&d).await;
    let g = t.get(&format!("{rt}/routes/internet")).await;
    assert_eq!(g.status, StatusCode::NOT_FOUND);
    assert_eq!(g.code(), Some("NotFound"));
}

#[tokio::test]
async fn network_validation_codes() {
    let t = default_sim().await;
    let rt = rt_id("rt");
    let r = t.put(&rt, json!({"properties": {}})).await;
    assert_eq!(r.code(), Some("LocationRequired"));
    let r = t
        .put(&rt, json!({"location": "westeurope", "properties": {"routes": [{"name": "d", "properties": {"addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualAppliance"}}]}}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.code(), Some("MissingNextHopIpAddress"));
    let r = t
        .put(&rt, json!({"location": "westeurope", "properties": {"routes": [{"name": "d", "properties": {"addressPrefix": "10.1.2.3/16", "nextHopType": "None"}}]}}))
        .await;
    assert_eq!(r.code(), Some("InvalidCIDRNotation"));
    let r = t
        .put(&rt, json!({"location": "westeurope", "properties": {"routes": [{"name": "d", "properties": {"addressPrefix": "10.0.0/16", "nextHopType": "None"}}]}}))
        .await;
    assert_eq!(r.code(), Some("InvalidAddressPrefixFormat"));
    // Nothing was stored by the refused PUTs.
    assert_eq!(t.get(&rt).await.status, StatusCode::NOT_FOUND);
    let s = t.put(&subnet_id("bad"), json!({"properties": {"addressPrefix": "10.1.0.0/24"}})).await;
    assert_eq!(s.code(), Some("NetcfgSubnetRangeOutsideVnet"));
    let s = t.put(&subnet_id("bad"), json!({"properties": {"addressPrefix": "10.0.1.0/24"}})).await;
    assert_eq!(s.code(), Some("NetcfgSubnetRangesOverlap"));
    let s = t
        .put(
            &subnet_id("aks"),
            json!({"properties": {"addressPrefix": "10.0.0.0/22", "routeTable": {"id": rt_id("ghost")}}}),
        )
        .await;
    assert_eq!(s.code(), Some("InvalidResourceReference"));
}

#[tokio::test]
async fn subnet_route_table_association_is_kept_in_sync() {
    let t = default_sim().await;
    let rt = rt_id("rt");
    t.put_rt("rt", json!([fw_route("default")])).await;
    let s = t
        .put(
            &subnet_id("aks"),
            json!({"properties": {"addressPrefix": "10.0.0.0/22", "routeTable": {"id": rt.to_lowercase()}}}),
        )
        .await;
    assert_eq!(s.status, StatusCode::OK);
    assert_eq!(s.body["properties"]["provisioningState"], "Updating");
    t.poll(&s).await;
    let sub = t.get(&subnet_id("aks")).await;
    assert_eq!(sub.body["properties"]["routeTable"]["id"], rt, "stored with canonical casing");
    let table = t.get(&rt).await;
    assert_eq!(table.body["properties"]["subnets"], json!([{"id": subnet_id("aks")}]));

    let d = t.delete(&rt).await;
    assert_eq!(d.status, StatusCode::BAD_REQUEST);
    assert_eq!(d.code(), Some("InUseRouteTableCannotBeDeleted"));

    // A subnet PUT without routeTable dissociates it.
    let s = t.put(&subnet_id("aks"), json!({"properties": {"addressPrefix": "10.0.0.0/22"}})).await;
    t.poll(&s).await;
    let table = t.get(&rt).await;
    assert!(table.body["properties"].get("subnets").is_none());
    assert!(t.get(&subnet_id("aks")).await.body["properties"].get("routeTable").is_none());
}

#[tokio::test]
async fn etag_preconditions() {
    let t = default_sim().await;
    let rt = rt_id("rt");
    let body = json!({"location": "westeurope"});
    let created = t.send(Method::PUT, &t.url(&rt, NET), Some(body.clone()), &[("If-None-Match", "*")]).await;
    assert_eq!(created.status, StatusCode::CREATED);
    t.poll(&created).await;
    let again = t.send(Method::PUT, &t.url(&rt, NET), Some(body.clone()), &[("If-None-Match", "*")]).await;
    assert_eq!(again.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(again.code(), Some("PreconditionFailed"));
    let stale = t
        .send(
            Method::PUT,
            &t.url(&rt, NET),
            Some(body.clone()),
            &[("If-Match", "W/\"00000000-0000-0000-0000-000000000000\"")],
        )
        .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    let etag = t.get(&rt).await.body["etag"].as_str().unwrap().to_string();
    let ok = t.send(Method::PUT, &t.url(&rt, NET), Some(body), &[("If-Match", &etag)]).await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_ne!(ok.body["etag"], etag, "a write changes the etag");
    t.poll(&ok).await;
    let del = t.send(Method::DELETE, &t.url(&rt, NET), None, &[("If-Match", &etag)]).await;
    assert_eq!(del.status, StatusCode::PRECONDITION_FAILED);
}

#[tokio::test]
async fn concurrent_writes_conflict_and_operations_take_time() {
    let t = start(Config { lro_delay: Duration::from_secs(60), ..Config::default() }).await;
    let rt = rt_id("rt");
    let r = t.put(&rt, json!({"location": "westeurope", "properties": {"routes": [fw_route("default")]}})).await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.header("retry-after"), Some("1"));
    let status_url = r.header("azure-asyncoperation").unwrap().to_string();
    let s = t.send(Method::GET, &status_url, None, &[]).await;
    assert_eq!(s.body, json!({"status": "InProgress"}));
    assert_eq!(t.get(&rt).await.body["properties"]["provisioningState"], "Updating");

    let c = t.put(&format!("{rt}/routes/other"), fw_route("other")).await;
    assert_eq!(c.status, StatusCode::CONFLICT);
    assert_eq!(c.code(), Some("AnotherOperationInProgress"));
    let msg = c.body["error"]["message"].as_str().unwrap();
    assert!(msg.contains("PutRouteTableOperation"), "{msg}");

    t.sim.settle_operations();
    assert_eq!(t.send(Method::GET, &status_url, None, &[]).await.body["status"], "Succeeded");
    assert_eq!(t.get(&rt).await.body["properties"]["provisioningState"], "Succeeded");
    t.sim.set_lro_delay(Duration::ZERO);
    let ok = t
        .put(
            &format!("{rt}/routes/other"),
            json!({"properties": {"addressPrefix": "10.9.0.0/16", "nextHopType": "None"}}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::CREATED);
}

#[tokio::test]
async fn lro_failure_injection() {
    let t = default_sim().await;
    t.sim
        .fail_next_lro(LroFailure {
            method: Some("PUT".into()),
            path_regex: "routeTables/rt$".into(),
            code: "InternalServerError".into(),
            message: "boom".into(),
            count: 1,
        })
        .unwrap();
    let r = t.put(&rt_id("rt"), json!({"location": "westeurope"})).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let st = t.poll(&r).await;
    assert_eq!(st["status"], "Failed");
    assert_eq!(st["error"]["code"], "InternalServerError");
    assert_eq!(st["error"]["message"], "boom");
    assert_eq!(t.get(&rt_id("rt")).await.body["properties"]["provisioningState"], "Failed");
    // Only the next one fails.
    let r = t.put(&rt_id("rt"), json!({"location": "westeurope"})).await;
    assert_eq!(t.poll(&r).await["status"], "Succeeded");
}

#[tokio::test]
async fn faults_throttle_and_drop() {
    let t = default_sim().await;
    t.sim
        .add_fault(Fault::new("routeTables/rt$", FaultStatus::Status(429)).method("GET").count(2).retry_after(7))
        .unwrap();
    for _ in 0..2 {
        let r = t.get(&rt_id("rt")).await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.header("retry-after"), Some("7"));
        assert_eq!(r.code(), Some("TooManyRequests"));
    }
    assert_eq!(t.get(&rt_id("rt")).await.status, StatusCode::NOT_FOUND);

    t.sim.add_fault(Fault::new("routeTables/", FaultStatus::Drop)).unwrap();
    let e = t.http.get(t.url(&rt_id("rt"), NET)).bearer_auth(&t.token).send().await;
    assert!(e.is_err(), "dropped connection gives a transport error");
    assert_eq!(t.get(&rt_id("rt")).await.status, StatusCode::NOT_FOUND);

    // Faults also arrive over the admin HTTP endpoint.
    let admin = t
        .http
        .post(format!("{}/_armsim/faults", t.sim.base_url()))
        .json(&json!({"method": "PUT", "path_regex": "routes/", "count": 1, "status": 503, "code": "ServerBusy", "message": "try later"}))
        .send()
        .await
        .unwrap();
    assert_eq!(admin.status(), StatusCode::NO_CONTENT);
    t.put_rt("rt", json!([])).await;
    let r = t.put(&format!("{}/routes/r", rt_id("rt")), fw_route("r")).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.code(), Some("ServerBusy"));
}

#[tokio::test]
async fn commit_then_drop_applies_the_write_and_loses_the_answer() {
    let t = default_sim().await;
    t.sim.add_fault(Fault::new("routeTables/rt$", FaultStatus::CommitThenDrop).method("PUT")).unwrap();
    let body = json!({"location": "westeurope", "properties": {"routes": []}});
    let e = t.http.put(t.url(&rt_id("rt"), NET)).bearer_auth(&t.token).json(&body).send().await;
    assert!(e.is_err(), "the client never hears back");
    assert_eq!(t.get(&rt_id("rt")).await.status, StatusCode::OK, "but the table was created");
    let dropped = t.sim.requests().into_iter().filter(|r| r.method == "PUT" && r.status == 0).count();
    assert_eq!(dropped, 1, "logged as dropped");
}

#[tokio::test]
async fn latency_delays_matching_requests() {
    let t = default_sim().await;
    t.sim
        .add_latency(Latency {
            method: None,
            path_regex: "routeTables/slow".into(),
            delay_ms: 200,
            count: Some(1),
            after_commit: false,
        })
        .unwrap();
    let start = std::time::Instant::now();
    t.get(&rt_id("slow")).await;
    assert!(start.elapsed() >= Duration::from_millis(200));
}

#[tokio::test]
async fn request_log_records_and_clears() {
    let t = default_sim().await;
    t.get(&rt_id("a")).await;
    t.put(&rt_id("a"), json!({"location": "westeurope"})).await;
    let log = t.sim.requests();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].method, "GET");
    assert_eq!(log[0].status, 404);
    assert_eq!(log[0].api_version.as_deref(), Some(NET));
    assert_eq!(log[1].method, "PUT");
    assert_eq!(log[1].status, 201);
    assert!(log[0].seq < log[1].seq);
    let over_http: Value =
        t.http.get(format!("{}/_armsim/requests", t.sim.base_url())).send().await.unwrap().json().await.unwrap();
    assert_eq!(over_http.as_array().unwrap().len(), 2, "admin requests are not logged");
    t.sim.clear_requests();
    assert!(t.sim.requests().is_empty());
}

#[tokio::test]
async fn direct_edits_simulate_drift() {
    let t = default_sim().await;
    let rt = rt_id("rt");
    t.put_rt("rt", json!([fw_route("default")])).await;
    let before = t.get(&rt).await.body["etag"].clone();
    let mut drifted = t.sim.resource(&rt).unwrap();
    drifted["properties"]["routes"][0]["properties"]["nextHopIpAddress"] = json!("10.0.4.99");
    t.sim.put_resource(&rt, drifted).unwrap();
    let g = t.get(&rt).await;
    assert_eq!(g.body["properties"]["routes"][0]["properties"]["nextHopIpAddress"], "10.0.4.99");
    assert_ne!(g.body["etag"], before);

    // Over HTTP: delete a route out of band.
    let id = format!("{rt}/routes/default");
    let d = t
        .http
        .delete(format!("{}/_armsim/resources?id={}", t.sim.base_url(), id.replace('/', "%2F")))
        .send()
        .await
        .unwrap();
    assert_eq!(d.status(), StatusCode::NO_CONTENT);
    assert_eq!(t.get(&id).await.status, StatusCode::NOT_FOUND);
    assert!(!t.sim.delete_resource(&id));
    assert!(t.sim.delete_resource(&rt));
    assert_eq!(t.get(&rt).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn recordings_have_the_traffic_shape() {
    let dir = tempfile::tempdir().unwrap();
    let t = start(Config { record_dir: Some(dir.path().to_path_buf()), ..Config::default() }).await;
    let r = t.put_rt("rt", json!([fw_route("default")])).await;
    drop(r);
    t.get(&rt_id("rt")).await;
    let mut files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert_eq!(files.len(), 3, "PUT, operation poll, GET: {files:?}");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&files[0]).unwrap()).unwrap();
    let req = &doc["liveRequest"];
    assert_eq!(req["method"], "PUT");
    assert!(req["url"].as_str().unwrap().ends_with("/routeTables/rt?api-version=2024-07-01"));
    assert!(req["url"].as_str().unwrap().starts_with("https://127.0.0.1:"));
    assert!(req["headers"].get("authorization").is_none());
    assert_eq!(req["body"]["location"], "westeurope");
    assert_eq!(doc["liveResponse"]["statusCode"], "201");
    assert_eq!(doc["liveResponse"]["body"]["name"], "rt");
    assert!(doc["liveResponse"]["headers"]["Azure-AsyncOperation"].is_string());
    let text = std::fs::read_to_string(&files[2]).unwrap();
    assert!(!text.contains(&t.token), "tokens never reach recordings");
}

#[tokio::test]
async fn resource_groups() {
    let t = default_sim().await;
    let rg = format!("/subscriptions/{SUB}/resourceGroups/rg-new");
    let r = t.send(Method::PUT, &t.url(&rg, "2021-04-01"), Some(json!({"location": "northeurope"})), &[]).await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.body["properties"]["provisioningState"], "Succeeded");
    let g = t.send(Method::GET, &t.url(&rg, "2021-04-01"), None, &[]).await;
    assert_eq!(g.body["location"], "northeurope");
    let d = t.send(Method::DELETE, &t.url(&rg, "2021-04-01"), None, &[]).await;
    assert!(d.status.is_success());
    let g = t.send(Method::GET, &t.url(&rg, "2021-04-01"), None, &[]).await;
    assert_eq!(g.code(), Some("ResourceGroupNotFound"));
}

#[tokio::test]
async fn custom_seed() {
    let seed = Seed::from_json(
        r#"{"subscriptions":[{"id":"s1","resourceGroups":[{"name":"rg","location":"eastus",
            "routeTables":[{"name":"rt","routes":[{"name":"default","addressPrefix":"0.0.0.0/0","nextHopType":"VirtualAppliance","nextHopIpAddress":"10.1.1.4"}]}],
            "virtualNetworks":[{"name":"v","addressPrefixes":["10.1.0.0/16"],"subnets":[{"name":"s","addressPrefix":"10.1.0.0/24","routeTable":"rt"}]}]}]}]}"#,
    )
    .unwrap();
    let t = start(Config { seed, ..Config::default() }).await;
    let rt = t.get("/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Network/routeTables/rt").await;
    assert_eq!(rt.body["properties"]["routes"][0]["properties"]["nextHopIpAddress"], "10.1.1.4");
    assert_eq!(
        rt.body["properties"]["subnets"][0]["id"],
        "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/s"
    );
    assert_eq!(t.get(RG).await.code(), Some("ResourceGroupNotFound"), "the default seed is replaced");
}

#[test]
fn starts_in_background_without_a_runtime() {
    let sim = Sim::start_in_background(Config::default()).unwrap();
    let addr = sim.addr();
    assert!(std::net::TcpStream::connect(addr).is_ok());
    drop(sim);
}

// ---------------------------------------------------------------- managed clusters

const AKS: &str = "2026-07-01";

fn cluster_id(name: &str) -> String {
    format!("{RG}/providers/Microsoft.ContainerService/managedClusters/{name}")
}

const UAI: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-egress/providers/Microsoft.ManagedIdentity/userAssignedIdentities/aks";

fn cluster_body(outbound: &str, plugin: &str, identity: &str) -> Value {
    let identity = if identity == "UserAssigned" {
        json!({"type": "UserAssigned", "userAssignedIdentities": {UAI: {}}})
    } else {
        json!({"type": identity})
    };
    json!({
        "location": "westeurope",
        "identity": identity,
        "properties": {
            "dnsPrefix": "c1",
            "agentPoolProfiles": [{
                "name": "nodepool1", "count": 2, "vmSize": "Standard_D2s_v5", "mode": "System",
                "type": "VirtualMachineScaleSets", "osType": "Linux", "vnetSubnetID": subnet_id("aks")
            }],
            "networkProfile": {"networkPlugin": plugin, "outboundType": outbound, "loadBalancerSku": "standard"}
        }
    })
}

impl T {
    async fn aks(&self, method: Method, path: &str, body: Option<Value>) -> R {
        self.send(method, &self.url(path, AKS), body, &[]).await
    }

    /// Route table `rt-egress` with `default_route` (if any), associated with subnet `aks`.
    async fn egress_network(&self, default_route: Option<Value>) {
        let routes = default_route.map_or(json!([]), |r| json!([r]));
        self.put_rt("rt-egress", routes).await;
        let s = self
            .put(
                &subnet_id("aks"),
                json!({"properties": {"addressPrefix": "10.0.0.0/22", "routeTable": {"id": rt_id("rt-egress")}}}),
            )
            .await;
        assert_eq!(self.poll(&s).await["status"], "Succeeded");
    }
}

/// The code of an AKS error in the default (spec) envelope.
fn aks_code(r: &R) -> &str {
    r.body["error"]["code"].as_str().unwrap_or_else(|| panic!("not an ARM error envelope: {}", r.body))
}

#[tokio::test]
async fn aks_udr_cluster_lifecycle() {
    let t = default_sim().await;
    t.egress_network(Some(fw_route("default"))).await;
    let id = cluster_id("c1");
    let r = t.aks(Method::PUT, &id, Some(cluster_body("userDefinedRouting", "azure", "SystemAssigned"))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["properties"]["provisioningState"], "Creating");
    let aso = r.header("azure-asyncoperation").unwrap();
    assert!(aso.contains("/providers/Microsoft.ContainerService/locations/westeurope/operations/"));
    let st = t.poll(&r).await;
    assert_eq!(st["status"], "Succeeded");
    assert!(st["startTime"].is_string() && st["endTime"].is_string() && st["name"].is_string());

    let g = t.aks(Method::GET, &id, None).await;
    assert_eq!(g.body["properties"]["provisioningState"], "Succeeded");
    assert_eq!(g.body["properties"]["agentPoolProfiles"][0]["provisioningState"], "Succeeded");
    let net = &g.body["properties"]["networkProfile"];
    assert_eq!(net["outboundType"], "userDefinedRouting");
    assert!(net.get("loadBalancerProfile").is_none(), "UDR has no outbound IPs: {net}");
    assert_eq!(g.body["identity"]["type"], "SystemAssigned");
    assert!(g.body["eTag"].is_string());

    for (action, name) in [("listClusterUserCredential", "clusterUser"), ("listClusterAdminCredential", "clusterAdmin")]
    {
        let c = t.aks(Method::POST, &format!("{id}/{action}"), None).await;
        assert_eq!(c.status, StatusCode::OK);
        assert_eq!(c.body["kubeconfigs"][0]["name"], name);
        use base64::Engine;
        let kc = base64::engine::general_purpose::STANDARD
            .decode(c.body["kubeconfigs"][0]["value"].as_str().unwrap())
            .unwrap();
        let kc = String::from_utf8(kc).unwrap();
        assert!(kc.contains("kind: Config") && kc.contains(".azmk8s.io:443"), "{kc}");
    }

    let u = t.aks(Method::PUT, &id, Some(cluster_body("userDefinedRouting", "azure", "SystemAssigned"))).await;
    assert_eq!(u.status, StatusCode::OK);
    assert_eq!(u.body["properties"]["provisioningState"], "Updating");
    t.poll(&u).await;

    let sd = t.delete(&subnet_id("aks")).await;
    assert_eq!(sd.code(), Some("InUseSubnetCannotBeDeleted"));

    let d = t.aks(Method::DELETE, &id, None).await;
    assert_eq!(d.status, StatusCode::ACCEPTED);
    let loc = d.header("location").unwrap().to_string();
    assert!(loc.contains("/operationresults/"));
    t.poll(&d).await;
    assert_eq!(t.send(Method::GET, &loc, None, &[]).await.status, StatusCode::NO_CONTENT);
    let g = t.aks(Method::GET, &id, None).await;
    assert_eq!(g.status, StatusCode::NOT_FOUND);
    assert_eq!(g.code(), Some("ResourceNotFound"));
}

#[tokio::test]
async fn aks_load_balancer_outbound_gets_public_ips() {
    let t = default_sim().await;
    let r = t.aks(Method::PUT, &cluster_id("lb"), Some(cluster_body("loadBalancer", "azure", "SystemAssigned"))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let lb = &r.body["properties"]["networkProfile"]["loadBalancerProfile"];
    assert_eq!(lb["effectiveOutboundIPs"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn aks_egress_validation() {
    let t = default_sim().await;
    let id = cluster_id("bad");
    let put = |body: Value| t.aks(Method::PUT, &id, Some(body));

    let r = put(cluster_body("userDefinedRouting", "azure", "SystemAssigned")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(aks_code(&r), "ExistingRouteTableNotAssociatedWithSubnet");

    t.egress_network(None).await;
    let r = put(cluster_body("userDefinedRouting", "azure", "SystemAssigned")).await;
    assert_eq!(aks_code(&r), "RouteTableMissingDefaultRouteError");

    let internet = json!({"properties": {"addressPrefix": "0.0.0.0/0", "nextHopType": "Internet"}});
    let rr = t.put(&format!("{}/routes/default", rt_id("rt-egress")), internet).await;
    t.poll(&rr).await;
    let r = put(cluster_body("userDefinedRouting", "azure", "SystemAssigned")).await;
    assert_eq!(aks_code(&r), "RouteTableInvalidNextHop");

    let rr = t
        .put(
            &format!("{}/routes/default", rt_id("rt-egress")),
            json!({"properties": fw_route("default")["properties"]}),
        )
        .await;
    t.poll(&rr).await;

    let mut b = cluster_body("userDefinedRouting", "azure", "SystemAssigned");
    b["properties"]["networkProfile"]["loadBalancerProfile"] = json!({"managedOutboundIPs": {"count": 2}});
    assert_eq!(aks_code(&put(b).await), "InvalidUserDefinedRoutingWithLoadBalancerProfile");

    let mut b = cluster_body("userDefinedRouting", "azure", "SystemAssigned");
    b["properties"]["networkProfile"]["loadBalancerSku"] = json!("basic");
    assert_eq!(aks_code(&put(b).await), "UnexpectedLoadBalancerSkuForCurrentOutboundConfiguration");

    let mut b = cluster_body("userDefinedRouting", "azure", "SystemAssigned");
    b["properties"]["agentPoolProfiles"][0]["type"] = json!("AvailabilitySet");
    assert_eq!(aks_code(&put(b).await), "InvalidParameter");

    let r = put(cluster_body("userDefinedRouting", "kubenet", "SystemAssigned")).await;
    assert_eq!(aks_code(&r), "CustomRouteTableWithUnsupportedMSIType");

    // Nothing was created by the refused requests; a valid one now passes.
    assert_eq!(t.aks(Method::GET, &id, None).await.status, StatusCode::NOT_FOUND);
    let ok = put(cluster_body("userDefinedRouting", "azure", "SystemAssigned")).await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.body);
}

#[tokio::test]
async fn aks_kubenet_writes_pod_routes() {
    let t = default_sim().await;
    t.egress_network(Some(fw_route("default"))).await;
    let id = cluster_id("kn");
    let r = t.aks(Method::PUT, &id, Some(cluster_body("userDefinedRouting", "kubenet", "UserAssigned"))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert!(r.body["identity"]["userAssignedIdentities"][UAI]["clientId"].is_string());
    t.poll(&r).await;
    let rt = t.get(&rt_id("rt-egress")).await;
    let routes = rt.body["properties"]["routes"].as_array().unwrap();
    assert_eq!(routes.len(), 3, "{routes:?}");
    let pods: Vec<(&str, &str, &str)> = routes[1..]
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap(),
                r["properties"]["addressPrefix"].as_str().unwrap(),
                r["properties"]["nextHopIpAddress"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(pods[0].0.starts_with("aks-nodepool1-") && pods[0].0.ends_with("-vmss000000____102440024"), "{pods:?}");
    assert_eq!((pods[0].1, pods[0].2), ("10.244.0.0/24", "10.0.0.4"));
    assert_eq!((pods[1].1, pods[1].2), ("10.244.1.0/24", "10.0.0.5"));
    assert_eq!(routes[1]["properties"]["nextHopType"], "VirtualAppliance");

    let d = t.aks(Method::DELETE, &id, None).await;
    t.poll(&d).await;
    let rt = t.get(&rt_id("rt-egress")).await;
    let names: Vec<&str> =
        rt.body["properties"]["routes"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["default"]);
}

#[tokio::test]
async fn aks_refuses_concurrent_operations() {
    let t = default_sim().await;
    t.egress_network(Some(fw_route("default"))).await;
    t.sim.set_lro_delay(Duration::from_secs(60));
    let id = cluster_id("busy");
    let body = cluster_body("userDefinedRouting", "azure", "SystemAssigned");
    let r = t.aks(Method::PUT, &id, Some(body.clone())).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let again = t.aks(Method::PUT, &id, Some(body)).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(aks_code(&again), "OperationNotAllowed");
    let del = t.aks(Method::DELETE, &id, None).await;
    assert_eq!(aks_code(&del), "OperationNotAllowed");
    assert_eq!(t.aks(Method::GET, &id, None).await.body["properties"]["provisioningState"], "Creating");
    t.sim.settle_operations();
    assert_eq!(t.aks(Method::GET, &id, None).await.body["properties"]["provisioningState"], "Succeeded");
}

/// Runs a whole provider-like scenario with recording on. The traffic lands in
/// `$ARMSIM_RECORD_DIR` when set (to feed `oav validate-traffic`), else in a temp dir.
#[tokio::test]
async fn recorded_scenario() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = std::env::var_os("ARMSIM_RECORD_DIR").map_or_else(|| tmp.path().to_path_buf(), std::path::PathBuf::from);
    let t = start(Config { record_dir: Some(dir.clone()), ..Config::default() }).await;
    t.get(&rt_id("rt-egress")).await;
    t.egress_network(Some(fw_route("default"))).await;
    let r = t
        .put(
            &format!("{}/routes/onprem", rt_id("rt-egress")),
            json!({"properties": {"addressPrefix": "192.168.0.0/16", "nextHopType": "VirtualNetworkGateway"}}),
        )
        .await;
    t.poll(&r).await;
    t.get(&format!("{}/routes", rt_id("rt-egress"))).await;
    t.get(&format!("{}/routes/onprem", rt_id("rt-egress"))).await;
    t.get(&format!("{RG}/providers/Microsoft.Network/routeTables")).await;
    t.get(&subnet_id("aks")).await;
    t.get(&format!("{RG}/providers/Microsoft.Network/virtualNetworks/vnet")).await;
    t.send(Method::PATCH, &t.url(&rt_id("rt-egress"), NET), Some(json!({"tags": {"env": "test"}})), &[]).await;
    let d = t.delete(&format!("{}/routes/onprem", rt_id("rt-egress"))).await;
    t.poll(&d).await;

    // Error answers are recorded too and must match the specs' error schemas.
    let bad = t
        .put(
            &format!("{}/routes/x", rt_id("rt-egress")),
            json!({"properties": {"addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualAppliance"}}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let stale = t
        .send(
            Method::PUT,
            &t.url(&rt_id("rt-egress"), NET),
            Some(json!({"location": "westeurope"})),
            &[("If-Match", "W/\"stale\"")],
        )
        .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    t.sim.add_fault(Fault::new("/routes$", FaultStatus::Status(429)).retry_after(1)).unwrap();
    assert_eq!(t.get(&format!("{}/routes", rt_id("rt-egress"))).await.status, StatusCode::TOO_MANY_REQUESTS);
    t.sim.set_lro_delay(Duration::from_secs(60));
    let slow = t.put(&format!("{}/routes/slow", rt_id("rt-egress")), fw_route("slow")).await;
    let busy = t.put(&format!("{}/routes/busy", rt_id("rt-egress")), fw_route("busy")).await;
    assert_eq!(busy.status, StatusCode::CONFLICT);
    t.sim.settle_operations();
    t.sim.set_lro_delay(Duration::ZERO);
    drop(slow);

    let id = cluster_id("c1");
    t.aks(Method::GET, &id, None).await;
    let bad = t
        .aks(Method::PUT, &cluster_id("bad"), Some(cluster_body("userDefinedRouting", "kubenet", "SystemAssigned")))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let c = t.aks(Method::PUT, &id, Some(cluster_body("userDefinedRouting", "kubenet", "UserAssigned"))).await;
    t.poll(&c).await;
    t.aks(Method::GET, &id, None).await;
    t.aks(Method::POST, &format!("{id}/listClusterUserCredential"), None).await;
    t.aks(Method::POST, &format!("{id}/listClusterAdminCredential"), None).await;
    let lb = t.aks(Method::PUT, &cluster_id("lb"), Some(cluster_body("loadBalancer", "azure", "SystemAssigned"))).await;
    t.poll(&lb).await;
    // Agent pools: create, read, list, update, refused change, missing pool, delete.
    let pool = format!("{id}/agentPools/users1");
    let body = json!({"properties": {"vmSize": "Standard_D4s_v5", "count": 1, "vnetSubnetID": subnet_id("aks"),
        "nodeLabels": {"workload": "batch"}, "nodeTaints": ["dedicated=batch:NoSchedule"], "availabilityZones": ["1", "2"]}});
    let p = t.aks(Method::PUT, &pool, Some(body.clone())).await;
    assert_eq!(p.status, StatusCode::CREATED, "{}", p.body);
    t.poll(&p).await;
    t.aks(Method::GET, &pool, None).await;
    t.aks(Method::GET, &format!("{id}/agentPools"), None).await;
    let mut update = body.clone();
    update["properties"]["count"] = json!(2);
    update["properties"]["enableAutoScaling"] = json!(true);
    update["properties"]["minCount"] = json!(1);
    update["properties"]["maxCount"] = json!(3);
    let u = t.aks(Method::PUT, &pool, Some(update)).await;
    assert_eq!(u.status, StatusCode::OK, "{}", u.body);
    t.poll(&u).await;
    let mut resize = body.clone();
    resize["properties"]["vmSize"] = json!("Standard_D8s_v5");
    assert_eq!(t.aks(Method::PUT, &pool, Some(resize)).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(t.aks(Method::GET, &format!("{id}/agentPools/nope"), None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        t.aks(Method::DELETE, &format!("{id}/agentPools/nodepool1"), None).await.status,
        StatusCode::BAD_REQUEST
    );
    let d = t.aks(Method::DELETE, &pool, None).await;
    assert_eq!(d.status, StatusCode::ACCEPTED);
    t.poll(&d).await;
    let d = t.aks(Method::DELETE, &id, None).await;
    t.poll(&d).await;
    let s = t.put(&subnet_id("aks"), json!({"properties": {"addressPrefix": "10.0.0.0/22"}})).await;
    t.poll(&s).await;
    let d = t.delete(&rt_id("rt-egress")).await;
    t.poll(&d).await;
    let n = std::fs::read_dir(&dir).unwrap().count();
    assert!(n >= 30, "{n} recordings");
}

#[tokio::test]
async fn aks_errors_can_be_flat() {
    let t = start(Config { aks_error_shape: AksErrorShape::Flat, ..Config::default() }).await;
    let r =
        t.aks(Method::PUT, &cluster_id("c"), Some(cluster_body("userDefinedRouting", "azure", "SystemAssigned"))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.get("error").is_none(), "{}", r.body);
    assert_eq!(r.body["code"], "ExistingRouteTableNotAssociatedWithSubnet");
    // ARM's own errors keep the envelope.
    let g = t.aks(Method::GET, &cluster_id("c"), None).await;
    assert_eq!(g.body["error"]["code"], "ResourceNotFound");
}

// ---------------------------------------------------------------- agent pools

/// The default seed plus: route tables `rt-egress` (default route to the firewall),
/// `rt-other` (the same) and `rt-nodefault` (no default route); subnets `aks` (rt-egress),
/// `users1` (rt-egress), `users2` (rt-nodefault), `users3` (rt-other) and `bare` (none) in
/// `vnet`; and a second VNet `vnet-other` with subnet `users` (rt-egress).
fn pool_seed() -> Seed {
    use armsim::{SeedRoute, SeedRouteTable, SeedSubnet, SeedVirtualNetwork};
    let table = |name: &str, default: bool| SeedRouteTable {
        name: name.into(),
        location: None,
        disable_bgp_route_propagation: false,
        routes: if default {
            vec![SeedRoute {
                name: "default".into(),
                address_prefix: "0.0.0.0/0".into(),
                next_hop_type: "VirtualAppliance".into(),
                next_hop_ip_address: Some("10.0.4.4".into()),
            }]
        } else {
            Vec::new()
        },
    };
    let subnet = |name: &str, prefix: &str, rt: Option<&str>| SeedSubnet {
        route_table: rt.map(str::to_string),
        ..SeedSubnet::new(name, prefix)
    };
    let mut seed = Seed::default();
    let rg = &mut seed.subscriptions[0].resource_groups[0];
    rg.route_tables = vec![table("rt-egress", true), table("rt-other", true), table("rt-nodefault", false)];
    let vnet = &mut rg.virtual_networks[0];
    vnet.subnets[0].route_table = Some("rt-egress".into());
    vnet.subnets.push(subnet("users1", "10.0.8.0/24", Some("rt-egress")));
    vnet.subnets.push(subnet("users2", "10.0.9.0/24", Some("rt-nodefault")));
    vnet.subnets.push(subnet("users3", "10.0.10.0/24", Some("rt-other")));
    vnet.subnets.push(subnet("bare", "10.0.11.0/24", None));
    rg.virtual_networks.push(SeedVirtualNetwork {
        name: "vnet-other".into(),
        location: None,
        address_prefixes: vec!["10.1.0.0/16".into()],
        subnets: vec![subnet("users", "10.1.0.0/24", Some("rt-egress"))],
    });
    seed
}

fn pool_id(cluster: &str, name: &str) -> String {
    format!("{}/agentPools/{name}", cluster_id(cluster))
}

/// An agent pool body in `subnet` (of `vnet`) with `extra` properties laid over it.
fn pool_body(subnet: &str, extra: Value) -> Value {
    let mut props = json!({"vmSize": "Standard_D4s_v5", "count": 2, "vnetSubnetID": subnet_id(subnet)});
    if let (Some(p), Value::Object(e)) = (props.as_object_mut(), extra) {
        p.extend(e);
    }
    json!({"properties": props})
}

impl T {
    async fn pools_sim() -> T {
        start(Config { seed: pool_seed(), ..Config::default() }).await
    }

    /// Creates cluster `name` (its system pool `nodepool1` in subnet `aks`) and waits for it.
    async fn cluster(&self, name: &str, plugin: &str, identity: &str) -> Value {
        let r =
            self.aks(Method::PUT, &cluster_id(name), Some(cluster_body("userDefinedRouting", plugin, identity))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(self.poll(&r).await["status"], "Succeeded");
        self.aks(Method::GET, &cluster_id(name), None).await.body
    }

    async fn put_pool(&self, cluster: &str, name: &str, body: Value) -> R {
        self.aks(Method::PUT, &pool_id(cluster, name), Some(body)).await
    }

    fn pool_names(cluster: &Value) -> Vec<String> {
        cluster["properties"]["agentPoolProfiles"]
            .as_array()
            .map(|a| a.iter().filter_map(|p| p["name"].as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    }
}

#[tokio::test]
async fn agent_pool_lifecycle_shares_the_cluster_profiles() {
    let t = T::pools_sim().await;
    let cluster = t.cluster("c1", "azure", "SystemAssigned").await;
    let version = cluster["properties"]["kubernetesVersion"].clone();

    // The pool the cluster PUT declared is an agent pool resource too.
    let sys = t.aks(Method::GET, &pool_id("c1", "nodepool1"), None).await;
    assert_eq!(sys.status, StatusCode::OK, "{}", sys.body);
    assert_eq!(sys.body["id"], pool_id("c1", "nodepool1"));
    assert_eq!(sys.body["type"], "Microsoft.ContainerService/managedClusters/agentPools");
    assert_eq!(sys.body["properties"]["mode"], "System");
    assert!(sys.body["properties"].get("name").is_none());
    assert!(sys.body["properties"]["eTag"].is_string());

    let r = t.put_pool("c1", "users1", pool_body("users1", json!({"nodeLabels": {"workload": "batch"}}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let p = &r.body["properties"];
    assert_eq!(r.body["name"], "users1");
    assert_eq!(r.body["id"], pool_id("c1", "users1"));
    assert_eq!(p["provisioningState"], "Creating");
    assert_eq!(p["mode"], "User");
    assert_eq!(p["count"], 2);
    assert_eq!(p["osDiskSizeGB"], 128);
    assert_eq!(p["maxPods"], 250);
    assert_eq!(p["osType"], "Linux");
    assert_eq!(p["type"], "VirtualMachineScaleSets");
    assert_eq!(p["orchestratorVersion"], version);
    assert_eq!(p["currentOrchestratorVersion"], version);
    assert_eq!(p["powerState"]["code"], "Running");
    let etag = p["eTag"].as_str().unwrap().to_string();
    let aso = r.header("azure-asyncoperation").unwrap();
    assert!(aso.contains("/providers/Microsoft.ContainerService/locations/westeurope/operations/"), "{aso}");
    assert_eq!(r.header("retry-after"), Some("0"));
    assert_eq!(t.poll(&r).await["status"], "Succeeded");

    let g = t.aks(Method::GET, &pool_id("c1", "users1"), None).await;
    assert_eq!(g.body["properties"]["provisioningState"], "Succeeded");
    assert_eq!(g.body["properties"]["nodeLabels"], json!({"workload": "batch"}));
    assert_eq!(g.body["properties"]["eTag"], etag.as_str(), "finishing is not an update");
    let c = t.aks(Method::GET, &cluster_id("c1"), None).await.body;
    assert_eq!(T::pool_names(&c), ["nodepool1", "users1"]);
    assert_eq!(c["properties"]["agentPoolProfiles"][1]["vnetSubnetID"], subnet_id("users1"));
    let list = t.aks(Method::GET, &format!("{}/agentPools", cluster_id("c1")), None).await;
    let names: Vec<&str> = list.body["value"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["nodepool1", "users1"]);

    // An update replaces the pool: labels it leaves out are gone; count and mode change in place.
    let stale = t
        .send(
            Method::PUT,
            &t.url(&pool_id("c1", "users1"), AKS),
            Some(pool_body("users1", json!({"count": 3}))),
            &[("If-Match", "\"00000000-0000-0000-0000-000000000000\"")],
        )
        .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    let exists = t
        .send(
            Method::PUT,
            &t.url(&pool_id("c1", "users1"), AKS),
            Some(pool_body("users1", json!({}))),
            &[("If-None-Match", "*")],
        )
        .await;
    assert_eq!(exists.status, StatusCode::PRECONDITION_FAILED);
    let u = t
        .send(
            Method::PUT,
            &t.url(&pool_id("c1", "users1"), AKS),
            Some(pool_body("users1", json!({"count": 3, "nodeTaints": ["a=b:NoSchedule"], "provisioningState": "x"}))),
            &[("If-Match", &etag)],
        )
        .await;
    assert_eq!(u.status, StatusCode::OK, "{}", u.body);
    assert_eq!(u.body["properties"]["provisioningState"], "Updating");
    assert_ne!(u.body["properties"]["eTag"], etag.as_str());
    t.poll(&u).await;
    let g = t.aks(Method::GET, &pool_id("c1", "users1"), None).await.body;
    assert_eq!(g["properties"]["count"], 3);
    assert!(g["properties"].get("nodeLabels").is_none(), "{g}");
    assert_eq!(g["properties"]["nodeTaints"], json!(["a=b:NoSchedule"]));
    // Immutable settings: left out keeps them, a new value is refused.
    let r = t.put_pool("c1", "users1", json!({"properties": {"count": 3}})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["properties"]["vmSize"], "Standard_D4s_v5");
    assert_eq!(r.body["properties"]["vnetSubnetID"], subnet_id("users1"));
    t.poll(&r).await;
    for (k, v) in [
        ("vmSize", json!("Standard_D8s_v5")),
        ("maxPods", json!(30)),
        ("osDiskSizeGB", json!(256)),
        ("availabilityZones", json!(["1"])),
    ] {
        let r = t.put_pool("c1", "users1", pool_body("users1", json!({ k: v }))).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{k}: {}", r.body);
        assert_eq!(aks_code(&r), "PropertyChangeNotAllowed", "{k}");
    }
    let r = t.put_pool("c1", "users1", pool_body("aks", json!({}))).await;
    assert_eq!(aks_code(&r), "PropertyChangeNotAllowed");

    // The last System pool stays.
    let d = t.aks(Method::DELETE, &pool_id("c1", "nodepool1"), None).await;
    assert_eq!(d.status, StatusCode::BAD_REQUEST);
    assert_eq!(aks_code(&d), "OperationNotAllowed");
    let r = t.put_pool("c1", "nodepool1", pool_body("aks", json!({"vmSize": "Standard_D2s_v5", "mode": "User"}))).await;
    assert_eq!(aks_code(&r), "InvalidParameter", "{}", r.body);

    let d = t.aks(Method::DELETE, &pool_id("c1", "users1"), None).await;
    assert_eq!(d.status, StatusCode::ACCEPTED);
    let loc = d.header("location").unwrap().to_string();
    assert!(loc.contains("/operationresults/"));
    assert!(d.header("azure-asyncoperation").is_some());
    t.poll(&d).await;
    assert_eq!(t.send(Method::GET, &loc, None, &[]).await.status, StatusCode::NO_CONTENT);
    let g = t.aks(Method::GET, &pool_id("c1", "users1"), None).await;
    assert_eq!(g.status, StatusCode::NOT_FOUND);
    assert_eq!(aks_code(&g), "NotFound");
    assert_eq!(T::pool_names(&t.aks(Method::GET, &cluster_id("c1"), None).await.body), ["nodepool1"]);
    assert_eq!(t.aks(Method::DELETE, &pool_id("c1", "users1"), None).await.status, StatusCode::NO_CONTENT);

    // Requests about a cluster that does not exist, and a bad pool name.
    let g = t.aks(Method::GET, &pool_id("nope", "users1"), None).await;
    assert_eq!(g.status, StatusCode::NOT_FOUND);
    assert_eq!(aks_code(&g), "ResourceNotFound");
    let l = t.aks(Method::GET, &format!("{}/agentPools", cluster_id("nope")), None).await;
    assert_eq!(aks_code(&l), "ResourceNotFound");
    let r = t.put_pool("c1", "Users_1", pool_body("users1", json!({}))).await;
    assert_eq!(aks_code(&r), "InvalidParameter");

    // A cluster delete takes its pools with it.
    let d = t.aks(Method::DELETE, &cluster_id("c1"), None).await;
    t.poll(&d).await;
    assert_eq!(aks_code(&t.aks(Method::GET, &pool_id("c1", "nodepool1"), None).await), "ResourceNotFound");
}

#[tokio::test]
async fn agent_pool_validation_matches_the_cluster_checks() {
    let t = T::pools_sim().await;
    t.cluster("c1", "azure", "SystemAssigned").await;
    let refused = |r: &R, code: &str| {
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{code}: {}", r.body);
        assert_eq!(aks_code(r), code, "{}", r.body);
    };
    refused(&t.put_pool("c1", "users2", pool_body("users2", json!({}))).await, "RouteTableMissingDefaultRouteError");
    refused(
        &t.put_pool("c1", "users2", pool_body("bare", json!({}))).await,
        "ExistingRouteTableNotAssociatedWithSubnet",
    );
    refused(&t.put_pool("c1", "users2", pool_body("ghost", json!({}))).await, "SubnetNotFound");
    refused(&t.put_pool("c1", "users2", json!({"properties": {"count": 1}})).await, "InvalidParameter");
    refused(
        &t.put_pool("c1", "users2", pool_body("users1", json!({"type": "AvailabilitySet"}))).await,
        "InvalidParameter",
    );
    refused(
        &t.put_pool("c1", "users2", pool_body("users1", json!({"enableNodePublicIP": true}))).await,
        "UDRWithNodePublicIPNotAllowed",
    );
    // A subnet of another virtual network than the cluster's other pools.
    let other = format!("{RG}/providers/Microsoft.Network/virtualNetworks/vnet-other/subnets/users");
    let r = t.put_pool("c1", "users2", json!({"properties": {"vnetSubnetID": other}})).await;
    refused(&r, "InvalidParameter");
    assert!(r.body["error"]["message"].as_str().unwrap().contains("same virtual network"), "{}", r.body);
    // Autoscaler bounds.
    refused(
        &t.put_pool("c1", "users2", pool_body("users1", json!({"enableAutoScaling": true}))).await,
        "InvalidParameter",
    );
    refused(
        &t.put_pool(
            "c1",
            "users2",
            pool_body("users1", json!({"enableAutoScaling": true, "minCount": 3, "maxCount": 5})),
        )
        .await,
        "InvalidParameter",
    );
    let mut no_count = pool_body("users1", json!({"enableAutoScaling": true, "minCount": 1, "maxCount": 5}));
    no_count["properties"].as_object_mut().unwrap().remove("count");
    let r = t.put_pool("c1", "users2", no_count).await;
    refused(&r, "InvalidParameter");
    assert!(r.body["error"]["message"].as_str().unwrap().contains("properties.count"));
    refused(
        &t.put_pool("c1", "users2", pool_body("users1", json!({"minCount": 1, "maxCount": 3}))).await,
        "InvalidParameter",
    );
    refused(&t.put_pool("c1", "users2", pool_body("users1", json!({"count": 1001}))).await, "InvalidParameter");

    // Nothing was stored by the refused requests.
    assert_eq!(t.aks(Method::GET, &pool_id("c1", "users2"), None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(T::pool_names(&t.aks(Method::GET, &cluster_id("c1"), None).await.body), ["nodepool1"]);

    // Null bounds with the autoscaler off are fine; so are bounds with it on. With Azure
    // CNI a pool may use another route table than the other pools.
    let ok = t
        .put_pool(
            "c1",
            "users2",
            pool_body("users3", json!({"enableAutoScaling": false, "minCount": null, "maxCount": null})),
        )
        .await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.body);
    assert!(ok.body["properties"].get("minCount").is_none(), "nulls are not stored: {}", ok.body);
    t.poll(&ok).await;
    let ok = t
        .put_pool("c1", "users2", pool_body("users3", json!({"enableAutoScaling": true, "minCount": 1, "maxCount": 5})))
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    t.poll(&ok).await;

    // The cluster PUT applies the same checks to the pools added through this API: without
    // rt-other's default route the next cluster update fails on users2.
    let d = t.delete(&format!("{}/routes/default", rt_id("rt-other"))).await;
    t.poll(&d).await;
    let r = t
        .aks(Method::PUT, &cluster_id("c1"), Some(cluster_body("userDefinedRouting", "azure", "SystemAssigned")))
        .await;
    refused(&r, "RouteTableMissingDefaultRouteError");
    assert!(r.body["error"]["message"].as_str().unwrap().contains("users3"), "{}", r.body);
}

#[tokio::test]
async fn kubenet_pools_share_the_cluster_route_table() {
    let t = T::pools_sim().await;
    t.cluster("kn", "kubenet", "UserAssigned").await;
    let r = t.put_pool("kn", "users3", pool_body("users3", json!({}))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(aks_code(&r), "InvalidParameter");
    assert!(r.body["error"]["message"].as_str().unwrap().contains("same route table"), "{}", r.body);

    // In the cluster's route table the pool is accepted and its nodes get pod routes.
    let r = t.put_pool("kn", "users1", pool_body("users1", json!({"count": 2}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["properties"]["maxPods"], 110);
    t.poll(&r).await;
    let routes = |b: &Value| -> Vec<String> {
        b["properties"]["routes"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap().to_string()).collect()
    };
    let names = routes(&t.get(&rt_id("rt-egress")).await.body);
    assert_eq!(names.iter().filter(|n| n.starts_with("aks-users1-")).count(), 2, "{names:?}");
    assert_eq!(names.iter().filter(|n| n.starts_with("aks-nodepool1-")).count(), 2, "{names:?}");

    let d = t.aks(Method::DELETE, &pool_id("kn", "users1"), None).await;
    t.poll(&d).await;
    let names = routes(&t.get(&rt_id("rt-egress")).await.body);
    assert!(!names.iter().any(|n| n.starts_with("aks-users1-")), "{names:?}");
}

#[tokio::test]
async fn agent_pool_and_cluster_operations_exclude_each_other() {
    let t = T::pools_sim().await;
    t.cluster("c1", "azure", "SystemAssigned").await;
    t.sim.set_lro_delay(Duration::from_secs(60));
    let u = t
        .aks(Method::PUT, &cluster_id("c1"), Some(cluster_body("userDefinedRouting", "azure", "SystemAssigned")))
        .await;
    assert_eq!(u.status, StatusCode::OK);
    let r = t.put_pool("c1", "users1", pool_body("users1", json!({}))).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(aks_code(&r), "OperationNotAllowed");
    t.sim.settle_operations();

    let p = t.put_pool("c1", "users1", pool_body("users1", json!({}))).await;
    assert_eq!(p.status, StatusCode::CREATED);
    let c = t
        .aks(Method::PUT, &cluster_id("c1"), Some(cluster_body("userDefinedRouting", "azure", "SystemAssigned")))
        .await;
    assert_eq!(c.status, StatusCode::CONFLICT);
    assert_eq!(aks_code(&c), "OperationNotAllowed");
    assert!(c.body["error"]["message"].as_str().unwrap().contains("CreateAgentPool"), "{}", c.body);
    let other = t.put_pool("c1", "users2", pool_body("users1", json!({}))).await;
    assert_eq!(other.status, StatusCode::CONFLICT);
    let del = t.aks(Method::DELETE, &pool_id("c1", "users1"), None).await;
    assert_eq!(del.status, StatusCode::CONFLICT);
    assert_eq!(t.aks(Method::DELETE, &cluster_id("c1"), None).await.status, StatusCode::CONFLICT);
    assert_eq!(
        t.aks(Method::GET, &pool_id("c1", "users1"), None).await.body["properties"]["provisioningState"],
        "Creating"
    );
    t.sim.settle_operations();
    assert_eq!(
        t.aks(Method::GET, &pool_id("c1", "users1"), None).await.body["properties"]["provisioningState"],
        "Succeeded"
    );

    // A failed pool operation leaves the pool Failed.
    t.sim.set_lro_delay(Duration::ZERO);
    t.sim
        .fail_next_lro(LroFailure {
            method: Some("PUT".into()),
            path_regex: "agentPools/users1$".into(),
            code: "ReconcileVMSSAgentPoolFailed".into(),
            message: "boom".into(),
            count: 1,
        })
        .unwrap();
    let f = t.put_pool("c1", "users1", pool_body("users1", json!({"count": 4}))).await;
    assert_eq!(t.poll(&f).await["status"], "Failed");
    assert_eq!(
        t.aks(Method::GET, &pool_id("c1", "users1"), None).await.body["properties"]["provisioningState"],
        "Failed"
    );
}

#[tokio::test]
async fn agent_pools_through_the_admin_endpoint() {
    let t = T::pools_sim().await;
    t.cluster("c1", "azure", "SystemAssigned").await;
    let p = t
        .put_pool("c1", "users1", pool_body("users1", json!({"enableAutoScaling": true, "minCount": 1, "maxCount": 5})))
        .await;
    t.poll(&p).await;
    let etag = t.aks(Method::GET, &pool_id("c1", "users1"), None).await.body["properties"]["eTag"].clone();
    let sys_etag = t.aks(Method::GET, &pool_id("c1", "nodepool1"), None).await.body["properties"]["eTag"].clone();
    assert_eq!(t.sim.resource(&pool_id("c1", "users1")).unwrap()["properties"]["count"], 2);
    assert!(t.sim.resource(&pool_id("c1", "nope")).is_none());

    // The autoscaler's count, set out of band on the cluster body.
    let mut c = t.sim.resource(&cluster_id("c1")).unwrap();
    c["properties"]["agentPoolProfiles"][1]["count"] = json!(4);
    t.sim.put_resource(&cluster_id("c1"), c).unwrap();
    let g = t.aks(Method::GET, &pool_id("c1", "users1"), None).await.body;
    assert_eq!(g["properties"]["count"], 4);
    assert_ne!(g["properties"]["eTag"], etag, "the changed pool gets a new eTag");
    let sys = t.aks(Method::GET, &pool_id("c1", "nodepool1"), None).await.body;
    assert_eq!(sys["properties"]["eTag"], sys_etag, "an unchanged pool keeps its eTag");
    // So does a cluster update that leaves it as it is.
    let u = t
        .aks(Method::PUT, &cluster_id("c1"), Some(cluster_body("userDefinedRouting", "azure", "SystemAssigned")))
        .await;
    assert_eq!(u.body["properties"]["agentPoolProfiles"][0]["eTag"], sys_etag, "{}", u.body);
    assert_eq!(
        u.body["properties"]["agentPoolProfiles"][1]["count"], 4,
        "the cluster PUT keeps the autoscaler's count"
    );
    t.poll(&u).await;

    // Or on the pool itself.
    let mut pool = t.sim.resource(&pool_id("c1", "users1")).unwrap();
    pool["properties"]["count"] = json!(5);
    t.sim.put_resource(&pool_id("c1", "users1"), pool).unwrap();
    assert_eq!(t.aks(Method::GET, &pool_id("c1", "users1"), None).await.body["properties"]["count"], 5);
    assert!(t.sim.delete_resource(&pool_id("c1", "users1")));
    assert!(!t.sim.delete_resource(&pool_id("c1", "users1")));
    assert_eq!(T::pool_names(&t.aks(Method::GET, &cluster_id("c1"), None).await.body), ["nodepool1"]);
}
