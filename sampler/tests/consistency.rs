//! The adversarial workload (hot_a 20 deep then leaf_a, hot_b 20 deep then leaf_b): without
//! pausing the target fewer than 0.1% of kept samples may be impossible (hot_a with leaf_b, or
//! hot_a and hot_b mixed) and short calls keep their weight; with `blocking`, none may be.

mod common;
use common::*;
use ember_sampler::{Config, Event, Rate, Session, Target};
use std::time::Duration;

pub struct Counts {
    pub samples: u64,
    pub impossible: u64,
    pub torn: u64,
    /// Samples whose innermost frame is leaf_a or leaf_b.
    pub in_leaf: u64,
    /// Samples with at least 6 hot_a or hot_b frames.
    pub deep: u64,
    /// The fewest hot_a or hot_b frames of a sample in a leaf.
    pub leaf_min_hot: u32,
    /// The most common innermost frames (name:line, depth), for failure messages.
    pub top: Vec<(String, u64)>,
}

/// Held by the tests that sample at `--rate max`: two of them at once keep four processes busy
/// on this machine's two cores, and what they then measure is the contention (a run had 3.11
/// at 0.107% impossible while the other ran beside it; alone, 0–0.003%).
static MAX_RATE: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn run(py: &std::path::Path, secs: f64, rate: Rate) -> Counts {
    run_with(py, "adversarial.py", Config { rate, duration: Some(Duration::from_secs_f64(secs)), ..Config::default() }, |_| {})
}

/// Runs `program` (adversarial.py or another with its names and first argument) under
/// `config`; `after` sees the target's PID once sampling ended, while the target still runs.
fn run_with(py: &std::path::Path, program: &str, config: Config, after: impl FnOnce(u32)) -> Counts {
    let secs = config.duration.unwrap().as_secs_f64();
    // Long enough to outlive a slow start on loaded cores (killed once sampled, below).
    let child = std::process::Command::new(py).arg(workload(program)).arg(format!("{}", secs + 30.0)).spawn().unwrap();
    let pid = child.id();
    let spawned = std::time::Instant::now();
    let session = Session::start(Target::Child(child), config)
        .unwrap_or_else(|e| panic!("{}: {e} ({:.1?} after spawn)", py.display(), spawned.elapsed()));
    let mut c = Counts { samples: 0, impossible: 0, torn: 0, in_leaf: 0, deep: 0, leaf_min_hot: u32::MAX, top: Vec::new() };
    let mut tops: std::collections::HashMap<String, u64> = Default::default();
    let mut names: Vec<Option<u8>> = Vec::new(); // frame id → 1 hot_a, 2 hot_b, 3 leaf_a, 4 leaf_b
    for ev in session.events.iter() {
        if let Event::Samples(batch) = ev {
            for (_, frames) in batch.iter() {
                let (mut a, mut b, mut la, mut lb) = (false, false, false, false);
                let mut leaf = false;
                let mut hot = 0;
                for &f in frames {
                    let i = f as usize;
                    if i >= names.len() {
                        names.resize(i + 1, None);
                    }
                    let k = *names[i].get_or_insert_with(|| match &*session.frames.get(f).unwrap().qualname {
                        "hot_a" => 1,
                        "hot_b" => 2,
                        "leaf_a" => 3,
                        "leaf_b" => 4,
                        _ => 0,
                    });
                    leaf = k == 3 || k == 4;
                    hot += (k == 1 || k == 2) as u32;
                    match k {
                        1 => a = true,
                        2 => b = true,
                        3 => la = true,
                        4 => lb = true,
                        _ => {}
                    }
                }
                c.samples += 1;
                c.in_leaf += leaf as u64;
                c.deep += (hot >= 6) as u64;
                if leaf {
                    c.leaf_min_hot = c.leaf_min_hot.min(hot);
                }
                if let Some(&f) = frames.last() {
                    let i = session.frames.get(f).unwrap();
                    *tops.entry(format!("{}:{} depth {}", i.qualname, i.line, frames.len())).or_default() += 1;
                }
                // Impossible: any frame of the `a` side with any of the `b` side.
                if (a || la) && (b || lb) {
                    c.impossible += 1;
                    if c.impossible <= 3 {
                        let names: Vec<String> = frames.iter().map(|&f| { let i = session.frames.get(f).unwrap(); format!("{}:{}", i.qualname, i.line) }).collect();
                        eprintln!("impossible: {}", names.join(";"));
                    }
                }
            }
            session.recycle(batch);
        }
    }
    c.torn = session.stats.snapshot().torn;
    let mut tops: Vec<(String, u64)> = tops.into_iter().collect();
    tops.sort_by_key(|t| std::cmp::Reverse(t.1));
    tops.truncate(5);
    c.top = tops;
    after(pid);
    // Done with it: a workload left running would share the cores with the next version's.
    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), nix::sys::signal::Signal::SIGKILL);
    c
}

