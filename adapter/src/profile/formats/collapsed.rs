//! Collapsed ("folded") stacks: one line per distinct stack, root first, frames separated by
//! `;`, then a space and a count.
//!
//! Reads the dialects in use: Brendan Gregg's (bare function names), py-spy's raw output
//! (`process PID:"cmdline";thread (TID): NAME;func (file.py:12)`), CPython 3.15's
//! `profiling.sampling --collapsed` (`tid:TID;file.py:func:12`) and Ember's own. Writes Ember's
//! (sampler issue, point 7): frames `qualname (path:line)`, a first frame `thread NAME (TID)`
//! when the profile has several threads, and before it `process PID (cmdline)` when it has
//! several processes.

use crate::profile::model::*;
use anyhow::bail;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{BufRead, Write};

/// Sampling interval assumed when a format has counts but no rate (1 kHz, Ember's default).
pub const DEFAULT_INTERVAL_NS: u64 = 1_000_000;

/// Refuses inputs that would not fit in memory rather than dying on them.
const MAX_SAMPLES: u64 = 500_000_000;

/// Builds a profile from stacks with counts, whatever the text format: threads and processes
/// by id, frames by (file, name, line). Untimed: sample k gets time k × interval.
pub(crate) struct Builder {
    pub p: Profile,
    threads: HashMap<(u32, String), ThreadIdx>,
    frames: HashMap<(String, String, u32), FrameId>,
    next_time: u64,
    interval: u64,
    total: u64,
    synthetic_tid: u32,
}

/// One frame of an input line, parsed.
#[derive(Debug, PartialEq)]
pub(crate) enum Part<'a> {
    Process { pid: u32, cmdline: &'a str },
    Thread { tid: Option<u32>, raw_id: &'a str, name: &'a str },
    Frame { name: &'a str, file: &'a str, line: u32 },
}

impl Builder {
    pub fn new(source: &str, interval_ns: u64) -> Builder {
        let interval = if interval_ns == 0 { DEFAULT_INTERVAL_NS } else { interval_ns };
        let p = Profile::new(Meta {
            source: source.to_string(),
            rate_hz: Some(1e9 / interval as f64),
            timed: false,
            interval_ns: interval,
            ..Default::default()
        });
        Builder {
            p,
            threads: HashMap::new(),
            frames: HashMap::new(),
            next_time: 0,
            interval,
            total: 0,
            synthetic_tid: 0,
        }
    }

    pub fn frame(&mut self, file: &str, name: &str, line: u32) -> FrameId {
        if let Some(&f) = self.frames.get(&(file.to_string(), name.to_string(), line)) {
            return f;
        }
        let func = self.p.intern_function(file, name, 0);
        let f = self.p.intern_frame(func, line);
        self.frames.insert((file.to_string(), name.to_string(), line), f);
        f
    }

    /// The thread for a process and a thread id as written in the input (decimal, hex
    /// pthread id, or absent). Ids that do not fit a kernel tid get a small synthetic one.
    pub fn thread(&mut self, pid: u32, tid: Option<u32>, raw_id: &str, name: &str) -> anyhow::Result<ThreadIdx> {
        let key = (pid, raw_id.to_string());
        if let Some(&t) = self.threads.get(&key) {
            if !name.is_empty() && self.p.threads[t as usize].name.is_empty() {
                self.p.threads[t as usize].name = name.to_string();
            }
            return Ok(t);
        }
        if self.p.threads.len() > ThreadIdx::MAX as usize {
            bail!("more than {} threads; Ember profiles hold at most that many", ThreadIdx::MAX as usize + 1);
        }
        let hex = tid.is_none() && raw_id.starts_with("0x");
        let tid = tid.unwrap_or_else(|| {
            self.synthetic_tid += 1;
            self.synthetic_tid
        });
        // A pthread id that is no kernel tid still tells threads apart when shown.
        let shown = if name.is_empty() && hex { raw_id } else { name };
        let t = self.p.thread(pid, tid, Some(shown));
        self.threads.insert(key, t);
        Ok(t)
    }

    /// Adds a process, or fills in what an earlier mention of it lacked.
    pub fn process(&mut self, pid: u32, parent: Option<u32>, cmdline: &str) {
        let parent = parent.filter(|&pp| pp != pid);
        if let Some(q) = self.p.processes.iter_mut().find(|q| q.pid == pid) {
            if q.command_line.is_empty() {
                q.command_line = cmdline.split_whitespace().map(str::to_string).collect();
            }
            if q.parent.is_none() {
                q.parent = parent;
            }
        } else {
            self.p.processes.push(Process {
                pid,
                parent,
                command_line: cmdline.split_whitespace().map(str::to_string).collect(),
                python_version: None,
                exit_code: None,
            });
        }
    }

