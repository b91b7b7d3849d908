//! Tests of the derived views (call tree, inverted tree, filters, focus) on small hand-built
//! profiles whose answers are known, and invariants on a large synthetic one.

use super::*;

/// Builds a profile from `("main:1;f:2;g:3", count, flags)` lines: `name:line` frames, root
/// first, in file `name.py` with first line 1. Each sample is 1 ms after the previous one.
fn build(lines: &[(&str, u32, u8)]) -> Profile {
    let mut p = Profile::default();
    let th = p.thread(1, 1, Some("main"));
    let mut t = 0;
    for (stack, count, flags) in lines {
        let frames: Vec<FrameId> = stack
            .split(';')
            .map(|f| {
                let (name, line) = f.split_once(':').unwrap();
                let func = p.intern_function(&format!("{name}.py"), name, 1);
                p.intern_frame(func, line.parse().unwrap())
            })
            .collect();
        let s = p.intern_stack_path(&frames).unwrap();
        for _ in 0..*count {
            t += 1_000_000;
            p.push_sample(t, th, s, *flags);
        }
    }
    p
}

fn func(p: &Profile, name: &str) -> FuncId {
    p.functions.iter().position(|f| p.str(f.name) == name).unwrap() as FuncId
}

/// `name` of a node, `*` for the root.
fn name(p: &Profile, t: &Tree, n: NodeId) -> String {
    if n == Tree::ROOT { "*".into() } else { p.str(p.functions[t.node(n).func as usize].name).to_string() }
}

/// The tree as sorted `path total/self` lines, e.g. `main;f 3/1`.
fn dump(p: &Profile, t: &Tree) -> Vec<String> {
    let mut out = Vec::new();
    for id in 1..t.nodes.len() as NodeId {
        let mut path = Vec::new();
        let mut n = id;
        while n != Tree::ROOT {
            let line = p.frames[t.node(n).frame as usize].line;
            path.push(if t.merge == Merge::Line { format!("{}:{line}", name(p, t, n)) } else { name(p, t, n) });
            n = t.node(n).parent;
        }
        path.reverse();
        out.push(format!("{} {}/{}", path.join(";"), t.node(id).total, t.node(id).self_count));
    }
    out.sort();
    out
}

fn check_invariants(t: &Tree) {
    for id in 0..t.nodes.len() as NodeId {
        let children: u64 = t.children(id).map(|c| t.node(c).total).sum();
        if t.inverted {
            // A caller chain never carries more samples than the node it was reached from.
            assert!(children <= t.node(id).total || id == Tree::ROOT);
        } else {
            assert_eq!(t.node(id).total, t.node(id).self_count + children, "node {id}");
        }
        for c in t.children(id) {
            assert_eq!(t.node(c).parent, id);
            assert_eq!(t.node(c).depth, t.node(id).depth + 1);
        }
    }
}

const R: u8 = FLAG_RUNNING;
const G: u8 = FLAG_GIL;

fn example() -> Profile {
    build(&[
        ("main:1;f:2;g:3", 3, R | G),
        ("main:1;f:2", 1, R),
        ("main:1;f:4;g:3", 2, 0),
        ("main:1;h:5;f:2;g:3", 4, R | G),
        ("main:1;h:5", 1, 0),
        ("main:1;f:2;g:3;f:2;g:7", 5, R),
    ])
}

#[test]
fn call_tree_by_function_merges_lines() {
    let p = example();
    let t = call_tree(&p, &ViewOptions::default());
    check_invariants(&t);
    assert_eq!(t.total(), 16);
    assert_eq!(
        dump(&p, &t),
        [
            "main 16/0", "main;f 11/1", "main;f;g 10/5", "main;f;g;f 5/0", "main;f;g;f;g 5/5",
            "main;h 5/1", "main;h;f 4/0", "main;h;f;g 4/4",
        ]
    );
    // find_child follows the merge rule: f at line 4 finds the same node as f at line 2.
    let main = t.children(Tree::ROOT).next().unwrap();
    let f2 = p.frames.iter().position(|fr| fr.func == func(&p, "f") && fr.line == 2).unwrap() as FrameId;
    let f4 = p.frames.iter().position(|fr| fr.func == func(&p, "f") && fr.line == 4).unwrap() as FrameId;
    assert_eq!(t.find_child(&p, main, f2), t.find_child(&p, main, f4));
    assert_eq!(t.path(t.find_child(&p, main, f4).unwrap()).len(), 2);
}

#[test]
fn call_tree_by_line_keeps_lines_apart() {
    let p = example();
    let t = call_tree(&p, &ViewOptions { merge: Merge::Line, ..Default::default() });
    check_invariants(&t);
    let d = dump(&p, &t);
    assert!(d.contains(&"main:1;f:2 9/1".to_string()), "{d:?}");
    assert!(d.contains(&"main:1;f:4 2/0".to_string()), "{d:?}");
    assert!(d.contains(&"main:1;f:2;g:3;f:2;g:7 5/5".to_string()), "{d:?}");
}

