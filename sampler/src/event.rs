//! What the sampler sends to its consumer.

use crate::frames::FrameId;
use crate::python::PythonVersion;

/// The thread was on a CPU (state `R` in /proc/PID/task/TID/stat) when sampled.
pub const FLAG_RUNNING: u8 = 1;
/// The thread held the GIL when sampled.
pub const FLAG_GIL: u8 = 2;

#[derive(Debug)]
pub enum Event {
    /// A Python process is being sampled (the target, or a child with `subprocesses`).
    Process(ProcessInfo),
    /// A thread was seen for the first time, or its name changed.
    Thread(ThreadInfo),
    /// Samples, in time order per thread.
    Samples(Batch),
    /// A sampled process ended. Exit status only for a process Ember spawned itself.
    ProcessExited { pid: u32, exit_code: Option<i32>, signal: Option<i32> },
    /// Something the user should know that did not stop sampling.
    Warning(String),
}

#[derive(Debug, Clone)]
pub struct ProcessInfo {
    pub pid: u32,
    pub parent: Option<u32>,
    pub command_line: Vec<String>,
    pub python: PythonVersion,
    pub executable: String,
}

#[derive(Debug, Clone)]
pub struct ThreadInfo {
    pub pid: u32,
    pub tid: u32,
    pub name: String,
}

/// One stack sample; its frames are `Batch::frames[start..start+len]`, root first.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// Nanoseconds since the session started (monotonic clock).
    pub time_ns: u64,
    pub pid: u32,
    pub tid: u32,
    pub flags: u8,
    pub start: u32,
    pub len: u32,
}

/// Samples packed into flat buffers, so a sample costs no allocation. Give a batch back with
/// [`crate::Session::recycle`] to reuse its buffers.
#[derive(Debug, Default)]
pub struct Batch {
    pub samples: Vec<Sample>,
    pub frames: Vec<FrameId>,
}

impl Batch {
    pub fn clear(&mut self) {
        self.samples.clear();
        self.frames.clear();
    }

    /// Each sample with its frames, root first.
    pub fn iter(&self) -> impl Iterator<Item = (&Sample, &[FrameId])> {
        self.samples
            .iter()
            .map(move |s| (s, &self.frames[s.start as usize..(s.start + s.len) as usize]))
    }
}
