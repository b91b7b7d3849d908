//! `perf script` text, folded by inferno's perf collapser, then read as collapsed stacks.
//! inferno's root frame `comm-PID/TID` becomes Ember's process and thread frames; frames from
//! CPython's perf trampoline (`python -X perf`), `py::func:file`, become Python frames.

use super::collapsed;
use crate::profile::model::Profile;
use anyhow::Context;
use inferno::collapse::perf::{Folder, Options};
use inferno::collapse::Collapse;

fn folder() -> Folder {
    let mut opt = Options::default();
    opt.include_tid = true;
    opt.nthreads = 1;
    Folder::from(opt)
}

/// True when inferno's perf collapser recognises the text (an event line then stack lines).
pub fn sniff(text: &str) -> bool {
    folder().is_applicable(text) == Some(true)
}

pub fn read(bytes: &[u8]) -> anyhow::Result<Profile> {
    let text = String::from_utf8_lossy(bytes);
    let (events, periods) = without_periods(&text);
    let mut folded = Vec::new();
    folder().collapse(events.as_bytes(), &mut folded).context("inferno could not fold this perf script output")?;
    let folded = String::from_utf8_lossy(&folded);
    let mut text = String::with_capacity(folded.len() + folded.len() / 8);
    for line in folded.lines() {
        let (root, rest) = line.split_once(';').unwrap_or((line, ""));
        match split_root(root) {
            Some((comm, pid, tid)) => {
                text.push_str(&format!("process {pid};thread {comm} ({tid})"));
                if !rest.is_empty() {
                    text.push(';');
                    text.push_str(rest);
                }
            }
            None => text.push_str(line),
        }
        text.push('\n');
    }
    if text.trim().is_empty() {
        anyhow::bail!("the perf script output holds no samples with call stacks (record with `perf record -g`)");
    }
    let mut p = collapsed::read(text.as_bytes(), "perf")?;
    // A stack that is only the process/thread root frame has no frames: collapsed::read skips it.
    p.meta.source = "perf".into();
    // cpu-clock and task-clock periods are nanoseconds: the typical one is the sampling interval.
    if let Some(ns) = periods.typical_clock_ns() {
        p.meta.interval_ns = ns;
        p.meta.rate_hz = Some(1e9 / ns as f64);
        let n = p.samples.len() as u64;
        for (i, t) in p.samples.time_ns.iter_mut().enumerate() {
            *t = i as u64 * ns;
        }
        p.meta.duration_ns = n * ns;
    }
    Ok(p)
}

#[derive(Default)]
struct Periods {
    clock: Vec<u64>,
}

impl Periods {
    fn typical_clock_ns(&self) -> Option<u64> {
        let mut v = self.clock.clone();
        v.sort_unstable();
        v.get(v.len() / 2).copied().filter(|&ns| ns > 0)
    }
}

/// inferno weighs each event by its period (cycles, or ns for cpu-clock); Ember counts samples.
/// Drops the period from event lines (`comm PID/TID [CPU] TIME: PERIOD EVENT:`) so each event
/// counts once, and keeps the clock periods to recover the sampling interval.
fn without_periods(text: &str) -> (String, Periods) {
    let mut out = String::with_capacity(text.len());
    let mut periods = Periods::default();
    for line in text.lines() {
        if let Some((head, period, event)) = split_event(line) {
            if event.starts_with("cpu-clock") || event.starts_with("task-clock") {
                periods.clock.push(period);
            }
            out.push_str(head);
            out.push(' ');
            out.push_str(event);
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    (out, periods)
}

/// An event line split around its period: (`... TIME:`, period, `EVENT: ...`).
fn split_event(line: &str) -> Option<(&str, u64, &str)> {
    if line.starts_with(char::is_whitespace) || line.is_empty() {
        return None;
    }
    let mut from = 0;
    while let Some(i) = line[from..].find(':') {
        let colon = from + i;
        let rest = &line[colon + 1..];
        let trimmed = rest.trim_start();
        let digits = trimmed.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && rest.len() > trimmed.len() && trimmed[digits..].starts_with(' ') {
            let event = trimmed[digits..].trim_start();
            if !event.is_empty() {
                return Some((&line[..=colon], trimmed[..digits].parse().ok()?, event));
            }
        }
        from = colon + 1;
    }
    None
}

/// `comm-PID/TID` (inferno's root frame with include_tid) → (comm, pid, tid).
fn split_root(root: &str) -> Option<(&str, u32, u32)> {
    let (comm, ids) = root.rsplit_once('-')?;
    let (pid, tid) = ids.split_once('/')?;
    let tid: u32 = tid.parse().ok()?;
    let pid: u32 = pid.parse().unwrap_or(tid);
    Some((comm, pid, tid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_periods_from_event_lines() {
        let line = "python3.12 4242/4250 [000] 81234.500400:    1000000 cpu-clock:ppp: ";
        assert_eq!(split_event(line), Some(("python3.12 4242/4250 [000] 81234.500400:", 1_000_000, "cpu-clock:ppp: ")));
        assert_eq!(split_event("\t    7f3c1a2b1100 f+0x1 (/lib/x.so)"), None);
        let (text, periods) = without_periods(&format!("{line}\n\t    7f f+0x1 (/x)\n\n"));
        assert!(text.starts_with("python3.12 4242/4250 [000] 81234.500400: cpu-clock:ppp:"), "{text}");
        assert_eq!(periods.typical_clock_ns(), Some(1_000_000));
    }

    #[test]
    fn splits_inferno_root_frames() {
        assert_eq!(split_root("python3-100/101"), Some(("python3", 100, 101)));
        assert_eq!(split_root("my-prog-7/7"), Some(("my-prog", 7, 7)));
        assert_eq!(split_root("python3-?/12"), Some(("python3", 12, 12)));
        assert_eq!(split_root("python3"), None);
    }
}
