//! ember-sampler: reads a live CPython's Python stacks from outside the process.
//!
//! It knows CPython (3.8–3.15, x86_64 Linux) and nothing of editors or profile formats.
//! Data flows one way: [`Session::start`] spawns a sampling thread that reads every thread's
//! stack through `process_vm_readv`, interns frames in a shared [`FrameTable`], and sends
//! [`Event`]s over a bounded channel. The sampler never blocks on its consumer: a batch that
//! does not fit is dropped and counted in [`Stats`].

mod error;
mod frames;
mod event;
mod session;
mod sampling;
mod dump;
mod launch;
mod freeze;

mod elf;
mod memory;
mod process;
mod python;
mod layout;
mod linetable;
mod unicode;
mod objects;
mod thread_names;
mod walker;
mod clock;

pub use dump::{dump, ThreadStack};
pub use error::Error;
pub use event::{Batch, Event, ProcessInfo, Sample, ThreadInfo, FLAG_GIL, FLAG_RUNNING};
pub use launch::default_signals;
pub use process::descendants;
pub use frames::{FrameId, FrameInfo, FrameTable};
pub use python::PythonVersion;
pub use session::{duration_from_secs, Config, Rate, Session, Stats, StatsSnapshot, Target};
