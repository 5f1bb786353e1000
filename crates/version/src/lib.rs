//! The version every iwp tool prints (`--version`): the workspace version and the git commit.

#![warn(missing_docs)]

/// `0.1.0 (commit 0123456789ab)`; "unknown" as the commit when built outside a git checkout.
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("IWP_COMMIT"), ")");
