//! `tidemarkd install-service` / `uninstall-service`: a hardened systemd unit (`unit`), written
//! and registered with systemd (`install`).

pub mod install;
pub mod unit;

pub use install::{InstallOptions, ServiceError, install, uninstall};
pub use unit::{Scope, UnitSpec};
