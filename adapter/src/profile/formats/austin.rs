//! Austin's text format (Austin 3+, or `mojo2austin` for Austin 4's binary MOJO files):
//! `# key: value` metadata lines, then one line per sample,
//! `P<pid>;T<iid>:<tid>;<file>:<function>:<line>;... <metric>`, root first, where the metric is
//! the sample's wall (or CPU) time in microseconds (`time,+mem,-mem` in full mode).

use super::collapsed::{parse_part, Builder, Part};
use crate::profile::model::*;
use anyhow::{bail, Context};
use std::io::BufRead;

/// True when the text is Austin output: its metadata header, or a first sample line.
pub fn sniff(text: &str) -> bool {
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    first.starts_with("# austin:") || (first.starts_with('P') && first.contains(";T") && first[1..].starts_with(|c: char| c.is_ascii_digit()))
}

pub fn read<R: BufRead>(r: R) -> anyhow::Result<Profile> {
    let mut header: Vec<(String, String)> = Vec::new();
    let mut lines: Vec<(usize, String)> = Vec::new();
    for (n, line) in r.lines().enumerate() {
        let line = line.with_context(|| format!("line {}: not UTF-8 text", n + 1))?;
        if let Some(meta) = line.strip_prefix("# ") {
            if let Some((k, v)) = meta.split_once(": ") {
                header.push((k.trim().to_string(), v.trim().to_string()));
            }
        } else if !line.trim().is_empty() {
            lines.push((n + 1, line));
        }
    }
    let get = |k: &str| header.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    let mode = get("mode").unwrap_or("wall");
    let flags = match mode {
        "wall" => 0,
        "cpu" => FLAG_RUNNING,
        "full" => 0,
        "memory" => bail!("this is an Austin memory profile (mode: memory); Ember reads time profiles (Austin's wall, cpu or full mode)"),
        other => bail!("unknown Austin mode {other:?}"),
    };
    let interval_us: u64 = get("interval").and_then(|v| v.parse().ok()).unwrap_or(100);
    let mut b = Builder::new("austin", interval_us * 1000);
    if let Some(v) = get("python") {
        b.p.meta.python_version = Some(v.to_string());
    }
    // Per-thread clocks: each sample's metric is the time it stands for.
    let mut clocks: std::collections::HashMap<ThreadIdx, u64> = Default::default();
    let mut frames = Vec::new();
    let mut max_t = 0;
    for (n, line) in &lines {
        let Some((stack, metric)) = line.rsplit_once(' ') else {
            bail!("line {n}: expected `P<pid>;T<iid>:<tid>;frames... <metric>`");
        };
        let micros: u64 = metric
            .split(',')
            .next()
            .and_then(|m| m.parse().ok())
            .with_context(|| format!("line {n}: the metric {metric:?} is not a number"))?;
        let mut parts = stack.split(';');
        let pid: u32 = parts
            .next()
            .and_then(|p| p.strip_prefix('P'))
            .and_then(|p| p.parse().ok())
            .with_context(|| format!("line {n}: expected `P<pid>` first"))?;
        let thread_part = parts.next().and_then(|t| t.strip_prefix('T')).with_context(|| format!("line {n}: expected `T<iid>:<tid>` second"))?;
        let tid_text = thread_part.rsplit(':').next().unwrap_or(thread_part);
        let tid = tid_text.parse::<u32>().ok();
        let thread = b.thread(pid, tid, thread_part, "")?;
        b.process(pid, None, "");
        frames.clear();
        for part in parts {
            match parse_part(part, false) {
                Part::Frame { name, file, line } => frames.push(b.frame(file, name, line)),
                _ => frames.push(b.frame("", part, 0)),
            }
        }
        let clock = clocks.entry(thread).or_insert(0);
        let t = *clock;
        *clock += micros * 1000;
        max_t = max_t.max(*clock);
        // Lines with no frames are idle threads: no stack to count.
        b.add_timed(thread, &frames, t, flags);
    }
    if lines.is_empty() {
        bail!("no samples found (expected lines of `P<pid>;T<iid>:<tid>;frames... <metric>`)");
    }
    let mut p = b.finish();
    p.meta.timed = true;
    p.meta.duration_ns = get("duration").and_then(|d| d.parse::<u64>().ok()).map(|us| us * 1000).unwrap_or(max_t);
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_samples_with_times_and_threads() {
        let text = "# austin: 4.0.0\n# interval: 1000\n# mode: cpu\n# python: 3.12.1\n\n\
                    P7;T0:7 12\n\
                    P7;T0:7;/tmp/w.py:<module>:29;/tmp/w.py:main:26 1066\n\
                    P7;T0:9;/tmp/w.py:Worker.run:19 1500\n\
                    P7;T0:7;/tmp/w.py:<module>:29;/tmp/w.py:main:25 1000\n\
                    # duration: 1571964\n";
        let p = read(text.as_bytes()).unwrap();
        assert_eq!(p.samples.len(), 3);
        assert_eq!(p.threads.len(), 2);
        assert_eq!(p.threads[0].tid, 7);
        assert_eq!(p.meta.python_version.as_deref(), Some("3.12.1"));
        assert!(p.meta.timed);
        // Thread 7's clock: 12 µs (idle line) then 1066 µs before its third line.
        assert_eq!(p.samples.time_ns, [12_000, 0, 1_078_000]);
        assert!(p.samples.flags.iter().all(|&f| f == FLAG_RUNNING));
        assert_eq!(p.meta.duration_ns, 1_571_964_000);
        let fr = p.frames[p.stack_frames(p.samples.stack[1]).next().unwrap() as usize];
        assert_eq!((p.str(p.functions[fr.func as usize].name), fr.line), ("Worker.run", 19));
    }

    #[test]
    fn memory_mode_is_refused() {
        let e = read("# austin: 3.6\n# mode: memory\nP1;T0:1;a.py:f:1 100\n".as_bytes()).unwrap_err();
        assert!(e.to_string().contains("memory"));
    }
}
