//! End-to-end tests of `ember convert` and `ember diff`, driving the real binary on real files
//! recorded by py-spy 0.4.3, CPython 3.15's profiling.sampling and Austin 4 (tests/fixtures/
//! profiles/), a hand-written `perf script` sample, and Ember's own outputs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn ember(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ember")).args(args).output().expect("run ember")
}

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/profiles").join(name).to_string_lossy().into_owned()
}

fn ok(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "ember failed: {stderr}");
    stderr
}

fn fail(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "ember should have failed: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

fn convert(input: &str, out: &Path) -> String {
    ok(&ember(&["convert", input, "-o", out.to_str().unwrap()]))
}

/// Collapsed lines as (stack, count), summed per stack.
fn collapsed(path: &Path) -> Vec<(String, u64)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut v: Vec<(String, u64)> = text
        .lines()
        .map(|l| {
            let (s, c) = l.rsplit_once(' ').expect("stack COUNT");
            (s.to_string(), c.parse().expect("count"))
        })
        .collect();
    v.sort();
    v
}

fn total(lines: &[(String, u64)]) -> u64 {
    lines.iter().map(|(_, c)| c).sum()
}

struct Dir(tempfile::TempDir);
impl Dir {
    fn new() -> Dir {
        Dir(tempfile::tempdir().unwrap())
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }
}

#[test]
fn pyspy_raw_collapsed_keeps_counts_and_frames() {
    let d = Dir::new();
    let out = d.path("out.txt");
    let msg = convert(&fixture("pyspy-raw.txt"), &out);
    assert!(msg.contains("308 samples"), "{msg}");
    let lines = collapsed(&out);
    // py-spy's own file sums to the same count (its empty-stack line aside, which has no frames).
    let src = std::fs::read_to_string(fixture("pyspy-raw.txt")).unwrap();
    let src_total: u64 = src.lines().filter(|l| !l.starts_with(' ')).map(|l| l.rsplit_once(' ').unwrap().1.parse::<u64>().unwrap()).sum();
    assert_eq!(total(&lines), src_total);
    assert!(lines.iter().any(|(s, c)| s == "<module> (work.py:29);main (work.py:26);hot_a (work.py:12);hot_a (work.py:12);hot_a (work.py:12);hot_a (work.py:12);hot_a (work.py:12);hot_a (work.py:11);leaf_a (work.py:5)" && *c == 82), "{lines:?}");
}

#[test]
fn pyspy_threads_and_subprocesses_become_ember_context_frames() {
    let d = Dir::new();
    let out = d.path("threads.txt");
    convert(&fixture("pyspy-raw-threads.txt"), &out);
    let lines = collapsed(&out);
    assert!(lines.iter().all(|(s, _)| s.starts_with("thread MainThread (31223);") || s.starts_with("thread worker (31228);")), "{lines:?}");
    assert!(lines.iter().any(|(s, _)| s.starts_with("thread worker (31228);Thread._bootstrap (threading.py:1030)")));
    let out = d.path("sub.txt");
    convert(&fixture("pyspy-raw-subprocesses.txt"), &out);
    let lines = collapsed(&out);
    assert!(lines.iter().all(|(s, _)| s.starts_with("process ")), "{lines:?}");
    let pids: std::collections::BTreeSet<&str> = lines.iter().map(|(s, _)| s.split(' ').nth(1).unwrap()).collect();
    assert!(pids.len() >= 3, "parent and pool workers: {pids:?}");
    assert!(lines.iter().any(|(s, _)| s.starts_with("process 31245 (/root/.pyenv/versions/3.12.1/bin/python3 /tmp/multi.py);thread MainThread (31245);")));
}

#[test]
fn cpython_315_collapsed_output() {
    let d = Dir::new();
    let out = d.path("out.txt");
    let msg = convert(&fixture("cpython315.collapsed"), &out);
    assert!(msg.contains("3260 samples") && msg.contains("2 threads"), "{msg}");
    let lines = collapsed(&out);
    assert!(lines.contains(&(
        "thread (31842);Thread._bootstrap (threading.py:1181);Thread._bootstrap_inner (threading.py:1219);Thread.run (threading.py:1161);Worker.run (work_long.py:19)".to_string(),
        1378
    )), "{lines:?}");
}

