//! Pure types and rules of the domain: no I/O here, so every rule can be tested directly.

pub mod account;
pub mod calendar;
pub mod clock;
pub mod entry;
pub mod handover;
pub mod roles;
pub mod stream;
