//! Focus: restrict a view to one call path's subtree, or to every call of one function merged
//! into one root ("set as root").

use super::model::*;
use super::tree::{key_of, Merge};
use serde::{Deserialize, Serialize};

/// Same shape as `web::Focus`, so the page's focus maps onto it one to one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Focus {
    /// A call path from the root, root first: samples whose stack starts with it. Frames are
    /// compared under the view's [`Merge`] rule (by function, or by function and line).
    Path(Vec<FrameId>),
    /// Every call of one function: each sample's stack from its outermost call of the function
    /// down, all merged under one root.
    Function(FuncId),
}

/// No focus start: the stack is outside the focus.
pub const OUTSIDE: StackId = u32::MAX;

impl Focus {
    /// For each stack node, the node where its focused part begins (the node that becomes the
    /// focus root), or [`OUTSIDE`]. One pass over the stack table: parents come before children.
    pub fn starts(&self, p: &Profile, merge: Merge) -> Vec<StackId> {
        let n = p.stacks.len();
        let mut start = vec![OUTSIDE; n];
        match self {
            Focus::Function(f) => {
                for s in 0..n {
                    let node = p.stacks[s];
                    let inherited = if node.parent == NO_PARENT { OUTSIDE } else { start[node.parent as usize] };
                    start[s] = if inherited != OUTSIDE {
                        inherited
                    } else if p.frames.get(node.frame as usize).map(|fr| fr.func) == Some(*f) {
                        s as StackId
                    } else {
                        OUTSIDE
                    };
                }
            }
            Focus::Path(path) => {
                if path.is_empty() {
                    return (0..n).map(|s| root_of(p, s as StackId)).collect();
                }
                let want: Vec<u32> = path
                    .iter()
                    .map(|&f| if (f as usize) < p.frames.len() { key_of(p, merge, f) } else { u32::MAX - 1 })
                    .collect();
                // matched[s]: how many path frames the stack matches so far (depth ≤ path length),
                // or u32::MAX when it diverged.
                let mut matched = vec![u32::MAX; n];
                for s in 0..n {
                    let node = p.stacks[s];
                    let before = if node.parent == NO_PARENT { 0 } else { matched[node.parent as usize] };
                    if before == u32::MAX {
                        continue;
                    }
                    if (before as usize) == want.len() {
                        matched[s] = before;
                        start[s] = start[node.parent as usize];
                    } else if key_of(p, merge, node.frame) == want[before as usize] {
                        matched[s] = before + 1;
                        if matched[s] as usize == want.len() {
                            start[s] = s as StackId;
                        }
                    }
                }
            }
        }
        start
    }
}

fn root_of(p: &Profile, mut s: StackId) -> StackId {
    while p.stacks[s as usize].parent != NO_PARENT {
        s = p.stacks[s as usize].parent;
    }
    s
}
