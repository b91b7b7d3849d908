//! Debug Adapter Protocol server: what an editor starts to launch or attach a profiling
//! session. `codec` frames messages, `protocol` is the envelope, `session` runs one client
//! (outbox, reverse requests), `handlers` answers requests over `crate::debuggee` (the process
//! and its recording) and `hottest` (the "Hottest functions/lines" view of the profile).

pub mod codec;
pub mod handlers;
pub mod hottest;
pub mod launch_args;
pub mod log;
pub mod protocol;
pub mod server;
pub mod session;
