//! Test doubles shared by lapse's integration tests.

pub mod github;
pub mod moto;
pub mod receiver;
pub mod scenario;