    /// Adds `count` samples of `frames` (root first) on `thread`, one interval apart.
    pub fn add(&mut self, thread: ThreadIdx, frames: &[FrameId], count: u64, flags: u8) -> anyhow::Result<()> {
        let Some(stack) = self.p.intern_stack_path(frames) else { return Ok(()) };
        self.total += count;
        if self.total > MAX_SAMPLES {
            bail!("more than {MAX_SAMPLES} samples; Ember holds each sample, so split the input");
        }
        for _ in 0..count {
            self.p.push_sample(self.next_time, thread, stack, flags);
            self.next_time += self.interval;
        }
        Ok(())
    }

    /// Adds one sample at a known time.
    pub fn add_timed(&mut self, thread: ThreadIdx, frames: &[FrameId], time_ns: u64, flags: u8) {
        if let Some(stack) = self.p.intern_stack_path(frames) {
            self.p.push_sample(time_ns, thread, stack, flags);
        }
    }

    pub fn finish(mut self) -> Profile {
        let last = self.p.samples.time_ns.iter().copied().max().unwrap_or(0);
        self.p.meta.duration_ns = if self.p.samples.is_empty() { 0 } else { last + self.interval };
        self.p
    }
}

/// Splits `stack count` at the last space; None when the line has no count.
pub(crate) fn split_count(line: &str) -> Option<(&str, u64)> {
    let (stack, count) = line.trim_end().rsplit_once(' ')?;
    let count = count.parse::<f64>().ok().filter(|c| c.is_finite() && *c >= 0.0)?;
    Some((stack, count.round() as u64))
}

/// Parses one frame of any dialect.
pub(crate) fn parse_part(s: &str, first: bool) -> Part<'_> {
    let s = s.trim();
    if first || s.starts_with("process ") || s.starts_with("thread ") || s.starts_with("tid:") {
        if let Some(part) = parse_context(s) {
            return part;
        }
    }
    // `name (file:line)` / `name (file)` (py-spy, Ember).
    if let Some(body) = s.strip_suffix(')') {
        if let Some(open) = body.rfind(" (") {
            let (name, loc) = (&body[..open], &body[open + 2..]);
            if let Some((file, line)) = loc.rsplit_once(':') {
                if let Ok(line) = line.parse::<u32>() {
                    return Part::Frame { name, file, line };
                }
            }
            if !loc.is_empty() && !name.is_empty() {
                return Part::Frame { name, file: loc, line: 0 };
            }
        }
    }
    // `file:name:line` (CPython 3.15, Austin).
    if let Some((rest, line)) = s.rsplit_once(':') {
        if let Ok(line) = line.parse::<u32>() {
            if let Some((file, name)) = rest.rsplit_once(':') {
                if !name.is_empty() && !name.contains(' ') {
                    return Part::Frame { name, file, line };
                }
            }
        }
    }
    // perf's `py::func:file` (CPython's perf trampoline).
    if let Some(rest) = s.strip_prefix("py::") {
        if let Some((name, file)) = rest.split_once(':') {
            return Part::Frame { name, file, line: 0 };
        }
    }
    Part::Frame { name: s, file: "", line: 0 }
}

/// Process and thread frames: Ember's `process PID (cmd)` / `thread NAME (TID)`, py-spy's
/// `process PID:"cmd"` / `thread (TID): NAME` / `thread (0x7f..)`, CPython's `tid:TID`.
fn parse_context(s: &str) -> Option<Part<'_>> {
    if let Some(rest) = s.strip_prefix("process ") {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let pid = rest[..digits].parse().ok()?;
        let tail = &rest[digits..];
        let cmdline = if let Some(q) = tail.strip_prefix(":\"") {
            q.strip_suffix('"').unwrap_or(q)
        } else if let Some(p) = tail.strip_prefix(" (") {
            p.strip_suffix(')').unwrap_or(p)
        } else if tail.is_empty() {
            ""
        } else {
            return None;
        };
        return Some(Part::Process { pid, cmdline });
    }
    if let Some(rest) = s.strip_prefix("thread ") {
        // py-spy: `(ID)` or `(ID): NAME`.
        if let Some(r) = rest.strip_prefix('(') {
            let close = r.find(')')?;
            let raw_id = &r[..close];
            let name = r[close + 1..].strip_prefix(": ").unwrap_or("");
            if r[close + 1..].is_empty() || r[close + 1..].starts_with(": ") {
                return Some(Part::Thread { tid: parse_tid(raw_id), raw_id, name });
            }
        }
        // Ember: `NAME (TID)`.
        let body = rest.strip_suffix(')')?;
        let open = body.rfind(" (")?;
        let raw_id = &body[open + 2..];
        return Some(Part::Thread { tid: parse_tid(raw_id), raw_id, name: &body[..open] });
    }
    if let Some(id) = s.strip_prefix("tid:") {
        return Some(Part::Thread { tid: parse_tid(id), raw_id: id, name: "" });
    }
    None
}

