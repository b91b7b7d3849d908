//! The frame interner shared by the sampling thread and its consumers.

use dashmap::DashMap;
use std::sync::{Arc, RwLock};

pub type FrameId = u32;

/// One Python frame as a profile sees it: where (file, line) and in what function.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FrameInfo {
    pub file: Arc<str>,
    /// `co_qualname` where the interpreter has it (3.11+), else `co_name`.
    pub qualname: Arc<str>,
    /// Current line; 0 when the interpreter has none for this instruction.
    pub line: u32,
    /// The function's first line (`co_firstlineno`).
    pub first_line: u32,
}

/// Interns frames to small ids. Lookups by id take a read lock on a Vec; interning goes
/// through a DashMap so several sampling threads (one per process) can share one table.
#[derive(Default)]
pub struct FrameTable {
    ids: DashMap<FrameInfo, FrameId>,
    infos: RwLock<Vec<FrameInfo>>,
}

impl FrameTable {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn intern(&self, info: FrameInfo) -> FrameId {
        if let Some(id) = self.ids.get(&info) {
            return *id;
        }
        *self.ids.entry(info.clone()).or_insert_with(|| {
            let mut infos = self.infos.write().unwrap();
            infos.push(info);
            (infos.len() - 1) as FrameId
        })
    }

    pub fn get(&self, id: FrameId) -> Option<FrameInfo> {
        self.infos.read().unwrap().get(id as usize).cloned()
    }

    pub fn len(&self) -> usize {
        self.infos.read().unwrap().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Calls `f` with every frame from `from` on, in id order, under one lock.
    pub fn for_each_since(&self, from: FrameId, mut f: impl FnMut(FrameId, &FrameInfo)) {
        let infos = self.infos.read().unwrap();
        for (i, info) in infos.iter().enumerate().skip(from as usize) {
            f(i as FrameId, info);
        }
    }
}
