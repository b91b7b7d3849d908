//! speedscope's JSON file format (https://www.speedscope.app/file-format-schema.json).
//!
//! Reads sampled profiles (py-spy writes one per thread, named `Thread TID "NAME"`). Writes one
//! sampled profile per thread, in nanoseconds, where each sample weighs one sampling interval,
//! as py-spy's do: a sample stands for the time around it, and weighing it by the gap to the
//! thread's next sample would credit an idle stretch (no samples) to the stack before it.
//! Reading, a weight that is k times the profile's smallest counts as k samples (files that
//! merge repeated samples).

use super::collapsed::{parse_part, Builder, Part};
use crate::profile::model::*;
use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::io::Write;

pub const SCHEMA_URL: &str = "https://www.speedscope.app/file-format-schema.json";
/// The most samples one weighted sample may expand to.
const MAX_COUNT: f64 = 10_000_000.0;

#[derive(Serialize, Deserialize)]
struct File {
    #[serde(rename = "$schema")]
    schema: String,
    shared: Shared,
    profiles: Vec<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(rename = "activeProfileIndex", default, skip_serializing_if = "Option::is_none")]
    active_profile_index: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    exporter: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct Shared {
    frames: Vec<SFrame>,
}

#[derive(Serialize, Deserialize)]
struct SFrame {
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    line: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    col: Option<f64>,
}

#[derive(Serialize, Deserialize)]
struct Sampled {
    #[serde(rename = "type")]
    kind: String,
    name: String,
    unit: String,
    #[serde(rename = "startValue")]
    start_value: f64,
    #[serde(rename = "endValue")]
    end_value: f64,
    samples: Vec<Vec<usize>>,
    weights: Vec<f64>,
}

/// True when `text` (the start of a file) is speedscope JSON.
pub fn sniff(text: &str) -> bool {
    text.trim_start().starts_with('{') && text.contains("speedscope.app/file-format-schema")
}

fn unit_ns(unit: &str) -> Option<f64> {
    Some(match unit {
        "nanoseconds" => 1.0,
        "microseconds" => 1e3,
        "milliseconds" => 1e6,
        "seconds" => 1e9,
        _ => return None,
    })
}

/// `Thread 123 "name"` (py-spy, Ember) or `Process 7 Thread 123 "name"` (Ember, several
/// processes): (pid, tid, name).
fn parse_profile_name(s: &str) -> Option<(Option<u32>, u32, String)> {
    let (pid, rest) = match s.strip_prefix("Process ") {
        Some(r) => {
            let (pid, rest) = r.split_once(' ')?;
            (Some(pid.parse().ok()?), rest)
        }
        None => (None, s),
    };
    let rest = rest.strip_prefix("Thread ")?;
    let (tid, name) = match rest.split_once(' ') {
        Some((t, n)) => (t, n.trim().trim_matches('"').to_string()),
        None => (rest, String::new()),
    };
    Some((pid, tid.parse().ok()?, name))
}

