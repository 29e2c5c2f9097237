//! The PUT of an AKS object (a managed cluster or one of its agent pools)
//! and the wait for its operation, with what a failure means for the
//! object's tracking in state.

use crate::arm::client::Response;
use crate::arm::{ArmError, AKS_API_VERSION as AKS_API};
use crate::context::ProviderData;
use crate::log;
use crate::tf::diag::Diagnostics;

use super::arm_error;

/// Why an AKS PUT failed.
pub(crate) struct WriteError {
    /// AKS had accepted the PUT: the object exists and stays tracked.
    pub accepted: bool,
    /// 412: the object changed since it was read.
    pub stale: bool,
    pub diags: Diagnostics,
}

/// Which write an AKS PUT is.
#[derive(Clone, Copy)]
pub(crate) enum Write<'a> {
    /// With `If-None-Match: *`.
    Create,
    /// With the `If-Match` of the object the body was built from.
    Update { etag: Option<&'a str> },
}

/// PUTs `body` to `path` (an AKS object of type `type_name`), then waits
/// for the operation. The error says whether AKS had accepted the PUT.
pub(crate) async fn put_and_wait(
    data: &ProviderData,
    type_name: &str,
    path: &str,
    body: &serde_json::Value,
    write: Write<'_>,
    action: &str,
    until: tokio::time::Instant,
) -> Result<(), WriteError> {
    let accepted = match write {
        Write::Create => data.arm.put_create(path, AKS_API, body, until).await,
        Write::Update { etag } => match data.arm.put_accepted(path, AKS_API, body, etag, until).await {
            // The update may be under way with its answer lost: follow the
            // object's own provisioningState rather than PUT again (AKS
            // refuses a PUT during an operation on the cluster with 409).
            Err(ArmError::Unanswered { .. }) => match data.arm.get(path, AKS_API, until).await {
                Ok(Some(live)) => {
                    let body = serde_json::to_vec(&live).unwrap_or_default();
                    data.arm
                        .resource_url(path, AKS_API)
                        .map(|url| (Response { status: 200, headers: Default::default(), body }, url))
                }
                Ok(None) => Err(ArmError::Service {
                    status: 404,
                    code: "NotFound".into(),
                    message: "the object vanished during its update".into(),
                    target: None,
                    correlation_id: None,
                }),
                Err(e) => Err(e),
            },
            other => other,
        },
    };
    let (resp, url) = accepted.map_err(|e| {
        let stale = e.status() == Some(412);
        // A create cut short or unanswered may exist: keep tracking it.
        let accepted = matches!(write, Write::Create) && e.may_have_applied();
        let diags = match write {
            Write::Create if !accepted => super::create_error(type_name, action, path, e),
            _ => arm_error(action, e),
        };
        WriteError { accepted, stale, diags }
    })?;
    log::info!("AKS accepted the write; waiting for it to finish", resource = path, status = resp.status);
    data.arm.wait(&resp, &url, until).await.map_err(|e| WriteError {
        accepted: true,
        stale: false,
        diags: arm_error(action, e),
    })
}