#[test]
fn pyspy_speedscope_with_real_weights() {
    let d = Dir::new();
    let out = d.path("out.txt");
    let msg = convert(&fixture("pyspy.speedscope.json"), &out);
    let lines = collapsed(&out);
    // py-spy's thread frames become Ember's thread frame, named from them.
    assert!(lines.iter().all(|(s, _)| s.starts_with("thread MainThread (31256);") || s.starts_with("thread worker (31259);")), "{lines:?}");
    let n: u64 = msg.split(' ').nth(2).unwrap().parse().unwrap();
    assert_eq!(total(&lines), n);
    // 278 + 20 samples in py-spy's file, minus the one whose only frame was the thread frame.
    assert_eq!(n, 297);
    // Round trip through Ember's speedscope: the same stacks, threads and counts.
    let ss = d.path("again.speedscope.json");
    convert(out.to_str().unwrap(), &ss);
    let back = d.path("back.txt");
    convert(ss.to_str().unwrap(), &back);
    assert_eq!(collapsed(&back), lines);
}

#[test]
fn perf_script_through_inferno() {
    let d = Dir::new();
    let out = d.path("out.txt");
    let msg = convert(&fixture("perf-script.txt"), &out);
    assert!(msg.contains("16 samples") && msg.contains("2 threads"), "{msg}");
    let lines = collapsed(&out);
    assert_eq!(total(&lines), 16);
    // Python frames from CPython's perf trampoline keep their file.
    assert!(lines.iter().any(|(s, c)| s.starts_with("thread python3.12 (4250);__clone3;start_thread;thread_run;Thread.run (/tmp/work.py);_PyEval_EvalFrameDefault;Worker.run (/tmp/work.py)") && *c == 4), "{lines:?}");
    assert!(lines.iter().any(|(s, _)| s.ends_with("hot_a (/tmp/work.py);_PyEval_EvalFrameDefault;leaf_a (/tmp/work.py);_PyEval_EvalFrameDefault")));
}

#[test]
fn austin_text() {
    let d = Dir::new();
    let out = d.path("out.ember");
    let msg = convert(&fixture("austin4.txt"), &out);
    assert!(msg.contains("300 samples"), "{msg}");
    let txt = d.path("out.txt");
    convert(out.to_str().unwrap(), &txt);
    let lines = collapsed(&txt);
    assert_eq!(total(&lines), 300);
    assert!(lines.iter().any(|(s, _)| s.contains("<module> (/tmp/work.py:29);main (/tmp/work.py:26);hot_a (/tmp/work.py:12)")), "{lines:?}");
}

#[test]
fn every_output_format_is_written_and_ember_round_trips() {
    let d = Dir::new();
    let input = fixture("pyspy-raw-subprocesses.txt");
    let txt = d.path("a.txt");
    convert(&input, &txt);
    // .ember keeps everything: collapsed output from it is identical.
    let ember_file = d.path("a.ember");
    convert(&input, &ember_file);
    let again = d.path("b.txt");
    convert(ember_file.to_str().unwrap(), &again);
    assert_eq!(std::fs::read(&txt).unwrap(), std::fs::read(&again).unwrap());
    // SVG: an inferno flamegraph naming our frames.
    let svg = d.path("a.svg");
    convert(&input, &svg);
    let s = std::fs::read_to_string(&svg).unwrap();
    assert!(s.starts_with("<?xml") && s.contains("<svg") && s.contains("Pool._repopulate_pool") && s.trim_end().ends_with("</svg>"));
    // pprof: gzip magic; decoded in tests/python with an independent protobuf implementation.
    let pb = d.path("a.pb.gz");
    convert(&input, &pb);
    assert_eq!(&std::fs::read(&pb).unwrap()[..2], &[0x1f, 0x8b]);
    // --format overrides the extension.
    let forced = d.path("forced.out");
    ok(&ember(&["convert", &input, "-o", forced.to_str().unwrap(), "--format", "speedscope"]));
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&forced).unwrap()).unwrap();
    assert_eq!(json["$schema"], "https://www.speedscope.app/file-format-schema.json");
    assert_eq!(json["profiles"].as_array().unwrap().len(), 5);
    // py-spy's format names work too: `flamegraph` is SVG, `raw` collapsed stacks.
    let fg = d.path("pyspy-flamegraph.out");
    ok(&ember(&["convert", &input, "-o", fg.to_str().unwrap(), "-f", "flamegraph"]));
    assert!(std::fs::read_to_string(&fg).unwrap().contains("<svg"));
    let raw = d.path("pyspy-raw.out");
    ok(&ember(&["convert", &input, "-o", raw.to_str().unwrap(), "--format", "raw"]));
    let line = std::fs::read_to_string(&raw).unwrap().lines().next().unwrap().to_string();
    assert!(line.contains(';') && line.rsplit(' ').next().unwrap().parse::<u64>().is_ok(), "{line}");
}