pub fn read(bytes: &[u8]) -> anyhow::Result<Profile> {
    let file: File = serde_json::from_slice(bytes).context("not a valid speedscope file")?;
    let mut b = Builder::new("speedscope", 0);
    let frames: Vec<FrameId> = file
        .shared
        .frames
        .iter()
        .map(|f| b.frame(f.file.as_deref().unwrap_or(""), &f.name, f.line.map(|l| l.max(0.0) as u32).unwrap_or(0)))
        .collect();
    // py-spy (with --threads / --subprocesses) puts `thread (TID): NAME` and `process PID:"cmd"`
    // frames at the root of each stack: they name the thread, they are not code.
    enum Ctx {
        Thread(String),
        Process(u32, String),
    }
    let context: Vec<Option<Ctx>> = file
        .shared
        .frames
        .iter()
        .map(|f| match (f.file.as_deref(), parse_part(&f.name, true)) {
            (None | Some(""), Part::Thread { name, .. }) => Some(Ctx::Thread(name.to_string())),
            (None | Some(""), Part::Process { pid, cmdline }) => Some(Ctx::Process(pid, cmdline.to_string())),
            _ => None,
        })
        .collect();
    let mut timed = true;
    let mut stack = Vec::new();
    let mut max_end = 0.0f64;
    let mut interval = None;
    for (i, prof) in file.profiles.into_iter().enumerate() {
        match prof.get("type").and_then(|t| t.as_str()) {
            Some("sampled") => {}
            Some(other) => bail!(
                "profile {i} is {other:?}; Ember reads speedscope's \"sampled\" profiles (as py-spy writes them), not evented ones"
            ),
            None => bail!("profile {i} has no \"type\""),
        }
        let s: Sampled = serde_json::from_value(prof).with_context(|| format!("profile {i} is not a valid sampled profile"))?;
        if s.samples.len() != s.weights.len() {
            bail!("profile {i} has {} samples but {} weights", s.samples.len(), s.weights.len());
        }
        let Some(scale) = unit_ns(&s.unit) else {
            bail!("profile {i} is measured in {:?}; Ember reads time profiles (seconds, ms, µs, ns)", s.unit)
        };
        let (pid, tid, name) = parse_profile_name(&s.name).unwrap_or((None, 0, s.name.clone()));
        let raw = format!("{}:{tid}:{i}", pid.unwrap_or(0));
        let thread = b.thread(pid.unwrap_or(0), (tid != 0).then_some(tid), &raw, &name)?;
        if let Some(pid) = pid {
            b.process(pid, None, "");
        }
        let mut t = s.start_value * scale;
        let unit = s.weights.iter().copied().filter(|w| w.is_finite() && *w > 0.0).fold(f64::INFINITY, f64::min);
        if interval.is_none() && unit.is_finite() {
            interval = Some(unit * scale);
        }
        for (k, (sample, w)) in s.samples.iter().zip(&s.weights).enumerate() {
            stack.clear();
            let mut parent = None;
            for &f in sample {
                match (frames.get(f), context.get(f)) {
                    (Some(_), Some(Some(Ctx::Thread(name)))) if stack.is_empty() => {
                        if !name.is_empty() && b.p.threads[thread as usize].name.is_empty() {
                            b.p.threads[thread as usize].name = name.clone();
                        }
                    }
                    (Some(_), Some(Some(Ctx::Process(pid, cmdline)))) if stack.is_empty() => {
                        b.process(*pid, parent, cmdline);
                        parent = Some(*pid);
                    }
                    (Some(&fr), _) => stack.push(fr),
                    (None, _) => bail!("profile {i}, sample {k} refers to frame {f} but there are {} frames", frames.len()),
                }
            }
            if !w.is_finite() || *w < 0.0 {
                bail!("profile {i}, sample {k} has weight {w}");
            }
            // A zero weight still records the stack once (where it was seen), untimed.
            let count = if *w > 0.0 { (w / unit).round().max(1.0) } else { 1.0 };
            if count > MAX_COUNT {
                bail!("profile {i}, sample {k} has weight {w}, {count} times the smallest weight: Ember holds each sample and cannot hold that many");
            }
            for c in 0..count as u64 {
                b.add_timed(thread, &stack, (t + c as f64 * unit * scale).max(0.0) as u64, 0);
            }
            t += w * scale;
        }
        max_end = max_end.max(s.end_value * scale).max(t);
        if s.weights.contains(&0.0) {
            timed = false;
        }
    }
    let mut p = b.finish();
    p.meta.timed = timed && !p.samples.is_empty();
    p.meta.duration_ns = max_end.max(0.0) as u64;
    if let Some(iv) = interval {
        p.meta.interval_ns = iv.round() as u64;
        p.meta.rate_hz = Some(1e9 / iv);
    }
    if let Some(exp) = file.exporter {
        p.meta.source = format!("speedscope ({exp})");
    }
    Ok(p)
}

/// One thread's samples, serialized without materialising every stack.
struct SampledOut<'a> {
    name: String,
    start: f64,
    end: f64,
    idx: Vec<usize>,
    weights: Vec<f64>,
    p: &'a Profile,
    stacks: &'a HashMap<StackId, Vec<usize>>,
}

