//! Per-file timings for editor views: per-line and per-function total/self sample counts under an
//! optional focus (a call path or one function), and the call stacks into a line or function.
//!
//! [`Index`] holds what does not depend on the focus and is built once per loaded profile;
//! [`View`] holds the totals under one focus, grouped per file and sorted by line, so that an
//! inlay-hint request only slices a vector.

use super::model::*;
use crate::web::Focus;
use std::collections::{HashMap, HashSet};

/// Focus-independent structure of one profile.
pub struct Index {
    /// Stack nodes in an order where a parent comes before its children.
    order: Vec<StackId>,
    /// Samples whose leaf is this node.
    leaf_count: Vec<u64>,
    /// Distinct (file, line) of each frame; `NO_KEY` when the line is unknown.
    frame_line: Vec<u32>,
    /// (file, line) of each line key.
    line_keys: Vec<(StrId, u32)>,
    /// Nodes whose frame has a given line key / function (CSR), for hovers.
    line_nodes: Csr,
    func_nodes: Csr,
    /// Seconds one sample stands for.
    pub sample_seconds: f64,
}

const NO_KEY: u32 = u32::MAX;

/// Lists of node ids per key, stored flat.
struct Csr {
    start: Vec<u32>,
    items: Vec<StackId>,
}

impl Csr {
    fn build(keys: usize, key_of: impl Fn(usize) -> u32, n: usize) -> Csr {
        let mut start = vec![0u32; keys + 1];
        for i in 0..n {
            let k = key_of(i);
            if k != NO_KEY {
                start[k as usize + 1] += 1;
            }
        }
        for k in 0..keys {
            start[k + 1] += start[k];
        }
        let mut fill = start.clone();
        let mut items = vec![0; start[keys] as usize];
        for i in 0..n {
            let k = key_of(i);
            if k != NO_KEY {
                items[fill[k as usize] as usize] = i as StackId;
                fill[k as usize] += 1;
            }
        }
        Csr { start, items }
    }
    fn get(&self, k: u32) -> &[StackId] {
        let k = k as usize;
        if k + 1 >= self.start.len() {
            return &[];
        }
        &self.items[self.start[k] as usize..self.start[k + 1] as usize]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineStat {
    pub line: u32,
    /// Samples in which this line is on the stack (counted once per sample under recursion).
    pub total: u64,
    /// Samples in which this line is the innermost frame.
    pub self_: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FuncStat {
    pub func: FuncId,
    pub name: String,
    pub first_line: u32,
    pub total: u64,
    pub self_: u64,
    /// Distinct functions that call this one.
    pub callers: u32,
}

#[derive(Debug, Clone, Default)]
pub struct FileStats {
    pub path: String,
    /// Sampled lines, sorted by line.
    pub lines: Vec<LineStat>,
    /// Sampled functions, sorted by first line.
    pub functions: Vec<FuncStat>,
}

impl FileStats {
    pub fn line(&self, line: u32) -> Option<&LineStat> {
        self.lines.binary_search_by_key(&line, |l| l.line).ok().map(|i| &self.lines[i])
    }
    /// Lines in `first..=last`.
    pub fn lines_in(&self, first: u32, last: u32) -> &[LineStat] {
        let a = self.lines.partition_point(|l| l.line < first);
        let b = self.lines.partition_point(|l| l.line <= last);
        &self.lines[a..b.max(a)]
    }
    pub fn function_at(&self, line: u32) -> Option<&FuncStat> {
        self.functions.iter().find(|f| f.first_line == line)
    }
}

/// The totals under one focus.
pub struct View {
    pub focus: Option<Focus>,
    /// Samples in the focus: the denominator of every share.
    pub samples: u64,
    files: HashMap<String, FileStats>,
    /// File name (last component) → paths, to match a profile's paths to an editor's.
    by_name: HashMap<String, Vec<String>>,
    /// Whether a node lies in the focused part of the tree.
    region: Vec<bool>,
    /// Focused samples under each node.
    cum: Vec<u64>,
}

/// One call path into a line or function and the samples that took it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackShare {
    /// Root first, ending at the line or function asked about.
    pub frames: Vec<FrameId>,
    pub samples: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallStacks {
    pub top: Vec<StackShare>,
    /// Distinct call paths not in `top`, and their samples.
    pub others: usize,
    pub others_samples: u64,
}

impl Index {
    pub fn build(p: &Profile) -> Index {
        let n = p.stacks.len();
        let order = parents_first(p);
        let mut leaf_count = vec![0u64; n];
        for &s in &p.samples.stack {
            if let Some(c) = leaf_count.get_mut(s as usize) {
                *c += 1;
            }
        }
        let mut keys: HashMap<(StrId, u32), u32> = HashMap::new();
        let mut line_keys = Vec::new();
        let frame_line: Vec<u32> = p
            .frames
            .iter()
            .map(|f| {
                if f.line == 0 {
                    return NO_KEY;
                }
                let Some(func) = p.functions.get(f.func as usize) else { return NO_KEY };
                *keys.entry((func.file, f.line)).or_insert_with(|| {
                    line_keys.push((func.file, f.line));
                    (line_keys.len() - 1) as u32
                })
            })
            .collect();
        let line_nodes = Csr::build(line_keys.len(), |i| frame_line[p.stacks[i].frame as usize], n);
        let func_nodes = Csr::build(p.functions.len(), |i| p.frames[p.stacks[i].frame as usize].func, n);
        Index { order, leaf_count, frame_line, line_keys, line_nodes, func_nodes, sample_seconds: p.sample_seconds() }
    }

    /// Totals per file under `focus` (None: the whole profile).
    pub fn view(&self, p: &Profile, focus: Option<&Focus>) -> View {
        let n = p.stacks.len();
        let func_of = |node: StackId| p.frames[p.stacks[node as usize].frame as usize].func;
        // Which nodes are in the focused part of the tree.
        let mut region = vec![focus.is_none(); n];
        match focus {
            None => {}
            Some(Focus::Path(path)) => {
                if let Some(anchor) = find_path(p, &self.order, path) {
                    for &s in &self.order {
                        let parent = p.stacks[s as usize].parent;
                        region[s as usize] = s == anchor || (parent != NO_PARENT && region[parent as usize]);
                    }
                }
            }
            Some(Focus::FunctionPath(path)) if !path.is_empty() => {
                // Nodes whose root-first functions so far agree with `path`; the region starts
                // at those that complete it.
                let k = path.len() as u32;
                let mut depth = vec![0u32; n];
                let mut agrees = vec![false; n];
                for &s in &self.order {
                    let i = s as usize;
                    let parent = p.stacks[i].parent;
                    let (d, above) = if parent == NO_PARENT { (0, true) } else { (depth[parent as usize] + 1, agrees[parent as usize]) };
                    depth[i] = d;
                    agrees[i] = above && d < k && func_of(s) == path[d as usize];
                    region[i] = (agrees[i] && d == k - 1) || (parent != NO_PARENT && region[parent as usize]);
                }
            }
            Some(Focus::FunctionPath(_)) => region.fill(true),
            Some(Focus::Function(f)) => {
                for &s in &self.order {
                    let parent = p.stacks[s as usize].parent;
                    region[s as usize] = func_of(s) == *f || (parent != NO_PARENT && region[parent as usize]);
                }
            }
        }

        let nl = self.line_keys.len();
        let nf = p.functions.len();
        let (mut line_total, mut line_self) = (vec![0u64; nl], vec![0u64; nl]);
        let (mut func_total, mut func_self) = (vec![0u64; nf], vec![0u64; nf]);
        let (mut line_stamp, mut func_stamp) = (vec![u32::MAX; nl], vec![u32::MAX; nf]);
        let mut cum = vec![0u64; n];
        let mut samples = 0u64;
        for (leaf, &c) in self.leaf_count.iter().enumerate() {
            if c == 0 || !region[leaf] {
                continue;
            }
            samples += c;
            let stamp = leaf as u32;
            let lk = self.frame_line[p.stacks[leaf].frame as usize];
            if lk != NO_KEY {
                line_self[lk as usize] += c;
            }
            func_self[func_of(leaf as StackId) as usize] += c;
            let mut node = leaf as StackId;
            while node != NO_PARENT && region[node as usize] {
                let sn = p.stacks[node as usize];
                cum[node as usize] += c;
                let lk = self.frame_line[sn.frame as usize];
                if lk != NO_KEY && line_stamp[lk as usize] != stamp {
                    line_stamp[lk as usize] = stamp;
                    line_total[lk as usize] += c;
                }
                let f = p.frames[sn.frame as usize].func as usize;
                if func_stamp[f] != stamp {
                    func_stamp[f] = stamp;
                    func_total[f] += c;
                }
                node = sn.parent;
            }
        }

        // Distinct callers of each function, over the call paths that were sampled.
        let mut caller_pairs: HashSet<(FuncId, FuncId)> = HashSet::new();
        for (node, &c) in cum.iter().enumerate() {
            if c == 0 {
                continue;
            }
            let parent = p.stacks[node].parent;
            if parent != NO_PARENT {
                let (f, g) = (func_of(node as StackId), func_of(parent));
                if f != g {
                    caller_pairs.insert((f, g));
                }
            }
        }
        let mut callers = vec![0u32; nf];
        for (f, _) in caller_pairs {
            callers[f as usize] += 1;
        }

        let mut files: HashMap<StrId, FileStats> = HashMap::new();
        for (k, &(file, line)) in self.line_keys.iter().enumerate() {
            if line_total[k] > 0 {
                files.entry(file).or_default().lines.push(LineStat { line, total: line_total[k], self_: line_self[k] });
            }
        }
        for (f, func) in p.functions.iter().enumerate() {
            if func_total[f] > 0 {
                files.entry(func.file).or_default().functions.push(FuncStat {
                    func: f as FuncId,
                    name: p.str(func.name).to_string(),
                    first_line: func.first_line,
                    total: func_total[f],
                    self_: func_self[f],
                    callers: callers[f],
                });
            }
        }
        let mut by_path = HashMap::with_capacity(files.len());
        let mut by_name: HashMap<String, Vec<String>> = HashMap::new();
        for (file, mut stats) in files {
            stats.lines.sort_unstable_by_key(|l| l.line);
            stats.functions.sort_by_key(|f| (f.first_line, f.func));
            stats.path = p.str(file).to_string();
            let name = stats.path.rsplit(['/', '\\']).next().unwrap_or("").to_string();
            by_name.entry(name).or_default().push(stats.path.clone());
            by_path.insert(stats.path.clone(), stats);
        }
        View { focus: focus.cloned(), samples, files: by_path, by_name, region, cum }
    }

    /// The call paths into `line` of `file` (as the view names it), most sampled first.
    pub fn stacks_into_line(&self, p: &Profile, view: &View, file: &str, line: u32, top: usize) -> CallStacks {
        let Some(file_id) = p.strings.iter().position(|s| s == file) else { return CallStacks::default() };
        let mut shares = Vec::new();
        for (k, &(f, l)) in self.line_keys.iter().enumerate() {
            if f as usize != file_id || l != line {
                continue;
            }
            for &node in self.line_nodes.get(k as u32) {
                if !view.counts(node) {
                    continue;
                }
                // Under recursion, count a path once: at its outermost occurrence of the line.
                let outer = ancestors(p, node).any(|a| view.in_region(a) && self.frame_line[p.stacks[a as usize].frame as usize] == k as u32);
                if !outer {
                    shares.push((node, view.cum[node as usize]));
                }
            }
        }
        collect_stacks(p, shares, top)
    }

    /// The call paths into function `func`, grouped by caller path, most sampled first.
    pub fn stacks_into_function(&self, p: &Profile, view: &View, func: FuncId, top: usize) -> CallStacks {
        let mut by_caller: HashMap<StackId, (StackId, u64)> = HashMap::new();
        for &node in self.func_nodes.get(func) {
            if !view.counts(node) {
                continue;
            }
            let outer = ancestors(p, node).any(|a| view.in_region(a) && p.frames[p.stacks[a as usize].frame as usize].func == func);
            if !outer {
                let e = by_caller.entry(p.stacks[node as usize].parent).or_insert((node, 0));
                e.1 += view.cum[node as usize];
            }
        }
        collect_stacks(p, by_caller.into_values().collect(), top)
    }
}

impl View {
    /// The stats of the file at `path`: the same path, or else the profile path that shares the
    /// longest tail of components with it (profiles may hold relative or other-machine paths,
    /// as from a container). A profile path that names another file on this machine is never
    /// taken for it: tests/inventory.py must not show shop/inventory.py's timings.
    pub fn file(&self, path: &str) -> Option<&FileStats> {
        if let Some(f) = self.files.get(path) {
            return Some(f);
        }
        let name = path.rsplit(['/', '\\']).next()?;
        let candidates = self.by_name.get(name)?;
        let want: Vec<&str> = path.rsplit(['/', '\\']).filter(|c| !c.is_empty() && *c != ".").collect();
        let here = std::fs::canonicalize(path).ok();
        let another_local_file = |c: &str| {
            let c = std::path::Path::new(c);
            c.is_absolute() && c.exists() && std::fs::canonicalize(c).ok() != here
        };
        candidates
            .iter()
            .filter(|c| !another_local_file(c))
            .map(|c| {
                let have = c.rsplit(['/', '\\']).filter(|c| !c.is_empty() && *c != ".");
                (have.zip(&want).take_while(|(a, b)| a == *b).count(), c)
            })
            .max_by_key(|(n, _)| *n)
            .and_then(|(_, c)| self.files.get(c))
    }

    pub fn files(&self) -> impl Iterator<Item = &FileStats> {
        self.files.values()
    }

    fn in_region(&self, node: StackId) -> bool {
        self.region.get(node as usize).copied().unwrap_or(false)
    }
    fn counts(&self, node: StackId) -> bool {
        self.in_region(node) && self.cum[node as usize] > 0
    }
}

fn ancestors(p: &Profile, node: StackId) -> impl Iterator<Item = StackId> + '_ {
    let mut cur = p.stacks[node as usize].parent;
    std::iter::from_fn(move || {
        (cur != NO_PARENT).then(|| {
            let n = cur;
            cur = p.stacks[n as usize].parent;
            n
        })
    })
}

fn collect_stacks(p: &Profile, mut shares: Vec<(StackId, u64)>, top: usize) -> CallStacks {
    shares.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let others = shares.len().saturating_sub(top);
    let others_samples = shares.iter().skip(top).map(|s| s.1).sum();
    let top = shares
        .into_iter()
        .take(top)
        .map(|(node, samples)| {
            let mut frames: Vec<FrameId> = p.stack_frames(node).collect();
            frames.reverse();
            StackShare { frames, samples }
        })
        .collect();
    CallStacks { top, others, others_samples }
}

/// The node whose root-first frames are exactly `path`, if any.
fn find_path(p: &Profile, order: &[StackId], path: &[FrameId]) -> Option<StackId> {
    let (&last, _) = path.split_last()?;
    'nodes: for &s in order {
        if p.stacks[s as usize].frame != last {
            continue;
        }
        let mut node = s;
        for &f in path.iter().rev() {
            if node == NO_PARENT || p.stacks[node as usize].frame != f {
                continue 'nodes;
            }
            node = p.stacks[node as usize].parent;
        }
        if node == NO_PARENT {
            return Some(s);
        }
    }
    None
}

/// Node ids with every parent before its children (interning already gives that order; files
/// written by other tools might not).
fn parents_first(p: &Profile) -> Vec<StackId> {
    let n = p.stacks.len();
    if p.stacks.iter().enumerate().all(|(i, s)| s.parent == NO_PARENT || (s.parent as usize) < i) {
        return (0..n as StackId).collect();
    }
    let mut depth = vec![u32::MAX; n];
    let mut trail = Vec::new();
    for i in 0..n {
        let mut cur = i as StackId;
        while cur != NO_PARENT && depth[cur as usize] == u32::MAX && trail.len() <= n {
            trail.push(cur);
            cur = p.stacks[cur as usize].parent;
        }
        let mut d = if cur == NO_PARENT { 0 } else { depth[cur as usize].saturating_add(1) };
        while let Some(t) = trail.pop() {
            depth[t as usize] = d;
            d = d.saturating_add(1);
        }
    }
    let mut order: Vec<StackId> = (0..n as StackId).collect();
    order.sort_by_key(|&s| depth[s as usize]);
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    /// main → work (line 3 → 10) → inner (20), plus main → helper, and a recursive rec.
    fn sample_profile() -> (Profile, Vec<FrameId>) {
        let mut p = Profile::new(Meta { interval_ns: 1_000_000, ..Default::default() });
        let main = p.intern_function("/w/app.py", "main", 1);
        let work = p.intern_function("/w/app.py", "work", 9);
        let inner = p.intern_function("/w/lib/util.py", "inner", 19);
        let helper = p.intern_function("/w/app.py", "helper", 30);
        let m3 = p.intern_frame(main, 3);
        let m4 = p.intern_frame(main, 4);
        let w10 = p.intern_frame(work, 10);
        let w11 = p.intern_frame(work, 11);
        let i20 = p.intern_frame(inner, 20);
        let h31 = p.intern_frame(helper, 31);
        let t = p.thread(1, 1, Some("main"));
        let stacks: &[(&[FrameId], u32)] = &[
            (&[m3, w10, i20], 6), // 6 samples in inner via work
            (&[m3, w11], 2),      // 2 self in work line 11
            (&[m4, h31], 1),      // 1 in helper
            (&[m4, w10, i20], 1), // 1 in inner via main:4 → work
        ];
        let mut time = 0;
        for (frames, count) in stacks {
            let s = p.intern_stack_path(frames).unwrap();
            for _ in 0..*count {
                p.push_sample(time, t, s, 0);
                time += 1_000_000;
            }
        }
        (p, vec![m3, m4, w10, w11, i20, h31])
    }

    #[test]
    fn lines_and_functions_over_the_whole_profile() {
        let (p, _) = sample_profile();
        let ix = Index::build(&p);
        let v = ix.view(&p, None);
        assert_eq!(v.samples, 10);
        let app = v.file("/w/app.py").unwrap();
        assert_eq!(app.line(3), Some(&LineStat { line: 3, total: 8, self_: 0 }));
        assert_eq!(app.line(4), Some(&LineStat { line: 4, total: 2, self_: 0 }));
        assert_eq!(app.line(10), Some(&LineStat { line: 10, total: 7, self_: 0 }));
        assert_eq!(app.line(11), Some(&LineStat { line: 11, total: 2, self_: 2 }));
        assert_eq!(app.lines_in(4, 10).iter().map(|l| l.line).collect::<Vec<_>>(), vec![4, 10]);
        let work = app.function_at(9).unwrap();
        assert_eq!((work.name.as_str(), work.total, work.self_, work.callers), ("work", 9, 2, 1));
        let main = app.function_at(1).unwrap();
        assert_eq!((main.total, main.self_, main.callers), (10, 0, 0));
        let util = v.file("/w/lib/util.py").unwrap();
        assert_eq!(util.line(20), Some(&LineStat { line: 20, total: 7, self_: 7 }));
        assert!(v.file("/w/nothing.py").is_none());
    }

    #[test]
    fn matches_paths_by_their_longest_common_tail() {
        let (p, _) = sample_profile();
        let ix = Index::build(&p);
        let v = ix.view(&p, None);
        assert_eq!(v.file("/home/me/project/w/lib/util.py").unwrap().path, "/w/lib/util.py");
        assert_eq!(v.file("/else/app.py").unwrap().path, "/w/app.py");
    }

    /// Two files of one name on this machine: each gets only its own timings, not the other's.
    #[test]
    fn a_profile_path_naming_another_local_file_is_not_matched() {
        let dir = tempfile::tempdir().unwrap();
        let (shop, tests) = (dir.path().join("shop/inventory.py"), dir.path().join("tests/inventory.py"));
        for f in [&shop, &tests] {
            std::fs::create_dir_all(f.parent().unwrap()).unwrap();
            std::fs::write(f, "x = 1\n").unwrap();
        }
        let mut p = Profile::new(Meta::default());
        let t = p.thread(1, 1, Some("MainThread"));
        let f = p.intern_function(shop.to_str().unwrap(), "stock", 1);
        let fr = p.intern_frame(f, 1);
        let s = p.intern_stack_path(&[fr]).unwrap();
        p.push_sample(0, t, s, FLAG_RUNNING);
        let ix = Index::build(&p);
        let v = ix.view(&p, None);
        assert!(v.file(shop.to_str().unwrap()).is_some());
        assert!(v.file(tests.to_str().unwrap()).is_none(), "tests/inventory.py took shop/inventory.py's timings");
        // The same file by another spelling (a symlinked folder) still matches.
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(dir.path().join("shop"), &link).unwrap();
        assert!(v.file(link.join("inventory.py").to_str().unwrap()).is_some());
    }

    #[test]
    fn focus_on_a_path_counts_only_that_subtree() {
        let (p, f) = sample_profile();
        let ix = Index::build(&p);
        // main:3 → work:10: 6 samples; the frames above the focus root are not counted.
        let v = ix.view(&p, Some(&Focus::Path(vec![f[0], f[2]])));
        assert_eq!(v.samples, 6);
        let app = v.file("/w/app.py").unwrap();
        assert_eq!(app.line(3), None);
        assert_eq!(app.line(10).unwrap().total, 6);
        assert_eq!(app.line(11), None);
        assert_eq!(v.file("/w/lib/util.py").unwrap().line(20).unwrap().self_, 6);
        // A path that does not exist focuses on nothing.
        let v = ix.view(&p, Some(&Focus::Path(vec![f[2]])));
        assert_eq!(v.samples, 0);
        assert!(v.file("/w/app.py").is_none());
    }

    #[test]
    fn focus_on_a_function_path_merges_lines() {
        let (p, f) = sample_profile();
        let ix = Index::build(&p);
        let func = |fr: FrameId| p.frames[fr as usize].func;
        // main → work, whichever lines: main:3 → work (8 samples) and main:4 → work (1).
        let v = ix.view(&p, Some(&Focus::FunctionPath(vec![func(f[0]), func(f[2])])));
        assert_eq!(v.samples, 9);
        let app = v.file("/w/app.py").unwrap();
        assert_eq!(app.line(10).unwrap().total, 7);
        assert_eq!(app.line(11).unwrap().total, 2);
        assert_eq!(app.line(3), None);
        assert!(app.function_at(30).is_none());
        // The same answer as the web's own filter, sample by sample.
        let focus = Focus::FunctionPath(vec![func(f[0]), func(f[2])]);
        let matching = p.samples.stack.iter().filter(|&&s| focus.matches(&p, s)).count() as u64;
        assert_eq!(matching, v.samples);
        // A path no stack starts with.
        let v = ix.view(&p, Some(&Focus::FunctionPath(vec![func(f[2])])));
        assert_eq!(v.samples, 0);
    }

    #[test]
    fn every_focus_selects_the_samples_the_web_page_selects() {
        let (p, f) = sample_profile();
        let ix = Index::build(&p);
        let func = |fr: FrameId| p.frames[fr as usize].func;
        let foci = [
            Focus::Function(func(f[2])),
            Focus::Function(func(f[4])),
            Focus::Path(vec![f[0], f[2]]),
            Focus::Path(vec![f[1]]),
            Focus::FunctionPath(vec![func(f[0])]),
            Focus::FunctionPath(vec![func(f[0]), func(f[5])]),
        ];
        for focus in foci {
            let want = p.samples.stack.iter().filter(|&&s| focus.matches(&p, s)).count() as u64;
            assert_eq!(ix.view(&p, Some(&focus)).samples, want, "{focus:?}");
        }
    }

    #[test]
    fn focus_on_a_function_merges_its_calls() {
        let (p, f) = sample_profile();
        let ix = Index::build(&p);
        let work = p.frames[f[2] as usize].func;
        let v = ix.view(&p, Some(&Focus::Function(work)));
        assert_eq!(v.samples, 9);
        let app = v.file("/w/app.py").unwrap();
        assert_eq!(app.line(10).unwrap().total, 7);
        assert_eq!(app.line(3), None);
        assert_eq!(app.function_at(9).unwrap().callers, 1);
        assert!(app.function_at(30).is_none());
    }

    #[test]
    fn recursion_counts_a_sample_once() {
        let mut p = Profile::new(Meta::default());
        let rec = p.intern_function("/r.py", "rec", 1);
        let a = p.intern_frame(rec, 2);
        let t = p.thread(1, 1, None);
        let s = p.intern_stack_path(&[a, a, a]).unwrap();
        p.push_sample(0, t, s, 0);
        p.push_sample(1, t, s, 0);
        let ix = Index::build(&p);
        let v = ix.view(&p, None);
        let f = v.file("/r.py").unwrap();
        assert_eq!(f.line(2), Some(&LineStat { line: 2, total: 2, self_: 2 }));
        assert_eq!(f.function_at(1).unwrap().total, 2);
        let st = ix.stacks_into_line(&p, &v, "/r.py", 2, 5);
        assert_eq!(st.top.len(), 1);
        assert_eq!(st.top[0].samples, 2);
        assert_eq!(st.top[0].frames, vec![a]);
    }

    #[test]
    fn call_stacks_into_a_line_and_a_function() {
        let (p, f) = sample_profile();
        let ix = Index::build(&p);
        let v = ix.view(&p, None);
        let st = ix.stacks_into_line(&p, &v, "/w/lib/util.py", 20, 5);
        assert_eq!(st.top.len(), 2);
        assert_eq!(st.top[0], StackShare { frames: vec![f[0], f[2], f[4]], samples: 6 });
        assert_eq!(st.top[1], StackShare { frames: vec![f[1], f[2], f[4]], samples: 1 });
        let st = ix.stacks_into_line(&p, &v, "/w/lib/util.py", 20, 1);
        assert_eq!((st.top.len(), st.others, st.others_samples), (1, 1, 1));
        let work = p.frames[f[2] as usize].func;
        let st = ix.stacks_into_function(&p, &v, work, 5);
        // Grouped by caller path: main:3 (6 + 2 samples, two lines of work) and main:4 (1).
        assert_eq!(st.top.iter().map(|s| s.samples).collect::<Vec<_>>(), vec![8, 1]);
        assert_eq!(st.top[0].frames[0], f[0]);
    }

    #[test]
    fn parents_after_children_still_work() {
        // Hand-built tables with a child before its parent, as another tool might write them.
        let (mut p, _) = sample_profile();
        let n = p.stacks.len() as StackId;
        let perm = |s: StackId| if s == NO_PARENT { NO_PARENT } else { n - 1 - s };
        let mut stacks = vec![p.stacks[0]; n as usize];
        for (i, s) in p.stacks.iter().enumerate() {
            stacks[perm(i as StackId) as usize] = StackNode { parent: perm(s.parent), frame: s.frame };
        }
        p.stacks = stacks;
        for s in p.samples.stack.iter_mut() {
            *s = perm(*s);
        }
        p.reindex();
        let ix = Index::build(&p);
        let v = ix.view(&p, Some(&Focus::Function(1)));
        assert_eq!(v.samples, 9);
        assert_eq!(v.file("/w/app.py").unwrap().line(10).unwrap().total, 7);
    }
}
