//! The profile: samples over time on a stack table and a frame table, so a sample costs a few
//! integers. Every view (call tree, per-line totals, flamegraph, formats) derives from this.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

pub type StrId = u32;
pub type FuncId = u32;
pub type FrameId = u32;
pub type StackId = u32;
pub type ThreadIdx = u16;

/// A stack node with no parent (the root frame of a stack).
pub const NO_PARENT: StackId = u32::MAX;

/// Sample flags (same bits as the sampler's).
pub const FLAG_RUNNING: u8 = 1;
pub const FLAG_GIL: u8 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Function {
    pub file: StrId,
    pub name: StrId,
    pub first_line: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Frame {
    pub func: FuncId,
    /// 0 when unknown.
    pub line: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StackNode {
    pub parent: StackId,
    pub frame: FrameId,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thread {
    pub pid: u32,
    pub tid: u32,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Process {
    pub pid: u32,
    pub parent: Option<u32>,
    pub command_line: Vec<String>,
    pub python_version: Option<String>,
    pub exit_code: Option<i32>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Dropped {
    /// Torn stacks detected and dropped.
    pub torn: u64,
    /// Samples lost because the consumer fell behind.
    pub overflow: u64,
    /// Reads that failed (thread exited mid-read, ...).
    pub errors: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// Where the profile came from: "ember", "collapsed", "speedscope", "perf", "austin"...
    pub source: String,
    /// Wall-clock start, milliseconds since the Unix epoch.
    pub start_unix_ms: u64,
    /// Length of the recording in nanoseconds.
    pub duration_ns: u64,
    /// Requested rate in Hz; None for "max" or unknown.
    pub rate_hz: Option<f64>,
    pub command_line: Vec<String>,
    pub python_version: Option<String>,
    pub dropped: Dropped,
    /// True when samples carry real timestamps (false for formats that only have counts).
    pub timed: bool,
    /// Sampling interval used to turn a count into seconds when `timed` is false.
    pub interval_ns: u64,
}

/// Samples as columns: index i is one sample.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Samples {
    /// Nanoseconds since the start of the recording.
    pub time_ns: Vec<u64>,
    pub thread: Vec<ThreadIdx>,
    pub stack: Vec<StackId>,
    pub flags: Vec<u8>,
}

impl Samples {
    pub fn len(&self) -> usize {
        self.stack.len()
    }
    pub fn is_empty(&self) -> bool {
        self.stack.is_empty()
    }
}

#[derive(Debug, Clone, Default)]
pub struct Profile {
    pub meta: Meta,
    pub strings: Vec<String>,
    pub functions: Vec<Function>,
    pub frames: Vec<Frame>,
    pub stacks: Vec<StackNode>,
    pub threads: Vec<Thread>,
    pub processes: Vec<Process>,
    pub samples: Samples,
    /// Interning maps, rebuilt on load; not part of the file.
    index: Index,
}

#[derive(Debug, Clone, Default)]
struct Index {
    strings: HashMap<String, StrId>,
    functions: HashMap<Function, FuncId>,
    frames: HashMap<Frame, FrameId>,
    stacks: HashMap<StackNode, StackId>,
    threads: HashMap<(u32, u32), ThreadIdx>,
}

impl Profile {
    pub fn new(meta: Meta) -> Profile {
        Profile { meta, ..Default::default() }
    }

    pub fn str(&self, id: StrId) -> &str {
        &self.strings[id as usize]
    }

    pub fn intern_str(&mut self, s: &str) -> StrId {
        if let Some(&id) = self.index.strings.get(s) {
            return id;
        }
        let id = self.strings.len() as StrId;
        self.strings.push(s.to_string());
        self.index.strings.insert(s.to_string(), id);
        id
    }

    pub fn intern_function(&mut self, file: &str, name: &str, first_line: u32) -> FuncId {
        let f = Function { file: self.intern_str(file), name: self.intern_str(name), first_line };
        let next = self.functions.len() as FuncId;
        let id = *self.index.functions.entry(f).or_insert(next);
        if id == next {
            self.functions.push(f);
        }
        id
    }

    pub fn intern_frame(&mut self, func: FuncId, line: u32) -> FrameId {
        let f = Frame { func, line };
        let next = self.frames.len() as FrameId;
        let id = *self.index.frames.entry(f).or_insert(next);
        if id == next {
            self.frames.push(f);
        }
        id
    }

    pub fn intern_stack(&mut self, parent: StackId, frame: FrameId) -> StackId {
        let n = StackNode { parent, frame };
        let next = self.stacks.len() as StackId;
        let id = *self.index.stacks.entry(n).or_insert(next);
        if id == next {
            self.stacks.push(n);
        }
        id
    }

    /// Interns a whole stack given root first; None for an empty stack.
    pub fn intern_stack_path(&mut self, frames_root_first: &[FrameId]) -> Option<StackId> {
        let mut parent = NO_PARENT;
        for &f in frames_root_first {
            parent = self.intern_stack(parent, f);
        }
        (parent != NO_PARENT).then_some(parent)
    }

    /// The thread index for (pid, tid), adding it (and renaming it when `name` is given).
    pub fn thread(&mut self, pid: u32, tid: u32, name: Option<&str>) -> ThreadIdx {
        if let Some(&i) = self.index.threads.get(&(pid, tid)) {
            if let Some(n) = name {
                self.threads[i as usize].name = n.to_string();
            }
            return i;
        }
        let i = self.threads.len() as ThreadIdx;
        self.threads.push(Thread { pid, tid, name: name.unwrap_or("").to_string() });
        self.index.threads.insert((pid, tid), i);
        i
    }

    pub fn push_sample(&mut self, time_ns: u64, thread: ThreadIdx, stack: StackId, flags: u8) {
        self.samples.time_ns.push(time_ns);
        self.samples.thread.push(thread);
        self.samples.stack.push(stack);
        self.samples.flags.push(flags);
    }

    /// Frames of a stack, leaf first.
    pub fn stack_frames(&self, mut stack: StackId) -> impl Iterator<Item = FrameId> + '_ {
        std::iter::from_fn(move || {
            if stack == NO_PARENT {
                return None;
            }
            let n = self.stacks[stack as usize];
            stack = n.parent;
            Some(n.frame)
        })
    }

    /// Rebuilds the interning maps after the tables were filled directly (file loading).
    pub fn reindex(&mut self) {
        let mut ix = Index::default();
        for (i, s) in self.strings.iter().enumerate() {
            ix.strings.insert(s.clone(), i as StrId);
        }
        for (i, f) in self.functions.iter().enumerate() {
            ix.functions.insert(*f, i as FuncId);
        }
        for (i, f) in self.frames.iter().enumerate() {
            ix.frames.insert(*f, i as FrameId);
        }
        for (i, s) in self.stacks.iter().enumerate() {
            ix.stacks.insert(*s, i as StackId);
        }
        for (i, t) in self.threads.iter().enumerate() {
            ix.threads.insert((t.pid, t.tid), i as ThreadIdx);
        }
        self.index = ix;
    }

    /// Seconds one sample stands for when samples carry no timestamps.
    pub fn sample_seconds(&self) -> f64 {
        if self.meta.interval_ns > 0 {
            self.meta.interval_ns as f64 / 1e9
        } else if let Some(hz) = self.meta.rate_hz {
            1.0 / hz
        } else {
            0.001
        }
    }
}
