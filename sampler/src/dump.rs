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
}

/// Reads every thread's Python stack of `pid` once.
pub fn dump(pid: u32) -> Result<Vec<ThreadStack>, Error> {
    crate::sampling::dump(pid)
}
