//! The profile as the page downloads it: a JSON header (meta, strings, functions, threads)
//! followed by little-endian typed arrays (frames, stacks, samples) the page views in place
//! with `Uint32Array` & co. Tables are append-only while recording, so the page asks only for
//! rows past what it has (`Have`); a smaller profile than that (replaced) gets a full reset.

use super::origin::classify;
use crate::profile::Profile;
use serde_json::{json, Value};
use std::path::Path;

#[derive(Debug, Default, Clone, Copy)]
pub struct Have {
    pub strings: usize,
    pub functions: usize,
    pub frames: usize,
    pub stacks: usize,
    pub samples: usize,
}

struct Arrays {
    bytes: Vec<u8>,
    index: serde_json::Map<String, Value>,
}

impl Arrays {
    fn push<T: Copy>(&mut self, name: &str, ty: &str, items: impl ExactSizeIterator<Item = T>, put: impl Fn(&mut Vec<u8>, T)) {
        self.bytes.resize(self.bytes.len().next_multiple_of(8), 0);
        let offset = self.bytes.len();
        let len = items.len();
        for x in items {
            put(&mut self.bytes, x);
        }
        self.index.insert(name.into(), json!({ "type": ty, "offset": offset, "len": len }));
    }
}

pub fn encode(p: &Profile, mut have: Have, root: &Path) -> Vec<u8> {
    let reset = have.strings > p.strings.len()
        || have.functions > p.functions.len()
        || have.frames > p.frames.len()
        || have.stacks > p.stacks.len()
        || have.samples > p.samples.len();
    if reset {
        have = Have::default();
    }
    let mut a = Arrays { bytes: Vec::with_capacity((p.samples.len() - have.samples) * 15 + 1024), index: Default::default() };
    let fr = &p.frames[have.frames..];
    a.push("frame_func", "u32", fr.iter().map(|f| f.func), |b, x| b.extend_from_slice(&x.to_le_bytes()));
    a.push("frame_line", "u32", fr.iter().map(|f| f.line), |b, x| b.extend_from_slice(&x.to_le_bytes()));
    let st = &p.stacks[have.stacks..];
    a.push("stack_parent", "u32", st.iter().map(|s| s.parent), |b, x| b.extend_from_slice(&x.to_le_bytes()));
    a.push("stack_frame", "u32", st.iter().map(|s| s.frame), |b, x| b.extend_from_slice(&x.to_le_bytes()));
    let s = &p.samples;
    let n = have.samples;
    a.push("sample_time", "f64", s.time_ns[n..].iter().map(|&t| t as f64), |b, x| b.extend_from_slice(&x.to_le_bytes()));
    a.push("sample_stack", "u32", s.stack[n..].iter().copied(), |b, x| b.extend_from_slice(&x.to_le_bytes()));
    a.push("sample_thread", "u16", s.thread[n..].iter().copied(), |b, x| b.extend_from_slice(&x.to_le_bytes()));
    a.push("sample_flags", "u8", s.flags[n..].iter().copied(), |b, x| b.push(x));

    let functions: Vec<Value> = p.functions[have.functions..]
        .iter()
        .map(|f| json!([f.file, f.name, f.first_line, classify(p.str(f.file), root) as u8]))
        .collect();
    let m = &p.meta;
    let header = json!({
        "reset": reset,
        "base": { "strings": have.strings, "functions": have.functions, "frames": have.frames, "stacks": have.stacks, "samples": have.samples },
        "meta": {
            "source": m.source, "start_unix_ms": m.start_unix_ms, "duration_ns": m.duration_ns,
            "rate_hz": m.rate_hz, "command_line": m.command_line, "python_version": m.python_version,
            "dropped": { "torn": m.dropped.torn, "overflow": m.dropped.overflow, "errors": m.dropped.errors },
            "timed": m.timed, "sample_seconds": p.sample_seconds(),
        },
        "strings": &p.strings[have.strings..],
        "functions": functions,
        "threads": p.threads.iter().map(|t| json!({ "pid": t.pid, "tid": t.tid, "name": t.name })).collect::<Vec<_>>(),
        "processes": p.processes.iter().map(|q| json!({ "pid": q.pid, "parent": q.parent, "command_line": q.command_line, "python_version": q.python_version })).collect::<Vec<_>>(),
        "arrays": a.index,
    });
    let head = serde_json::to_vec(&header).expect("json");
    let mut out = Vec::with_capacity(8 + head.len() + a.bytes.len() + 8);
    out.extend_from_slice(&(head.len() as u32).to_le_bytes());
    out.extend_from_slice(&head);
    out.resize(out.len().next_multiple_of(8), b' ');
    out.extend_from_slice(&a.bytes);
    out
}
