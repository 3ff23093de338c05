//! Finding a built-in party (test IdP, demo user system) by the id in its path.

use super::error::AppError;
use crate::app::AppState;
use crate::demo_sp::DemoSp;
use crate::test_idp::TestIdp;
use std::sync::Arc;

/// The test IdP `/test-idp/<id>/…`.
pub(super) fn test_idp(s: &AppState, id: &str) -> Result<Arc<TestIdp>, AppError> {
    s.test_idps
        .get(id)
        .cloned()
        .ok_or_else(|| AppError::NotFound(format!("there is no test IdP `{id}`")))
}

/// The demo user system `/demo-sp/<id>/…`.
pub(super) fn demo_sp(s: &AppState, id: &str) -> Result<Arc<DemoSp>, AppError> {
    s.demo_sps
        .get(id)
        .cloned()
        .ok_or_else(|| AppError::NotFound(format!("there is no demo user system `{id}`")))
}