impl Serialize for SampledOut<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        struct Samples<'b>(&'b SampledOut<'b>);
        impl Serialize for Samples<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_seq(self.0.idx.iter().map(|&i| &self.0.stacks[&self.0.p.samples.stack[i]]))
            }
        }
        let mut m = s.serialize_map(Some(7))?;
        m.serialize_entry("type", "sampled")?;
        m.serialize_entry("name", &self.name)?;
        m.serialize_entry("unit", "nanoseconds")?;
        m.serialize_entry("startValue", &self.start)?;
        m.serialize_entry("endValue", &self.end)?;
        m.serialize_entry("samples", &Samples(self))?;
        m.serialize_entry("weights", &self.weights)?;
        m.end()
    }
}

/// Writes one sampled profile per thread that has samples.
pub fn write<W: Write>(p: &Profile, w: W) -> anyhow::Result<()> {
    let mut frame_index: HashMap<FrameId, usize> = HashMap::new();
    let mut frames: Vec<SFrame> = Vec::new();
    let mut per_thread: Vec<Vec<usize>> = vec![Vec::new(); p.threads.len()];
    for i in 0..p.samples.len() {
        per_thread[p.samples.thread[i] as usize].push(i);
    }
    // Frame indexes of each sampled stack, root first (speedscope's order).
    let mut stacks: HashMap<StackId, Vec<usize>> = HashMap::new();
    for &stack in &p.samples.stack {
        if stacks.contains_key(&stack) {
            continue;
        }
        let mut v: Vec<usize> = p
            .stack_frames(stack)
            .map(|f| {
                *frame_index.entry(f).or_insert_with(|| {
                    let fr = p.frames[f as usize];
                    let func = p.functions[fr.func as usize];
                    let file = p.str(func.file);
                    frames.push(SFrame {
                        name: p.str(func.name).to_string(),
                        file: (!file.is_empty()).then(|| file.to_string()),
                        line: (fr.line > 0).then_some(fr.line as f64),
                        col: None,
                    });
                    frames.len() - 1
                })
            })
            .collect();
        v.reverse();
        stacks.insert(stack, v);
    }
    let pids: std::collections::BTreeSet<u32> = p.threads.iter().map(|t| t.pid).collect();
    let interval = (p.sample_seconds() * 1e9).round().max(1.0);
    let mut profiles = Vec::new();
    for (t, mut idx) in per_thread.into_iter().enumerate() {
        if idx.is_empty() {
            continue;
        }
        idx.sort_by_key(|&i| p.samples.time_ns[i]);
        let th = &p.threads[t];
        let name = if pids.len() > 1 {
            format!("Process {} Thread {} \"{}\"", th.pid, th.tid, th.name)
        } else {
            format!("Thread {} \"{}\"", th.tid, th.name)
        };
        let weights = vec![interval; idx.len()];
        let start = if p.meta.timed { p.samples.time_ns[idx[0]] as f64 } else { 0.0 };
        let end = start + weights.iter().sum::<f64>();
        profiles.push(SampledOut { name, start, end, idx, weights, p, stacks: &stacks });
    }
    let mut m = serde_json::Serializer::new(w);
    {
        use serde::ser::SerializeMap;
        let mut map = serde::Serializer::serialize_map(&mut m, None)?;
        map.serialize_entry("$schema", SCHEMA_URL)?;
        map.serialize_entry("name", &match p.meta.command_line.is_empty() {
            true => "Ember profile".to_string(),
            false => p.meta.command_line.join(" "),
        })?;
        map.serialize_entry("exporter", &format!("ember@{}", env!("CARGO_PKG_VERSION")))?;
        map.serialize_entry("activeProfileIndex", &0)?;
        map.serialize_entry("shared", &Shared { frames })?;
        map.serialize_entry("profiles", &profiles)?;
        map.end()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each sample weighs one interval: a thread idle for seconds between two samples must not
    /// have that time credited to the stack sampled before the gap (speedscope sums weights).
    #[test]
    fn every_sample_weighs_one_interval_and_order_survives() {
        let mut p = Profile::new(Meta { timed: true, rate_hz: Some(1000.0), interval_ns: 1_000_000, ..Default::default() });
        let a = p.thread(1, 1, Some("MainThread"));
        let b = p.thread(1, 2, Some("worker"));
        let f = p.intern_function("/src/a.py", "main", 1);
        let g = p.intern_function("/src/a.py", "work", 10);
        let (fa, gb) = (p.intern_frame(f, 2), p.intern_frame(g, 12));
        let s1 = p.intern_stack_path(&[fa]).unwrap();
        let s2 = p.intern_stack_path(&[fa, gb]).unwrap();
        let mut t = 5_000_000u64;
        let mut expect_a = Vec::new();
        for i in 0..50u64 {
            // Ten seconds idle (no samples) after the 10th sample.
            t += if i == 10 { 10_000_000_000 } else { 1_000_000 };
            let st = if i % 3 == 0 { s2 } else { s1 };
            p.push_sample(t, a, st, 0);
            expect_a.push(st);
            if i % 2 == 0 {
                p.push_sample(t + 1_234, b, s2, 0);
            }
        }
        let mut buf = Vec::new();
        write(&p, &mut buf).unwrap();
        assert!(sniff(std::str::from_utf8(&buf[..200]).unwrap()));
        let json: serde_json::Value = serde_json::from_slice(&buf).unwrap();
        for prof in json["profiles"].as_array().unwrap() {
            assert!(prof["weights"].as_array().unwrap().iter().all(|w| w.as_f64() == Some(1_000_000.0)), "{prof}");
        }
        let q = read(&buf).unwrap();
        let stacks_of = |th: &str| -> Vec<Vec<String>> {
            let t = q.threads.iter().position(|x| x.name == th).unwrap() as ThreadIdx;
            (0..q.samples.len())
                .filter(|&i| q.samples.thread[i] == t)
                .map(|i| q.stack_frames(q.samples.stack[i]).map(|f| crate::profile::formats::collapsed::frame_label(&q, f)).collect())
                .collect()
        };
        let main = stacks_of("MainThread");
        assert_eq!(main.len(), 50, "one sample each, the gap credited to none");
        for (got, &want) in main.iter().zip(&expect_a) {
            assert_eq!(got.len(), p.stack_frames(want).count());
        }
        assert_eq!(main[0][0], "work (/src/a.py:12)");
        assert_eq!(stacks_of("worker").len(), 25);
        assert_eq!(q.threads.iter().map(|t| t.tid).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(q.meta.interval_ns, 1_000_000);
    }

    /// Files that merge repeated samples give them a multiple of the interval as weight.
    #[test]
    fn a_weight_of_k_intervals_counts_k_samples() {
        let text = r#"{"$schema":"https://www.speedscope.app/file-format-schema.json","shared":{"frames":[{"name":"a"},{"name":"b"}]},
            "profiles":[{"type":"sampled","name":"x","unit":"milliseconds","startValue":0,"endValue":6,"samples":[[0],[0,1]],"weights":[1,5]}]}"#;
        let q = read(text.as_bytes()).unwrap();
        assert_eq!(q.samples.len(), 6);
        assert_eq!(q.samples.time_ns, [0, 1_000_000, 2_000_000, 3_000_000, 4_000_000, 5_000_000]);
        assert_eq!(q.meta.interval_ns, 1_000_000);
        let huge = text.replace("[1,5]", "[1e-9,5e9]");
        let e = read(huge.as_bytes()).unwrap_err().to_string();
        assert!(e.contains("cannot hold"), "{e}");
    }

    #[test]
    fn evented_profiles_are_refused_clearly() {
        let text = r#"{"$schema":"https://www.speedscope.app/file-format-schema.json","shared":{"frames":[{"name":"a"}]},
            "profiles":[{"type":"evented","name":"x","unit":"none","startValue":0,"endValue":1,"events":[]}]}"#;
        let e = read(text.as_bytes()).unwrap_err().to_string();
        assert!(e.contains("evented"), "{e}");
    }
}
