//! Turns the sampler's events into a [`Profile`].

use super::model::*;
use ember_sampler::{Event, FrameTable};
use std::collections::HashMap;

/// Feeds sampler events into a profile. Keeps a map from the sampler's frame ids to the
/// profile's, so each new frame is looked up once.
pub struct Recorder {
    frame_map: Vec<FrameId>,
    scratch: Vec<FrameId>,
    /// Whole stacks (as the sampler's frame ids) → stack id: one lookup per sample instead
    /// of one per frame, which keeps the consumer cheap at the maximum rate.
    stacks: HashMap<Box<[u32]>, StackId>,
}

const UNMAPPED: FrameId = u32::MAX;

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}

impl Recorder {
    pub fn new() -> Recorder {
        Recorder { frame_map: Vec::new(), scratch: Vec::new(), stacks: HashMap::new() }
    }

    /// Applies one event. Returns the number of samples added.
    pub fn apply(&mut self, profile: &mut Profile, table: &FrameTable, event: &Event) -> usize {
        match event {
            Event::Process(p) => {
                if !profile.processes.iter().any(|q| q.pid == p.pid) {
                    profile.processes.push(Process {
                        pid: p.pid,
                        parent: p.parent,
                        command_line: p.command_line.clone(),
                        python_version: Some(p.python.to_string()),
                        exit_code: None,
                    });
                }
                if profile.meta.python_version.is_none() {
                    profile.meta.python_version = Some(p.python.to_string());
                }
                0
            }
            Event::Thread(t) => {
                profile.thread(t.pid, t.tid, Some(&t.name));
                0
            }
            Event::ProcessExited { pid, exit_code, .. } => {
                if let Some(p) = profile.processes.iter_mut().find(|p| p.pid == *pid) {
                    p.exit_code = *exit_code;
                }
                0
            }
            Event::Warning(_) => 0,
            Event::Samples(batch) => {
                let mut n = 0;
                for (s, frames) in batch.iter() {
                    if frames.is_empty() {
                        continue;
                    }
                    let stack = match self.stacks.get(frames) {
                        Some(&id) => id,
                        None => {
                            self.scratch.clear();
                            for &f in frames {
                                let mapped = self.map_frame(profile, table, f);
                                self.scratch.push(mapped);
                            }
                            let Some(id) = profile.intern_stack_path(&self.scratch) else { continue };
                            self.stacks.insert(frames.into(), id);
                            id
                        }
                    };
                    let thread = profile.thread(s.pid, s.tid, None);
                    profile.push_sample(s.time_ns, thread, stack, s.flags);
                    profile.meta.duration_ns = profile.meta.duration_ns.max(s.time_ns);
                    n += 1;
                }
                n
            }
        }
    }

    fn map_frame(&mut self, profile: &mut Profile, table: &FrameTable, f: u32) -> FrameId {
        let i = f as usize;
        if i >= self.frame_map.len() {
            self.frame_map.resize(i + 1, UNMAPPED);
        }
        if self.frame_map[i] == UNMAPPED {
            let info = table.get(f).expect("sampler frame ids come from its table");
            let func = profile.intern_function(&info.file, &info.qualname, info.first_line);
            self.frame_map[i] = profile.intern_frame(func, info.line);
        }
        self.frame_map[i]
    }
}
