//! Running tidemarkd as a service: process hardening, systemd units, health checks (`doctor`),
//! backup and restore.

pub mod backup;
pub mod commands;
pub mod control;
pub mod doctor;
pub mod hardening;
pub mod service;