#[test]
fn filters_select_samples() {
    let p = example();
    let cpu = ViewOptions { filter: Filter { mode: Mode::Cpu, ..Default::default() }, ..Default::default() };
    let t = call_tree(&p, &cpu);
    check_invariants(&t);
    assert_eq!(t.total(), 13);
    assert!(!dump(&p, &t).iter().any(|l| l.starts_with("main;h ") && !l.ends_with("4/0")));
    let gil = ViewOptions { filter: Filter { mode: Mode::Gil, ..Default::default() }, ..Default::default() };
    assert_eq!(call_tree(&p, &gil).total(), 7);
    // Samples are 1 ms apart from t = 1 ms: [1 ms, 4 ms) holds the first three.
    let range = ViewOptions { filter: Filter { time_ns: Some((1_000_000, 4_000_000)), ..Default::default() }, ..Default::default() };
    assert_eq!(dump(&p, &call_tree(&p, &range)), ["main 3/0", "main;f 3/0", "main;f;g 3/3"]);
    let none = ViewOptions { filter: Filter { threads: Some(vec![]), ..Default::default() }, ..Default::default() };
    let t = call_tree(&p, &none);
    assert_eq!((t.total(), t.nodes.len()), (0, 1));
}

#[test]
fn focus_on_a_path_keeps_its_subtree() {
    let p = example();
    let full = call_tree(&p, &ViewOptions::default());
    let main = full.children(Tree::ROOT).next().unwrap();
    let h = full.find_child(&p, main, full.nodes.iter().find(|n| n.func == func(&p, "h")).unwrap().frame).unwrap();
    let opts = ViewOptions { focus: Some(Focus::Path(full.path(h))), ..Default::default() };
    let t = call_tree(&p, &opts);
    check_invariants(&t);
    assert_eq!(dump(&p, &t), ["h 5/1", "h;f 4/0", "h;f;g 4/4"]);
    // By function, main;f matches both f:2 and f:4.
    let f = full.find_child(&p, main, full.nodes.iter().find(|n| n.func == func(&p, "f")).unwrap().frame).unwrap();
    let t = call_tree(&p, &ViewOptions { focus: Some(Focus::Path(full.path(f))), ..Default::default() });
    assert_eq!(t.total(), 11);
    // A path that matches nothing gives an empty tree, not a panic.
    let t = call_tree(&p, &ViewOptions { focus: Some(Focus::Path(vec![999])), ..Default::default() });
    assert_eq!(t.total(), 0);
}

#[test]
fn focus_on_a_function_merges_all_its_calls_once() {
    let p = example();
    let opts = ViewOptions { focus: Some(Focus::Function(func(&p, "f"))), ..Default::default() };
    let t = call_tree(&p, &opts);
    check_invariants(&t);
    // f is called from main (lines 2 and 4) and from h; the recursion f;g;f counts once.
    assert_eq!(dump(&p, &t), ["f 15/1", "f;g 14/9", "f;g;f 5/0", "f;g;f;g 5/5"]);
    // Also by line: one root for f, whatever line.
    let t = call_tree(&p, &ViewOptions { merge: Merge::Line, ..opts.clone() });
    assert_eq!(t.children(Tree::ROOT).count(), 1);
    assert_eq!(t.total(), 15);
}

#[test]
fn inverted_tree_is_bottom_up_by_self() {
    let p = example();
    let t = inverted_tree(&p, &ViewOptions::default());
    check_invariants(&t);
    assert_eq!(t.total(), 16);
    let d = dump(&p, &t);
    // Leaves: g has 14 samples of self time, f 1, h 1.
    for l in ["g 14/14", "f 1/1", "h 1/1", "g;f 14/0", "g;f;main 5/0", "g;f;h 4/0", "g;f;g 5/0", "h;main 1/0"] {
        assert!(d.contains(&l.to_string()), "missing {l} in {d:?}");
    }
    let top = t.children_by_total(Tree::ROOT);
    assert_eq!(name(&p, &t, top[0]), "g");
    // With a function focus the callers stop at the focused function.
    let t = inverted_tree(&p, &ViewOptions { focus: Some(Focus::Function(func(&p, "f"))), ..Default::default() });
    let d = dump(&p, &t);
    assert!(d.contains(&"g;f 14/0".to_string()) && !d.iter().any(|l| l.contains("main")), "{d:?}");
    assert!(d.contains(&"g;f;g;f 5/0".to_string()), "{d:?}");
}

#[test]
fn views_of_a_large_synthetic_profile_are_consistent() {
    let p = synth::generate(&synth::Shape { samples: 200_000, stacks: 20_000, max_depth: 200, ..Default::default() });
    let t = call_tree(&p, &ViewOptions::default());
    check_invariants(&t);
    assert_eq!(t.total(), 200_000);
    let self_sum: u64 = t.nodes.iter().map(|n| n.self_count).sum();
    assert_eq!(self_sum, 200_000);
    let inv = inverted_tree(&p, &ViewOptions::default());
    assert_eq!(inv.total(), 200_000);
    // Per-function self time agrees between the two trees.
    let mut self_by_func = std::collections::HashMap::new();
    for n in &t.nodes[1..] {
        *self_by_func.entry(n.func).or_insert(0u64) += n.self_count;
    }
    for c in inv.children(Tree::ROOT) {
        assert_eq!(self_by_func[&inv.node(c).func], inv.node(c).total);
    }
    // Threads partition the samples.
    let per_thread: u64 = (0..p.threads.len() as ThreadIdx)
        .map(|th| call_tree(&p, &ViewOptions { filter: Filter { threads: Some(vec![th]), ..Default::default() }, ..Default::default() }).total())
        .sum();
    assert_eq!(per_thread, 200_000);
}
