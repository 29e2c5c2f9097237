//! The `armsim` binary: starts, announces its address, writes the CA, serves HTTPS.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

struct Kill(std::process::Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn binary_announces_and_serves() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    let mut child = Command::new(env!("CARGO_BIN_EXE_armsim"))
        .args(["--listen", "127.0.0.1:0", "--ca-out"])
        .arg(&ca)
        .args(["--lro-delay-ms", "0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let child = Kill(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let base = line.trim().strip_prefix("armsim listening on ").expect(&line).to_string();
    assert!(base.starts_with("https://127.0.0.1:"), "{base}");

    let pem = std::fs::read(&ca).unwrap();
    let http =
        reqwest::Client::builder().add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap()).build().unwrap();
    let token: serde_json::Value =
        http.post(format!("{base}/_armsim/token")).send().await.unwrap().json().await.unwrap();
    let r = http
        .get(format!(
            "{base}/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-egress/providers/Microsoft.Network/virtualNetworks/vnet?api-version=2024-07-01"
        ))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    drop(child);
}

#[test]
fn binary_rejects_bad_arguments() {
    let out = Command::new(env!("CARGO_BIN_EXE_armsim")).arg("--bogus").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(env!("CARGO_BIN_EXE_armsim")).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "--listen is required");
}
