//! The tree shape shared by the call tree and the inverted tree: nodes in a flat vector with
//! first-child / next-sibling links, each with total and self sample counts.

use super::filter::Filter;
use super::focus::Focus;
use super::model::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

pub type NodeId = u32;
pub const NO_NODE: NodeId = u32::MAX;
/// `func` of the synthetic root node.
pub const ROOT_FUNC: FuncId = u32::MAX;

/// What makes two frames the same node.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Merge {
    /// One node per function under a parent, whatever line it was on (the usual flamegraph).
    #[default]
    Function,
    /// One node per (function, line), as py-spy and speedscope show.
    Line,
}

/// Everything a derived tree depends on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ViewOptions {
    pub filter: Filter,
    pub focus: Option<Focus>,
    pub merge: Merge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Node {
    pub parent: NodeId,
    pub func: FuncId,
    /// The frame; with [`Merge::Function`] the first frame seen for this node (its line is
    /// then one of several).
    pub frame: FrameId,
    /// Samples at or below this node.
    pub total: u64,
    /// Samples whose leaf is this node (in an inverted tree: only top-level nodes have self).
    pub self_count: u64,
    pub depth: u32,
    pub first_child: NodeId,
    pub next_sibling: NodeId,
}

/// A call tree (root = all selected samples). Node 0 is a synthetic root whose children are
/// the outermost frames, or the focused function/path.
#[derive(Debug, Clone)]
pub struct Tree {
    pub nodes: Vec<Node>,
    pub merge: Merge,
    pub inverted: bool,
}

impl Tree {
    pub const ROOT: NodeId = 0;

    pub fn root(&self) -> &Node {
        &self.nodes[0]
    }

    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id as usize]
    }

    /// Total samples in the tree.
    pub fn total(&self) -> u64 {
        self.nodes[0].total
    }

    pub fn children(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        let mut c = self.nodes[id as usize].first_child;
        std::iter::from_fn(move || {
            if c == NO_NODE {
                return None;
            }
            let r = c;
            c = self.nodes[c as usize].next_sibling;
            Some(r)
        })
    }

    /// Children, heaviest first (ties by function id, so the order is stable).
    pub fn children_by_total(&self, id: NodeId) -> Vec<NodeId> {
        let mut v: Vec<NodeId> = self.children(id).collect();
        v.sort_by(|&a, &b| {
            let (a, b) = (&self.nodes[a as usize], &self.nodes[b as usize]);
            b.total.cmp(&a.total).then(a.func.cmp(&b.func)).then(a.frame.cmp(&b.frame))
        });
        v
    }

    /// Frames from the root's child down to `id` (a path `Focus::Path` accepts).
    pub fn path(&self, mut id: NodeId) -> Vec<FrameId> {
        let mut v = Vec::new();
        while id != Self::ROOT && id != NO_NODE {
            v.push(self.nodes[id as usize].frame);
            id = self.nodes[id as usize].parent;
        }
        v.reverse();
        v
    }

    /// The child of `parent` for `func`/`frame` under this tree's merge rule, if any.
    pub fn find_child(&self, p: &Profile, parent: NodeId, frame: FrameId) -> Option<NodeId> {
        let key = key_of(p, self.merge, frame);
        self.children(parent).find(|&c| key_of(p, self.merge, self.nodes[c as usize].frame) == key)
    }
}

pub(crate) fn key_of(p: &Profile, merge: Merge, frame: FrameId) -> u32 {
    match merge {
        Merge::Function => p.frames[frame as usize].func,
        Merge::Line => frame,
    }
}

/// Grows a tree, finding or adding children through one hash map.
pub(crate) struct Builder {
    pub nodes: Vec<Node>,
    index: HashMap<(NodeId, u32), NodeId, BuildHasherDefault<Mix>>,
}

impl Builder {
    pub fn new(capacity: usize) -> Builder {
        let mut nodes = Vec::with_capacity(capacity + 1);
        nodes.push(Node {
            parent: NO_NODE,
            func: ROOT_FUNC,
            frame: u32::MAX,
            total: 0,
            self_count: 0,
            depth: 0,
            first_child: NO_NODE,
            next_sibling: NO_NODE,
        });
        Builder { nodes, index: HashMap::with_capacity_and_hasher(capacity, Default::default()) }
    }

    /// The child of `parent` with merge key `key`, created with `func`/`frame` if new.
    pub fn child(&mut self, parent: NodeId, key: u32, func: FuncId, frame: FrameId) -> NodeId {
        let next = self.nodes.len() as NodeId;
        let id = *self.index.entry((parent, key)).or_insert(next);
        if id == next {
            let depth = self.nodes[parent as usize].depth + 1;
            let sibling = self.nodes[parent as usize].first_child;
            self.nodes.push(Node { parent, func, frame, total: 0, self_count: 0, depth, first_child: NO_NODE, next_sibling: sibling });
            self.nodes[parent as usize].first_child = id;
        }
        id
    }

    /// Sums `total` up the tree: children always come after their parent.
    pub fn finish(mut self, merge: Merge, inverted: bool, totals_from_self: bool) -> Tree {
        if totals_from_self {
            for n in self.nodes.iter_mut() {
                n.total = n.self_count;
            }
            for i in (1..self.nodes.len()).rev() {
                let (t, parent) = (self.nodes[i].total, self.nodes[i].parent);
                self.nodes[parent as usize].total += t;
            }
        }
        Tree { nodes: self.nodes, merge, inverted }
    }
}

/// A fast hasher for integer keys (multiply-rotate); the keys come from our own tables, not
/// from an adversary, so a DoS-resistant hash buys nothing here.
#[derive(Default, Clone, Copy)]
pub(crate) struct Mix(u64);

impl Hasher for Mix {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(b as u64);
        }
    }
    fn write_u32(&mut self, i: u32) {
        self.write_u64(i as u64);
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

/// Samples per stack after filter and focus: counts[stack] for stacks inside the focus.
pub(crate) fn focused_counts(p: &Profile, opts: &ViewOptions) -> (Vec<u32>, Option<Vec<StackId>>) {
    let counts = opts.filter.stack_counts(p);
    let starts = opts.focus.as_ref().map(|f| f.starts(p, opts.merge));
    (counts, starts)
}