#[test]
fn adversarial_workload_has_almost_no_impossible_stacks() {
    let _alone = MAX_RATE.lock().unwrap_or_else(|e| e.into_inner());
    for (label, py) in pythons() {
        // ≤3.10 keeps frames on the heap and the workload recycles them every microsecond:
        // most reads are dropped as torn, so those run longer to count enough samples.
        let secs = if ["3.8", "3.9", "3.10"].contains(&label.as_str()) { 4.0 } else { 2.0 };
        let c = run(&py, secs, Rate::Max);
        let pct = 100.0 * c.impossible as f64 / c.samples.max(1) as f64;
        eprintln!("{label}: {} samples, {} impossible ({pct:.4}%), {} torn dropped", c.samples, c.impossible, c.torn);
        assert!(c.samples > 1_000, "{label}: only {} samples", c.samples);
        assert!(pct < 0.1, "{label}: {pct:.3}% impossible stacks");
    }
}

/// The same alternation with a C call between every two Python frames (through_c.py): each
/// level's eval loop publishes its C-level frame before it fills it in (3.11/3.12), and starts
/// and ends with its entry frame on top (3.12+), where what the thread state names is stale:
/// 3.12 kept 0.6% impossible stacks before such tops were taken as torn. Stopped, none may be
/// impossible and hardly any dropped (`Frozen::nudge`).
#[test]
fn calls_through_c_keep_stacks_whole() {
    let _alone = MAX_RATE.lock().unwrap_or_else(|e| e.into_inner());
    for (label, py) in pythons() {
        let c = run_with(&py, "through_c.py", Config { rate: Rate::Max, duration: Some(Duration::from_secs(2)), ..Config::default() }, |_| {});
        let pct = 100.0 * c.impossible as f64 / c.samples.max(1) as f64;
        eprintln!("{label} through C: {} samples, {} impossible ({pct:.4}%), {} torn", c.samples, c.impossible, c.torn);
        // ≤3.10 drops most reads of this workload as torn (frames on the heap), keeping few.
        if !["3.8", "3.9", "3.10"].contains(&label.as_str()) {
            assert!(c.samples > 1_000, "{label}: only {} samples", c.samples);
        }
        assert!(c.impossible * 1000 <= c.samples, "{label}: {pct:.3}% impossible stacks");
        let config = Config { rate: Rate::Max, duration: Some(Duration::from_millis(1500)), blocking: true, ..Config::default() };
        let c = run_with(&py, "through_c.py", config, |_| {});
        eprintln!("{label} through C, blocking: {} samples, {} impossible, {} torn", c.samples, c.impossible, c.torn);
        // Pausing is slow when the cores are shared with the tests at 1 kHz: 689 to 14,000.
        assert!(c.samples > 300, "{label}: only {} samples", c.samples);
        assert_eq!(c.impossible, 0, "{label}");
        assert!(c.torn * 1000 <= c.samples, "{label}: {} dropped from a stopped target", c.torn);
    }
}

/// Runs `program` for 2 s at 1 kHz and checks what every such run must show (over 1,000
/// samples, at most 0.1% impossible); returns the counts, the % of samples with 6+ hot frames
/// and the % of reads dropped.
fn whole_at_1khz(label: &str, py: &std::path::Path, program: &str) -> (Counts, f64, f64) {
    let config = Config { rate: Rate::Hz(1000.0), duration: Some(Duration::from_secs(2)), ..Config::default() };
    let c = run_with(py, program, config, |_| {});
    let deep = 100.0 * c.deep as f64 / c.samples.max(1) as f64;
    let dropped = 100.0 * c.torn as f64 / (c.samples + c.torn).max(1) as f64;
    eprintln!("{label} {program} @1kHz: {} samples, {deep:.1}% with 6+ hot frames, {dropped:.2}% dropped, fewest hot frames under a leaf {}", c.samples, c.leaf_min_hot);
    assert!(c.samples > 1_000, "{label}: {} samples", c.samples);
    assert!(c.impossible * 1000 <= c.samples, "{label}: {} impossible", c.impossible);
    (c, deep, dropped)
}

/// Samples of code calling back through C must land at every depth as often as the target
/// spends there. through_c.py spends about as long at each of its 11 levels: pausing the target
/// (`--blocking`, py-spy) finds 45–48% of samples with 6 or more hot frames. An earlier Ember
/// found 1% on 3.12, 4% on 3.13 and 25–29% on 3.14/3.15: a read whose top had returned in the
/// microsecond before the copy was retried until it met a frame that lives longer (a shallow
/// one), and entry frames, read after the chunk, showed their stack slots reused.
#[test]
fn calls_through_c_are_sampled_at_every_depth() {
    for (label, py) in pythons() {
        if ["3.8", "3.9", "3.10"].contains(&label.as_str()) {
            continue; // most reads of this workload are torn there (frames on the heap)
        }
        let (c, deep, dropped) = whole_at_1khz(&label, &py, "through_c.py");
        assert!(dropped < 5.0, "{label}: {dropped:.2}% dropped");
        assert!((35.0..65.0).contains(&deep), "{label}: {deep:.1}% of samples 6+ deep, expected about 47%; most common stacks: {:?}", c.top);
    }
}

