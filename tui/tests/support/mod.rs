pub mod connect;
pub mod fake_daemon;
