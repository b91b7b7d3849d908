//! `ember dump`: every thread's current stack, read once.

use crate::error::Error;
use crate::frames::FrameInfo;

#[derive(Debug, Clone)]
pub struct ThreadStack {
    pub pid: u32,
    pub tid: u32,
    pub name: String,
    pub running: bool,
    pub gil: bool,
    /// Innermost last, like a traceback.
    pub frames: Vec<FrameInfo>,
    /// False when no read of this thread's stack held together (it changed during every
    /// try): `frames`, `running` and `gil` then say nothing.
    pub read: bool,
}

/// Reads every thread's Python stack of `pid` once; with `blocking`, with its threads stopped
/// for the read (see `Config::blocking`).
pub fn dump(pid: u32, blocking: bool) -> Result<Vec<ThreadStack>, Error> {
    crate::sampling::dump(pid, blocking)
}