fn parse_tid(raw: &str) -> Option<u32> {
    if let Some(hex) = raw.strip_prefix("0x").or_else(|| raw.strip_prefix("0X")) {
        return u32::try_from(u64::from_str_radix(hex, 16).ok()?).ok();
    }
    raw.parse().ok()
}

/// True when the text looks like collapsed stacks: its first non-empty lines end in a count.
pub fn sniff(text: &str) -> bool {
    let mut seen = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()).take(20) {
        if line.starts_with('#') {
            continue;
        }
        if split_count(line).is_none() {
            return false;
        }
        seen += 1;
    }
    seen > 0
}

/// Reads collapsed stacks (any dialect above).
pub fn read<R: BufRead>(r: R, source: &str) -> anyhow::Result<Profile> {
    let mut b = Builder::new(source, 0);
    let mut frames = Vec::new();
    let mut lines = 0usize;
    for (n, line) in r.lines().enumerate() {
        let line = line.map_err(|e| anyhow::anyhow!("line {}: {e} (collapsed stacks must be UTF-8 text)", n + 1))?;
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((stack, count)) = split_count(&line) else {
            bail!("line {}: expected `frame;frame;... COUNT`, found {:?}", n + 1, truncate(&line, 80));
        };
        lines += 1;
        frames.clear();
        let (mut pid, mut parent) = (0u32, None);
        let mut thread: Option<ThreadIdx> = None;
        let mut context = true;
        for (i, part) in stack.split(';').enumerate() {
            if part.is_empty() {
                continue;
            }
            match parse_part(part, context && i < 4) {
                Part::Process { pid: p, cmdline } if context => {
                    if pid != 0 {
                        parent = Some(pid);
                    }
                    pid = p;
                    b.process(pid, parent, cmdline);
                }
                Part::Thread { tid, raw_id, name } if context => {
                    thread = Some(b.thread(pid, tid, raw_id, name)?);
                    context = false;
                }
                Part::Frame { name, file, line } => {
                    context = false;
                    frames.push(b.frame(file, name, line));
                }
                // A process/thread-looking frame deeper in the stack is just a name.
                _ => {
                    context = false;
                    frames.push(b.frame("", part.trim(), 0));
                }
            }
        }
        let thread = match thread {
            Some(t) => t,
            None => b.thread(pid, Some(pid), "", "")?,
        };
        b.add(thread, &frames, count, 0)?;
    }
    if lines == 0 {
        bail!("no stacks found (expected lines of `frame;frame;... COUNT`)");
    }
    Ok(b.finish())
}

