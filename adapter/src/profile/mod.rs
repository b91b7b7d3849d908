//! The profile model and everything derived from it. Knows samples, nothing of protocols.

pub mod file;
pub mod formats;
pub mod model;
pub mod query;
pub mod recorder;
pub mod store;

pub use model::*;
pub use recorder::Recorder;
