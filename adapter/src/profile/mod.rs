//! The profile model and everything derived from it. Knows samples, nothing of protocols.

pub mod calltree;
pub mod file;
pub mod filter;
pub mod focus;
pub mod formats;
pub mod inverted;
pub mod journal;
pub mod model;
pub mod query;
pub mod recorder;
pub mod store;
pub mod synth;
pub mod tree;

pub use model::*;
pub use calltree::call_tree;
pub use filter::{Filter, Mode};
pub use focus::Focus;
pub use inverted::inverted_tree;
pub use recorder::Recorder;
pub use tree::{Merge, NodeId, Tree, ViewOptions};

#[cfg(test)]
mod views_tests;