fn truncate(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// `;` separates frames and a newline ends the line: neither may appear inside a frame.
fn clean(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains([';', '\n', '\r']) {
        s.replace([';', '\n', '\r'], " ").into()
    } else {
        s.into()
    }
}

/// The text of one frame in Ember's dialect.
pub fn frame_label(p: &Profile, frame: FrameId) -> String {
    let fr = p.frames[frame as usize];
    let func = p.functions[fr.func as usize];
    let (name, file) = (clean(p.str(func.name)), clean(p.str(func.file)));
    match (file.is_empty(), fr.line) {
        (true, _) => name.into_owned(),
        (false, 0) => format!("{name} ({file})"),
        (false, line) => format!("{name} ({file}:{line})"),
    }
}

/// Context frames (process, thread) of a thread, in Ember's dialect, joined with `;`.
fn context_label(p: &Profile, t: ThreadIdx, with_process: bool, with_thread: bool) -> String {
    let th = &p.threads[t as usize];
    let mut s = String::new();
    if with_process {
        let cmd = p.processes.iter().find(|q| q.pid == th.pid).map(|q| q.command_line.join(" ")).unwrap_or_default();
        if cmd.is_empty() {
            let _ = write!(s, "process {};", th.pid);
        } else {
            let _ = write!(s, "process {} ({});", th.pid, clean(&cmd));
        }
    }
    if with_thread {
        if th.name.is_empty() {
            let _ = write!(s, "thread ({});", th.tid);
        } else {
            let _ = write!(s, "thread {} ({});", clean(&th.name), th.tid);
        }
    }
    s
}

/// Distinct (thread, stack) pairs with their sample counts, in first-seen order.
pub(crate) fn stack_counts(p: &Profile) -> Vec<((ThreadIdx, StackId), u64)> {
    let mut index: HashMap<(ThreadIdx, StackId), usize> = HashMap::new();
    let mut out: Vec<((ThreadIdx, StackId), u64)> = Vec::new();
    for i in 0..p.samples.len() {
        let key = (p.samples.thread[i], p.samples.stack[i]);
        match index.get(&key) {
            Some(&j) => out[j].1 += 1,
            None => {
                index.insert(key, out.len());
                out.push((key, 1));
            }
        }
    }
    out
}

/// The Ember collapsed lines of `p`, sorted (as flamegraph tools expect), without newlines.
pub fn lines(p: &Profile) -> Vec<String> {
    let sampled: std::collections::BTreeSet<ThreadIdx> = p.samples.thread.iter().copied().collect();
    let pids: std::collections::BTreeSet<u32> = sampled.iter().map(|&t| p.threads[t as usize].pid).collect();
    lines_with(p, pids.len() > 1, sampled.len() > 1)
}

/// Collapsed lines with no process or thread frames (threads merged), e.g. to compare runs.
pub fn lines_without_context(p: &Profile) -> Vec<String> {
    lines_with(p, false, false)
}

fn lines_with(p: &Profile, with_process: bool, with_thread: bool) -> Vec<String> {
    let mut labels: HashMap<FrameId, String> = HashMap::new();
    let mut contexts: HashMap<ThreadIdx, String> = HashMap::new();
    let mut out = Vec::new();
    let mut frames = Vec::new();
    for ((t, stack), count) in stack_counts(p) {
        let mut line = contexts.entry(t).or_insert_with(|| context_label(p, t, with_process, with_thread)).clone();
        frames.clear();
        frames.extend(p.stack_frames(stack));
        for (i, &f) in frames.iter().rev().enumerate() {
            if i > 0 {
                line.push(';');
            }
            line.push_str(labels.entry(f).or_insert_with(|| frame_label(p, f)));
        }
        let _ = write!(line, " {count}");
        out.push(line);
    }
    out.sort_unstable();
    // The same text can come from two stacks (a frame name with `;` cleaned): merge them.
    merge_duplicates(out)
}

fn merge_duplicates(lines: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(lines.len());
    for line in lines {
        if let Some(last) = out.last_mut() {
            let (a, ca) = split_count(last).unwrap();
            let (b, cb) = split_count(&line).unwrap();
            if a == b {
                *last = format!("{a} {}", ca + cb);
                continue;
            }
        }
        out.push(line);
    }
    out
}

/// Writes Ember collapsed stacks.
pub fn write<W: Write>(p: &Profile, mut w: W) -> anyhow::Result<()> {
    for line in lines(p) {
        writeln!(w, "{line}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_dialect_of_frame() {
        assert_eq!(parse_part("leaf_a (work.py:5)", false), Part::Frame { name: "leaf_a", file: "work.py", line: 5 });
        assert_eq!(
            parse_part("_find_and_load (<frozen importlib._bootstrap>:1360)", false),
            Part::Frame { name: "_find_and_load", file: "<frozen importlib._bootstrap>", line: 1360 }
        );
        assert_eq!(parse_part("f (a.py)", false), Part::Frame { name: "f", file: "a.py", line: 0 });
        assert_eq!(parse_part("work.py:hot_a:12", false), Part::Frame { name: "hot_a", file: "work.py", line: 12 });
        assert_eq!(
            parse_part("<frozen importlib._bootstrap>:_find_and_load:1360", false),
            Part::Frame { name: "_find_and_load", file: "<frozen importlib._bootstrap>", line: 1360 }
        );
        assert_eq!(parse_part("py::hot_a:/tmp/work.py", false), Part::Frame { name: "hot_a", file: "/tmp/work.py", line: 0 });
        assert_eq!(parse_part("_PyEval_EvalFrameDefault", false), Part::Frame { name: "_PyEval_EvalFrameDefault", file: "", line: 0 });
        assert_eq!(
            parse_part("process 31239:\"/usr/bin/python3 /tmp/multi.py\"", true),
            Part::Process { pid: 31239, cmdline: "/usr/bin/python3 /tmp/multi.py" }
        );
        assert_eq!(parse_part("process 7 (python3 app.py)", true), Part::Process { pid: 7, cmdline: "python3 app.py" });
        assert_eq!(parse_part("thread (31223): MainThread", true), Part::Thread { tid: Some(31223), raw_id: "31223", name: "MainThread" });
        assert_eq!(parse_part("thread (31223)", true), Part::Thread { tid: Some(31223), raw_id: "31223", name: "" });
        assert_eq!(
            parse_part("thread (0x7F3A2B1C0740)", true),
            Part::Thread { tid: None, raw_id: "0x7F3A2B1C0740", name: "" }
        );
        assert_eq!(parse_part("thread Worker (x) (42)", true), Part::Thread { tid: Some(42), raw_id: "42", name: "Worker (x)" });
        assert_eq!(parse_part("tid:31826", true), Part::Thread { tid: Some(31826), raw_id: "31826", name: "" });
    }

    #[test]
    fn reads_counts_threads_and_processes() {
        let text = "process 10:\"python a.py\";thread (11): MainThread;main (a.py:3);f (a.py:7) 3\n\
                    process 10:\"python a.py\";process 12:\"python a.py\";thread (12): MainThread;g (b.py:1) 2\n\
                    \n";
        let p = read(text.as_bytes(), "collapsed").unwrap();
        assert_eq!(p.samples.len(), 5);
        assert_eq!(p.threads.len(), 2);
        assert_eq!((p.threads[1].pid, p.threads[1].tid), (12, 12));
        assert_eq!(p.processes.len(), 2);
        assert_eq!(p.processes[1].parent, Some(10));
        assert_eq!(p.processes[0].command_line, ["python", "a.py"]);
        let leaf = p.stack_frames(p.samples.stack[0]).next().unwrap();
        assert_eq!(frame_label(&p, leaf), "f (a.py:7)");
        assert!(!p.meta.timed);
        assert_eq!(p.samples.time_ns[4], 4 * DEFAULT_INTERVAL_NS);
    }

    #[test]
    fn round_trips_through_ember_dialect() {
        let mut p = Profile::default();
        let a = p.thread(1, 1, Some("MainThread"));
        let b = p.thread(2, 5, Some("wörker; odd"));
        p.processes.push(Process { pid: 1, parent: None, command_line: vec!["python".into(), "x.py".into()], python_version: None, exit_code: None });
        p.processes.push(Process { pid: 2, parent: Some(1), command_line: vec![], python_version: None, exit_code: None });
        let f = p.intern_function("/src/x.py", "Class.method", 1);
        let g = p.intern_function("/usr/lib/python3.12/json/__init__.py", "dumps", 183);
        let (fa, gb) = (p.intern_frame(f, 3), p.intern_frame(g, 231));
        let s1 = p.intern_stack_path(&[fa]).unwrap();
        let s2 = p.intern_stack_path(&[fa, gb]).unwrap();
        for i in 0..10 {
            p.push_sample(i, if i % 2 == 0 { a } else { b }, if i < 7 { s1 } else { s2 }, 0);
        }
        let lines = lines(&p);
        assert_eq!(
            lines,
            [
                "process 1 (python x.py);thread MainThread (1);Class.method (/src/x.py:3) 4",
                "process 1 (python x.py);thread MainThread (1);Class.method (/src/x.py:3);dumps (/usr/lib/python3.12/json/__init__.py:231) 1",
                "process 2;thread wörker  odd (5);Class.method (/src/x.py:3) 3",
                "process 2;thread wörker  odd (5);Class.method (/src/x.py:3);dumps (/usr/lib/python3.12/json/__init__.py:231) 2",
            ]
        );
        let q = read(lines.join("\n").as_bytes(), "collapsed").unwrap();
        assert_eq!(super::lines(&q), lines);
    }

    #[test]
    fn one_thread_has_no_context_frame() {
        let p = read("main (a.py:1);f (a.py:2) 2\nmain (a.py:1) 1\n".as_bytes(), "collapsed").unwrap();
        assert_eq!(lines(&p), ["main (a.py:1) 1", "main (a.py:1);f (a.py:2) 2"]);
    }

    #[test]
    fn too_many_threads_is_an_error() {
        let text: String = (1..=65_537).map(|t| format!("tid:{t};a.py:f:1 1\n")).collect();
        let e = read(text.as_bytes(), "collapsed").unwrap_err().to_string();
        assert!(e.contains("65536 threads"), "{e}");
    }

    #[test]
    fn bad_lines_are_errors_with_line_numbers() {
        let e = read("main (a.py:1) 2\nthis line has no count\n".as_bytes(), "collapsed").unwrap_err().to_string();
        assert!(e.contains("line 2"), "{e}");
        assert!(read("".as_bytes(), "collapsed").unwrap_err().to_string().contains("no stacks"));
        assert!(read("a;b 99999999999\n".as_bytes(), "collapsed").is_err());
    }
}