#[test]
fn bad_inputs_get_clear_errors_and_leave_outputs_alone() {
    let d = Dir::new();
    let out = d.path("keep.txt");
    std::fs::write(&out, "precious 1\n").unwrap();
    let garbage = d.path("garbage.bin");
    std::fs::write(&garbage, [0u8, 159, 146, 150, 7, 7]).unwrap();
    let e = fail(&ember(&["convert", garbage.to_str().unwrap(), "-o", out.to_str().unwrap()]));
    assert!(e.contains("garbage.bin") && e.contains("supported inputs") && e.contains("speedscope"), "{e}");
    let empty = d.path("empty.txt");
    std::fs::write(&empty, "").unwrap();
    assert!(fail(&ember(&["convert", empty.to_str().unwrap(), "-o", out.to_str().unwrap()])).contains("empty"));
    let e = fail(&ember(&["convert", d.path("missing.txt").to_str().unwrap(), "-o", out.to_str().unwrap()]));
    assert!(e.contains("missing.txt"), "{e}");
    // A truncated .ember says so.
    let good = d.path("good.ember");
    convert(&fixture("pyspy-raw.txt"), &good);
    let bytes = std::fs::read(&good).unwrap();
    let cut = d.path("cut.ember");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let e = fail(&ember(&["convert", cut.to_str().unwrap(), "-o", out.to_str().unwrap()]));
    assert!(e.contains("cut.ember") && e.contains("truncated"), "{e}");
    // Broken speedscope JSON.
    let ss = d.path("bad.json");
    std::fs::write(&ss, r#"{"$schema":"https://www.speedscope.app/file-format-schema.json","shared":{"frames":[]},"profiles":[{"type":"sampled","name":"t","unit":"seconds","startValue":0,"endValue":1,"samples":[[3]],"weights":[1]}]}"#).unwrap();
    let e = fail(&ember(&["convert", ss.to_str().unwrap(), "-o", out.to_str().unwrap()]));
    assert!(e.contains("frame 3"), "{e}");
    // Unknown output format.
    let e = fail(&ember(&["convert", &fixture("pyspy-raw.txt"), "-o", d.path("x.weird").to_str().unwrap()]));
    assert!(e.contains("--format") && e.contains("pprof"), "{e}");
    // After all that, the existing output is untouched and no temp files are left.
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "precious 1\n");
    let stray: Vec<_> = std::fs::read_dir(d.0.path()).unwrap().filter_map(|e| {
        let n = e.unwrap().file_name().to_string_lossy().into_owned();
        n.ends_with(".tmp").then_some(n)
    }).collect();
    assert!(stray.is_empty(), "{stray:?}");
}

#[test]
fn diff_draws_a_differential_flamegraph() {
    let d = Dir::new();
    let base = d.path("base.txt");
    let new = d.path("new.txt");
    // NEW spends a larger share in leaf_b, BASE in leaf_a; totals differ (normalised).
    std::fs::write(&base, "main (a.py:1);leaf_a (a.py:5) 80\nmain (a.py:1);leaf_b (a.py:9) 20\n").unwrap();
    std::fs::write(&new, "main (a.py:1);leaf_a (a.py:5) 100\nmain (a.py:1);leaf_b (a.py:9) 300\nmain (a.py:1);only_new (a.py:12) 10\n").unwrap();
    let svg = d.path("diff.svg");
    let msg = ok(&ember(&["diff", base.to_str().unwrap(), new.to_str().unwrap(), "-o", svg.to_str().unwrap()]));
    assert!(msg.contains("410 samples") && msg.contains("100 samples"), "{msg}");
    let s = std::fs::read_to_string(&svg).unwrap();
    assert!(s.contains("<svg") && s.contains("leaf_b") && s.contains("only_new"));
    // inferno labels differential frames with the change in share.
    let title = |name: &str| {
        let i = s.find(&format!("<title>{name}")).unwrap_or_else(|| panic!("no frame {name}"));
        s[i..i + s[i..].find("</title>").unwrap()].to_string()
    };
    assert!(title("leaf_b").contains("+"), "{}", title("leaf_b"));
    assert!(title("leaf_a").contains("-"), "{}", title("leaf_a"));
    let e = fail(&ember(&["diff", base.to_str().unwrap(), new.to_str().unwrap(), "-o", d.path("diff.png").to_str().unwrap()]));
    assert!(e.contains(".svg"), "{e}");
}

/// A pyenv CPython for recording (the sampler reads it from outside).
fn python() -> String {
    for v in ["3.12.1", "3.11.7", "3.13.0", "3.10.13"] {
        let p = format!("/root/.pyenv/versions/{v}/bin/python3");
        if Path::new(&p).exists() {
            return p;
        }
    }
    panic!("no pyenv CPython under /root/.pyenv/versions (scripts/setup.sh installs them)");
}

