//! Azure Resource Manager: typed resource IDs (and, later, the client).

pub mod ids;
