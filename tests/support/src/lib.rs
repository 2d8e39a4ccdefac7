//! Test doubles shared by lapse's integration tests.