#[test]
fn recorded_profile_converts_to_every_format() {
    let d = Dir::new();
    let script = d.path("busy.py");
    std::fs::write(
        &script,
        "import time\n\
         def leaf(n):\n    s = 0\n    for i in range(n):\n        s += i\n    return s\n\
         def outer():\n    end = time.time() + 0.6\n    while time.time() < end:\n        leaf(5000)\n\
         outer()\n",
    )
    .unwrap();
    let rec = d.path("rec.ember");
    let out = ember(&["record", "-o", rec.to_str().unwrap(), "--", &python(), script.to_str().unwrap()]);
    ok(&out);
    let txt = d.path("rec.txt");
    convert(rec.to_str().unwrap(), &txt);
    let lines = collapsed(&txt);
    let n = total(&lines);
    assert!(n > 100, "{n} samples in 0.6 s at 1 kHz");
    let script_path = script.to_str().unwrap();
    let hot: u64 = lines
        .iter()
        .filter(|(s, _)| s.contains(&format!("outer ({script_path}:10);leaf ({script_path}:")))
        .map(|(_, c)| c)
        .sum();
    assert!(hot * 2 > n, "most samples are in leaf under outer: {hot} of {n}: {lines:?}");
    // Every output format from the real recording, and back where the format can be read.
    for name in ["rec.json", "rec.svg", "rec.pb.gz", "again.ember"] {
        convert(rec.to_str().unwrap(), &d.path(name));
        assert!(std::fs::metadata(d.path(name)).unwrap().len() > 100, "{name}");
    }
    let back = d.path("back.txt");
    convert(d.path("rec.json").to_str().unwrap(), &back);
    assert_eq!(collapsed(&back), lines);
    let back = d.path("back2.txt");
    convert(d.path("again.ember").to_str().unwrap(), &back);
    assert_eq!(collapsed(&back), lines);
    assert!(std::fs::read_to_string(d.path("rec.svg")).unwrap().contains("leaf"));
}

#[test]
fn brendan_gregg_and_hex_thread_ids() {
    let d = Dir::new();
    // Plain function names (perf/DTrace folded by stackcollapse), no files or lines.
    let bg = d.path("bg.folded");
    std::fs::write(&bg, "java;start_thread;JavaMain;foo 5\njava;start_thread;JavaMain;bar 3\n").unwrap();
    let out = d.path("bg.json");
    convert(bg.to_str().unwrap(), &out);
    let back = d.path("bg.txt");
    convert(out.to_str().unwrap(), &back);
    assert_eq!(
        collapsed(&back),
        [("java;start_thread;JavaMain;bar".to_string(), 3), ("java;start_thread;JavaMain;foo".to_string(), 5)]
    );
    // Older py-spy printed pthread ids in hex: two threads stay two threads.
    let hex = d.path("hex.txt");
    std::fs::write(
        &hex,
        "process 123:\"python x.py\";thread (0x7F3A2B1C0740);main (x.py:3);f (x.py:9) 5\n\
         process 123:\"python x.py\";thread (0x7F3A2A0BF640);worker (x.py:20) 2\n",
    )
    .unwrap();
    let out = d.path("hex-out.txt");
    let msg = convert(hex.to_str().unwrap(), &out);
    assert!(msg.contains("7 samples") && msg.contains("2 threads"), "{msg}");
    let lines = collapsed(&out);
    assert!(lines.iter().any(|(s, c)| s.starts_with("thread 0x7F3A2B1C0740 (") && s.ends_with(";main (x.py:3);f (x.py:9)") && *c == 5), "{lines:?}");
}

#[test]
fn pyspy_speedscope_with_subprocesses() {
    let d = Dir::new();
    let out = d.path("out.txt");
    let msg = convert(&fixture("pyspy-subprocesses.speedscope.json"), &out);
    assert!(msg.contains("6 threads"), "{msg}");
    let lines = collapsed(&out);
    // Three processes (the pool's parent and two workers), each named by its command line.
    let mut procs: Vec<&str> = lines.iter().map(|(s, _)| s.split(";thread").next().unwrap()).collect();
    procs.sort();
    procs.dedup();
    assert_eq!(
        procs,
        [
            "process 14606 (/root/.pyenv/versions/3.12.1/bin/python3 /tmp/multi.py)",
            "process 14626 (/root/.pyenv/versions/3.12.1/bin/python3 /tmp/multi.py)",
            "process 14627 (/root/.pyenv/versions/3.12.1/bin/python3 /tmp/multi.py)",
        ]
    );
    assert!(lines.iter().any(|(s, _)| s.contains(";thread Thread-2 (_handle_tasks) (14629);")), "{lines:?}");
    assert!(lines.iter().any(|(s, _)| s.starts_with("process 14626 (/root/.pyenv/versions/3.12.1/bin/python3 /tmp/multi.py);thread MainThread (14626);")));
}
