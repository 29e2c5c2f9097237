//! ARM error responses: the status, code and message of a failed request, in the body shape
//! of the service that would have produced it.

use serde_json::{json, Value};

/// Which service's error envelope a failure is rendered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorShape {
    /// ARM and Microsoft.Network: `{"error":{"code","message","details":[]}}`.
    Arm,
    /// An AKS resource-provider failure. Rendered in the ARM envelope, which is what the
    /// published 2026-07-01 spec declares (`ErrorResponse`), unless the simulator is
    /// configured for the flat `{"code","message","subcode","details"}` body older AKS
    /// responses were observed to use.
    Aks,
}

/// A request that failed with an ARM-style error.
#[derive(Debug, Clone)]
pub(crate) struct ArmError {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub shape: ErrorShape,
    /// Extra response headers (e.g. `WWW-Authenticate`, `Retry-After`).
    pub headers: Vec<(String, String)>,
}

impl ArmError {
    pub fn new(status: u16, code: impl Into<String>, message: impl Into<String>) -> Self {
        ArmError { status, code: code.into(), message: message.into(), shape: ErrorShape::Arm, headers: Vec::new() }
    }

    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        Self::new(400, code, message)
    }

    /// A malformed body: Microsoft.Network answers "Cannot parse the request." with this code.
    pub fn invalid_request_format(message: impl Into<String>) -> Self {
        Self::new(400, "InvalidRequestFormat", message)
    }

    /// ARM's answer for a tracked top-level resource that does not exist.
    pub fn resource_not_found(resource_type: &str, name: &str, rg: &str) -> Self {
        Self::new(
            404,
            "ResourceNotFound",
            format!(
                "The Resource '{resource_type}/{name}' under resource group '{rg}' was not found. \
                 For more details please go to https://aka.ms/ARMResourceNotFoundFix"
            ),
        )
    }

    /// Microsoft.Network's answer for a missing child resource (route, subnet).
    pub fn child_not_found(id: &str) -> Self {
        Self::new(404, "NotFound", format!("Resource {id} not found."))
    }

    pub fn resource_group_not_found(rg: &str) -> Self {
        Self::new(404, "ResourceGroupNotFound", format!("Resource group '{rg}' could not be found."))
    }

    pub fn aks(mut self) -> Self {
        self.shape = ErrorShape::Aks;
        self
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// The `error` object used inside both response bodies and operation status documents.
    pub fn detail(&self) -> Value {
        json!({ "code": self.code, "message": self.message, "details": [] })
    }

    /// Renders AKS failures flat when `aks_flat` is set, in the envelope otherwise.
    pub fn for_aks_shape(mut self, aks_flat: bool) -> Self {
        if !aks_flat && self.shape == ErrorShape::Aks {
            self.shape = ErrorShape::Arm;
        }
        self
    }

    pub fn body(&self) -> Value {
        match self.shape {
            ErrorShape::Arm => json!({ "error": self.detail() }),
            ErrorShape::Aks => json!({
                "code": self.code,
                "message": self.message,
                "subcode": "",
                "details": [],
            }),
        }
    }
}
