//! The call tree (top-down): total and self samples per call path, after filter and focus.

use super::focus::OUTSIDE;
use super::model::*;
use super::tree::{focused_counts, key_of, Builder, NodeId, Tree, ViewOptions, NO_NODE};

/// Builds the call tree of the samples `opts` selects. Node 0 is the root (all selected
/// samples); its children are the outermost frames, or the single focused node.
pub fn call_tree(p: &Profile, opts: &ViewOptions) -> Tree {
    let (counts, starts) = focused_counts(p, opts);
    // Which stack nodes carry any selected sample at or below them: skip the rest.
    let mut live = counts.iter().map(|&c| c > 0).collect::<Vec<bool>>();
    for s in (0..p.stacks.len()).rev() {
        let parent = p.stacks[s].parent;
        if live[s] && parent != NO_PARENT {
            live[parent as usize] = true;
        }
    }
    let mut b = Builder::new(p.stacks.len().min(1 << 20));
    // tree node of each stack node (parents are always mapped before children).
    let mut node_of = vec![NO_NODE; p.stacks.len()];
    for s in 0..p.stacks.len() {
        if !live[s] {
            continue;
        }
        let sn = p.stacks[s];
        let parent_node = match &starts {
            None => {
                if sn.parent == NO_PARENT { Tree::ROOT } else { node_of[sn.parent as usize] }
            }
            Some(st) => {
                let start = st[s];
                if start == OUTSIDE {
                    continue;
                }
                if start == s as StackId { Tree::ROOT } else { node_of[sn.parent as usize] }
            }
        };
        let frame = p.frames[sn.frame as usize];
        // A focused function is one node whatever line each call was on.
        let key = if parent_node == Tree::ROOT && matches!(opts.focus, Some(super::focus::Focus::Function(_))) {
            frame.func
        } else {
            key_of(p, opts.merge, sn.frame)
        };
        let id: NodeId = b.child(parent_node, key, frame.func, sn.frame);
        node_of[s] = id;
        b.nodes[id as usize].self_count += counts[s] as u64;
    }
    b.finish(opts.merge, false, true)
}
