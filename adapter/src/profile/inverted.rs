//! The inverted (bottom-up) tree: top-level nodes are the functions samples were in (their
//! self time), each with the callers that led there below it.

use super::focus::OUTSIDE;
use super::model::*;
use super::tree::{focused_counts, key_of, Builder, Tree, ViewOptions};

/// Builds the inverted tree of the samples `opts` selects. Node 0 is the root; its children are
/// leaf functions (total = self time); below each node are its callers. With a focus, stacks
/// are cut at the focus root, as in the call tree.
pub fn inverted_tree(p: &Profile, opts: &ViewOptions) -> Tree {
    let (counts, starts) = focused_counts(p, opts);
    let mut b = Builder::new(1024);
    for (s, &c) in counts.iter().enumerate() {
        if c == 0 {
            continue;
        }
        let stop = match &starts {
            None => NO_PARENT,
            Some(st) if st[s] == OUTSIDE => continue,
            Some(st) => st[s],
        };
        let mut node = Tree::ROOT;
        let mut cur = s as StackId;
        loop {
            let sn = p.stacks[cur as usize];
            let frame = p.frames[sn.frame as usize];
            node = b.child(node, key_of(p, opts.merge, sn.frame), frame.func, sn.frame);
            b.nodes[node as usize].total += c as u64;
            if cur == stop || sn.parent == NO_PARENT {
                break;
            }
            cur = sn.parent;
        }
    }
    let mut tree = b.finish(opts.merge, true, false);
    let total: u64 = tree.children(Tree::ROOT).map(|c| tree.nodes[c as usize].total).sum();
    tree.nodes[0].total = total;
    let top: Vec<_> = tree.children(Tree::ROOT).collect();
    for c in top {
        tree.nodes[c as usize].self_count = tree.nodes[c as usize].total;
    }
    tree
}
