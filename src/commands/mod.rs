//! The fleet commands, one module each: the job each runs on a host once its engine is reached
//! (with the shared steps: the plan checked against the API, the snapshot a decision is taken
//! on, deletes by ID). Their payloads are plain data in [`crate::outcome`]; how they are written
//! is [`crate::report`]'s.

pub mod apply;
pub mod df;
pub mod ping;
pub mod plan;
pub mod prune;
pub mod rmi;