/// Stacks 50 to 400 deep, each crossing frame-chunk boundaries as it grows and unwinds (3.11+
/// frees a chunk the stack leaves and maps a new one as it grows again). Reads that guessed
/// the chunk from the last sample missed it, and older chunks were learned one per attempt:
/// 13–30% of samples were dropped, all from the moments the stack moved.
#[test]
fn stacks_across_chunks_are_kept() {
    for (label, py) in pythons() {
        if ["3.8", "3.9", "3.10"].contains(&label.as_str()) {
            continue; // no chunks: frames are heap objects there
        }
        let (c, deep, dropped) = whole_at_1khz(&label, &py, "chunks.py");
        // Measured: 11–55% before older chunks were read whole; then 1–17% (Debian's 3.11
        // 11–27%) with a retry budget of a tenth of the period; 0–3% (one 7.7%) with a quarter.
        assert!(dropped < 12.0, "{label}: {dropped:.2}% dropped");
        // A leaf is only called 51 or more frames deep: a stack cut at a chunk boundary would
        // show here.
        assert!(c.leaf_min_hot >= 51, "{label}: a leaf under only {} hot frames", c.leaf_min_hot);
        // Paused (`--blocking`), 97.4% of samples are 6+ deep; the rest are main's loop.
        assert!(deep > 90.0, "{label}: {deep:.1}% of samples 6+ deep; most common stacks: {:?}", c.top);
    }
}

/// At 1 kHz the sampler mostly sleeps and the target runs undisturbed on its own core: the
/// case where a read overlaps the most target activity. Few samples may be dropped, none wrong.
#[test]
fn adversarial_workload_at_1khz_keeps_nearly_every_sample() {
    for label in ["3.11", "3.15"] {
        let Some(py) = python(label) else { continue };
        let c = run(&py, 2.0, Rate::Hz(1000.0));
        let dropped = 100.0 * c.torn as f64 / (c.samples + c.torn).max(1) as f64;
        eprintln!("{label} @1kHz: {} samples, {} impossible, {dropped:.2}% dropped", c.samples, c.impossible);
        assert!(c.samples > 1_000, "{label}: {} samples", c.samples);
        assert!(c.impossible * 1000 < c.samples, "{label}: {} impossible", c.impossible);
        assert!(dropped < 15.0, "{label}: {dropped:.2}% dropped");
    }
}

/// Samples must not favour some moments over others. The leaves are short calls (a 20-step
/// loop) entered 2 million times a second; py-spy pausing the target finds them in about a
/// third of the samples here. A sampler that drops reads overlapping a call, or reads the
/// current frame after the stack has moved on, sees almost none (an earlier Ember: 0.1% on
/// 3.11). ≤3.10 is not held to this yet: most of its reads of this workload are torn.
#[test]
fn short_calls_are_not_undercounted() {
    for (label, py) in pythons() {
        if ["3.8", "3.9", "3.10"].contains(&label.as_str()) {
            continue;
        }
        let c = run(&py, 2.0, Rate::Hz(1000.0));
        let share = 100.0 * c.in_leaf as f64 / c.samples.max(1) as f64;
        eprintln!("{label} @1kHz: {} samples, {share:.1}% in a leaf", c.samples);
        assert!(c.samples > 1_000, "{label}: {} samples", c.samples);
        assert!((15.0..60.0).contains(&share), "{label}: {share:.1}% of samples in a leaf, expected about a third");
    }
}

/// `--blocking` stops the target for each read: every version, however fast its stack changes
/// (≤3.10 drops nearly every non-blocking read of this workload), gets every sample, none
/// impossible, short calls at their weight (py-spy pausing: ~25% on 3.10, ~34% on 3.11); and
/// the target runs on untraced afterwards.
#[test]
fn blocking_reads_are_exact_on_every_version() {
    for (label, py) in pythons() {
        let config = Config { rate: Rate::Hz(1000.0), duration: Some(Duration::from_secs_f64(1.5)), blocking: true, ..Config::default() };
        let c = run_with(&py, "adversarial.py", config, |pid| {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
            let field = |k: &str| status.lines().find(|l| l.starts_with(k)).unwrap().split_whitespace().nth(1).unwrap().to_string();
            assert_eq!(field("TracerPid:"), "0", "{label}: still traced after the session");
            assert!(["R", "S"].contains(&field("State:").as_str()), "{label}: left in state {}", field("State:"));
        });
        let share = 100.0 * c.in_leaf as f64 / c.samples.max(1) as f64;
        eprintln!("{label} blocking @1kHz: {} samples, {} impossible, {} torn, {share:.1}% in a leaf", c.samples, c.impossible, c.torn);
        // 1,500 passes; each waits for the target to stop, longer when the cores are busy with
        // the other tests' workloads.
        assert!(c.samples > 600, "{label}: {} samples", c.samples);
        assert_eq!(c.impossible, 0, "{label}");
        // A stopped target cannot tear; the odd read at interpreter start-up (code objects
        // still being built) may still fail its sanity checks.
        assert!(c.torn * 100 < c.samples, "{label}: {} torn", c.torn);
        assert!((15.0..50.0).contains(&share), "{label}: {share:.1}% of samples in a leaf; most common stacks: {:?}", c.top);
    }
}
