//! `ember record` and `ember dump` driven as a user would: real programs on real interpreters,
//! Ctrl-C, targets that exit, and every error a user can meet.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

const EMBER: &str = env!("CARGO_BIN_EXE_ember");

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn workload(name: &str) -> String {
    repo().join("tests/workloads").join(name).display().to_string()
}

fn python(label: &str) -> String {
    let out = Command::new("bash").arg(repo().join("scripts/pythons.sh")).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.split_once(' ').filter(|(m, _)| *m == label).map(|(_, p)| p.to_string()))
        .unwrap_or_else(|| panic!("CPython {label} not found"))
}

fn ember(args: &[&str]) -> Output {
    Command::new(EMBER).args(args).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn load(p: &Path) -> ember::profile::Profile {
    ember::profile::file::load(p).unwrap()
}

#[test]
fn record_a_program_to_an_ember_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p.ember");
    let py = python("3.11");
    let o = ember(&["record", "-o", out.to_str().unwrap(), "--", &py, &workload("adversarial.py"), "1"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("samples") && err.contains("target exited with code 0") && err.contains("wrote"), "{err}");
    let p = load(&out);
    assert!(p.samples.len() > 300, "{} samples", p.samples.len());
    assert_eq!(p.meta.python_version.as_deref().map(|v| v.starts_with("3.11")), Some(true));
    assert_eq!(p.meta.rate_hz, Some(1000.0));
    assert!(p.meta.command_line.iter().any(|a| a.ends_with("adversarial.py")));
    assert_eq!(p.processes[0].exit_code, Some(0));
    // The 0.4 µs leaf calls too: a third of the time, counted as such (consistency.rs).
    let names: Vec<&str> = p.functions.iter().map(|f| p.str(f.name)).collect();
    for f in ["hot_a", "hot_b", "leaf_a", "leaf_b", "main"] {
        assert!(names.contains(&f), "{f} missing: {names:?}");
    }
}

/// Like py-spy: a program `ember record` started is not left running on its own once the
/// duration is over. It is asked to stop as Ctrl-C would (KeyboardInterrupt), so its
/// `finally` blocks run.
#[test]
fn a_started_program_stops_when_the_duration_is_over() {
    let dir = tempfile::tempdir().unwrap();
    let (out, mark) = (dir.path().join("p.ember"), dir.path().join("cleaned-up"));
    let script = format!("import time\ntry:\n    while True: time.sleep(0.01)\nfinally:\n    open({:?}, 'w').close()\n", mark.to_str().unwrap());
    let t = std::time::Instant::now();
    let o = ember(&["record", "--idle", "--duration", "1", "-o", out.to_str().unwrap(), "--", &python("3.12"), "-c", &script]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("duration reached") && err.contains("stopping the program it started"), "{err}");
    assert!(mark.exists(), "the program's finally block did not run: {err}");
    assert!(t.elapsed() < std::time::Duration::from_secs(10), "{:?}", t.elapsed());
    assert!(load(&out).samples.len() > 300);
}

#[test]
fn collapsed_output_names_frames_and_threads() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p.txt");
    let py = python("3.12");
    // Attach once the workload is ready: interpreter start-up runs frozen importlib code whose
    // frames may have no line, which the collapsed format then writes as `name (file)`.
    let mut target = Command::new(&py).args([&workload("threads_status.py"), "5"]).stdout(Stdio::piped()).spawn().unwrap();
    {
        use std::io::BufRead;
        let mut ready = String::new();
        std::io::BufReader::new(target.stdout.as_mut().unwrap()).read_line(&mut ready).unwrap();
    }
    let pid = target.id().to_string();
    let o = ember(&["record", "--idle", "-d", "1.5", "-o", out.to_str().unwrap(), "--pid", &pid]);
    let _ = target.kill();
    let _ = target.wait();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("duration reached"), "{}", stderr(&o));
    let text = std::fs::read_to_string(&out).unwrap();
    let mut threads = std::collections::HashSet::new();
    for line in text.lines() {
        let (stack, count) = line.rsplit_once(' ').unwrap();
        assert!(count.parse::<u64>().unwrap() > 0, "{line}");
        let frames: Vec<&str> = stack.split(';').collect();
        assert!(frames[0].starts_with("thread "), "first frame names the thread: {line}");
        threads.insert(frames[0].to_string());
        for f in &frames[1..] {
            // qualname (path:line)
            let (name, loc) = f.split_once(" (").unwrap_or_else(|| panic!("frame {f:?}"));
            // path:line — a file, or <string>/<frozen ...> for code compiled at startup.
            let (path, line) = loc.trim_end_matches(')').rsplit_once(':').unwrap_or_else(|| panic!("frame {f:?}"));
            assert!(!name.is_empty() && loc.ends_with(')') && !path.is_empty() && line.parse::<u32>().is_ok(), "frame {f:?}");
        }
    }
    assert!(threads.len() >= 3, "{threads:?}");
    assert!(text.contains("busy (") && text.contains("sleeper ("), "{text}");
}

#[test]
fn attach_to_a_pid_that_exits_midway() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p.ember");
    let py = python("3.13");
    let mut child = Command::new(&py).arg(workload("adversarial.py")).arg("1.5").spawn().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let o = ember(&["record", "--pid", &child.id().to_string(), "-o", out.to_str().unwrap()]);
    let _ = child.wait();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("target exited"), "{}", stderr(&o));
    assert!(load(&out).samples.len() > 300);
}

#[test]
fn ctrl_c_stops_and_still_writes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p.ember");
    let py = python("3.15");
    let child = Command::new(EMBER)
        .args(["record", "-o", out.to_str().unwrap(), "--", &py, &workload("adversarial.py"), "60"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGINT).unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("stopped by signal"), "{}", stderr(&o));
    let p = load(&out);
    assert!(p.samples.len() > 100, "{}", p.samples.len());
    assert_eq!(p.meta.python_version.as_deref().map(|v| v.starts_with("3.15")), Some(true));
}

/// Killed without a chance to stop it (SIGKILL, or a closed pipe), Ember still takes down the
/// program it started (one ran on for hours after `ember record ... | head`), and what it had
/// recorded is not lost: its journal is readable as it is and becomes a profile the next time
/// Ember records in that folder.
#[test]
fn killing_ember_ends_its_program_and_keeps_its_recording() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p.ember");
    let mut child = Command::new(EMBER)
        .args(["record", "-o", out.to_str().unwrap(), "--", &python("3.12"), &workload("adversarial.py"), "60"])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    let children = std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", child.id())).unwrap();
    let program: i32 = children
        .split_whitespace()
        .find(|c| std::fs::read_to_string(format!("/proc/{c}/cmdline")).is_ok_and(|l| l.contains("adversarial.py")))
        .expect("ember started no program")
        .parse()
        .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    let gone = |pid: i32| nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_err();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !gone(program) && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let still = !gone(program);
    if still {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(program), nix::sys::signal::Signal::SIGKILL);
    }
    assert!(!still, "the program Ember started (PID {program}) outlived Ember");

    // ~2 s of samples at 1 kHz, less the last second at most.
    let journal = dir.path().join("p.ember.partial");
    assert!(!out.exists() && journal.exists(), "{:?}", std::fs::read_dir(dir.path()).unwrap().collect::<Vec<_>>());
    let kept = load(&journal);
    assert!(kept.samples.len() > 500, "{} samples in the journal", kept.samples.len());
    assert!(kept.functions.iter().any(|f| kept.str(f.name) == "leaf_a"));

    // The next recording there saves it, beside (not onto) its own output.
    let o = ember(&["record", "-o", out.to_str().unwrap(), "--", &python("3.12"), &workload("adversarial.py"), "0.5"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let recovered = dir.path().join("p-recovered.ember");
    let err = stderr(&o);
    assert!(err.contains("interrupted") && err.contains(&format!("its {} samples", kept.samples.len())) && err.contains(recovered.to_str().unwrap()), "{err}");
    assert_eq!(load(&recovered).samples, kept.samples);
    assert!(!journal.exists(), "the journal is removed once saved");
    let second = load(&out);
    assert!(second.samples.len() > 100 && second.samples.len() < kept.samples.len(), "{} samples", second.samples.len());
    assert!(!dir.path().join("p.ember.partial").exists(), "a finished recording leaves no journal");
}

/// `-o -` writes to standard output, and a path that is not a file (`/dev/stdout`, a pipe) is
/// written into, not replaced by a file: a collapsed profile can go straight into another tool.
#[test]
fn output_can_go_to_standard_output_or_a_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let record = |out: &str| {
        Command::new(EMBER)
            .current_dir(dir.path())
            .args(["record", "-o", out, "--format", "collapsed", "--", &python("3.12"), &workload("adversarial.py"), "0.5"])
            .output()
            .unwrap()
    };
    let o = record("-");
    assert!(o.status.success() && stderr(&o).contains("wrote standard output"), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.lines().count() > 3 && text.contains("leaf_a (") && text.lines().all(|l| l.rsplit_once(' ').is_some_and(|(_, n)| n.parse::<u64>().is_ok())), "{text}");
    // What the program prints goes to standard error, not into the profile.
    let talk = "print('said by the program', flush=True)\nimport time\nt = time.time()\nwhile time.time() - t < 0.5: pass\nprint('said again')";
    let o = Command::new(EMBER).current_dir(dir.path()).args(["record", "-o", "-", "--format", "collapsed", "--", &python("3.12"), "-c", talk]).output().unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success() && !text.contains("said") && text.lines().all(|l| l.rsplit_once(' ').is_some_and(|(_, n)| n.parse::<u64>().is_ok())), "{text}");
    assert!(stderr(&o).contains("said by the program") && stderr(&o).contains("said again"), "{}", stderr(&o));
    // Like /dev/stdout: a link to this process's standard output (a pipe here).
    let link = dir.path().join("out");
    std::os::unix::fs::symlink("/proc/self/fd/1", &link).unwrap();
    let o = record(link.to_str().unwrap());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("leaf_b ("));
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link was replaced by a file");
    // Nothing left behind: the journals went once the profiles were written.
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).filter(|n| n != "out").collect();
    assert!(left.is_empty(), "{left:?}");
    // `ember convert` too.
    let saved = dir.path().join("p.ember");
    assert!(ember(&["record", "-o", saved.to_str().unwrap(), "--", &python("3.12"), &workload("adversarial.py"), "0.3"]).status.success());
    let o = ember(&["convert", saved.to_str().unwrap(), "-o", "-", "--format", "collapsed"]);
    assert!(o.status.success() && String::from_utf8_lossy(&o.stdout).contains("hot_a ("), "{}", stderr(&o));
    // A named pipe gets the whole profile, binary formats too (looking for a terminal must not
    // open it: that waited for the reader, then sent it an end of file before the profile).
    let fifo = dir.path().join("fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).unwrap())
    };
    let mut rec = Command::new(EMBER)
        .current_dir(dir.path())
        .args(["record", "-o", fifo.to_str().unwrap(), "--format", "ember", "--", &python("3.12"), &workload("adversarial.py"), "0.5"])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while rec.try_wait().unwrap().is_none() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let done = rec.try_wait().unwrap();
    if done.is_none() {
        let _ = rec.kill();
    }
    let piped = reader.join().unwrap();
    assert!(done.is_some_and(|s| s.success()), "recording into a named pipe: {done:?}");
    let piped = ember::profile::file::load_from(&piped[..]).unwrap_or_else(|e| panic!("{} bytes through the pipe: {e}", piped.len()));
    assert!(piped.samples.len() > 100, "{} samples", piped.samples.len());
}

#[test]
fn an_empty_recording_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p.txt");
    let mut sleeper = Command::new(python("3.12")).args(["-c", "import time; time.sleep(30)"]).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let pid = sleeper.id().to_string();
    let o = ember(&["record", "--pid", &pid, "-d", "1", "-o", out.to_str().unwrap()]);
    assert!(o.status.success() && stderr(&o).contains("every thread was idle") && stderr(&o).contains("--idle"), "{}", stderr(&o));
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(sleeper.id() as i32), nix::sys::signal::Signal::SIGSTOP).unwrap();
    let o = ember(&["record", "--pid", &pid, "-d", "1", "-o", out.to_str().unwrap()]);
    assert!(stderr(&o).contains(&format!("kill -CONT {pid}")), "{}", stderr(&o));
    sleeper.kill().unwrap();
    sleeper.wait().unwrap();
    // Stopped while computing (holding the GIL, which alone used to count as running): still
    // no samples; with --idle, samples that say the threads were not running.
    let mut spinner = Command::new(python("3.12")).args(["-c", "while True: pass"]).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let pid = spinner.id().to_string();
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(spinner.id() as i32), nix::sys::signal::Signal::SIGSTOP).unwrap();
    let o = ember(&["record", "--pid", &pid, "-d", "1", "-o", out.to_str().unwrap()]);
    assert!(stderr(&o).contains(&format!("kill -CONT {pid}")), "{}", stderr(&o));
    let idle = dir.path().join("idle.ember");
    let o = ember(&["record", "--pid", &pid, "-d", "1", "--idle", "-o", idle.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let p = load(&idle);
    assert!(p.samples.len() > 100 && p.samples.flags.iter().all(|f| f & ember::profile::model::FLAG_RUNNING == 0), "{} samples", p.samples.len());
    spinner.kill().unwrap();
    spinner.wait().unwrap();
}

#[test]
fn errors_say_what_to_do() {
    let o = ember(&["record", "--pid", "999999999"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no process with PID 999999999"), "{}", stderr(&o));

    let o = ember(&["record", "-d", "2", "--", "sleep", "5"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("is not a Python process"), "{}", stderr(&o));

    let o = ember(&["record", "--", "/nonexistent/python"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("could not start `/nonexistent/python`"), "{}", stderr(&o));

    let o = ember(&["record", "--rate", "fast", "--", "python3"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("is not a rate"), "{}", stderr(&o));
    // Out of range, each rejected before anything starts (a rate of 1e-9 used to sleep through
    // a stop; a duration of inf panicked).
    for (flag, value) in [("--rate", "1e-9"), ("--rate", "0.5"), ("--rate", "1e8"), ("-d", "inf"), ("-d", "nan"), ("-d", "1e20"), ("-d", "0")] {
        let o = ember(&["record", flag, value, "--", "python3"]);
        assert_eq!(o.status.code(), Some(2), "{flag} {value}: {}", stderr(&o));
        assert!(stderr(&o).contains("out of range"), "{flag} {value}: {}", stderr(&o));
    }

    // A program that ends at once: its exit status, not a PID to check with `ps`. (Ember may
    // also be quick enough to catch a sample; then the recording succeeds.)
    let dir = tempfile::tempdir().unwrap();
    let quick = dir.path().join("quick.ember");
    for _ in 0..3 {
        let o = ember(&["record", "-o", quick.to_str().unwrap(), "--", &python("3.12"), "-c", "import sys; sys.exit(3)"]);
        if !o.status.success() {
            assert!(stderr(&o).contains("ended (exit status: 3) before Ember could take a first sample") && !stderr(&o).contains("ps`"), "{}", stderr(&o));
        }
    }
    // No samples for a flamegraph: why, and no pointer to a journal that is not there.
    let svg = dir.path().join("idle.svg");
    let o = ember(&["record", "-o", svg.to_str().unwrap(), "--", &python("3.12"), "-c", "import time; time.sleep(0.6)"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no flamegraph was written") && stderr(&o).contains("--idle") && !stderr(&o).contains(".partial"), "{}", stderr(&o));
    assert!(std::fs::read_dir(dir.path()).unwrap().all(|e| !e.unwrap().file_name().to_string_lossy().starts_with("idle")));

    let o = ember(&["dump", "999999999"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no process with PID"), "{}", stderr(&o));
}

/// Reading another user's process without CAP_SYS_PTRACE: the message names the capability
/// and the ptrace_scope setting. Runs when the tests run as root (setpriv drops to nobody).
#[test]
fn no_permission_names_the_fix() {
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!("not root: skipped");
        return;
    }
    let py = python("3.11");
    let mut target = Command::new(&py).args(["-c", "import time; time.sleep(30)"]).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let o = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", EMBER, "dump", &target.id().to_string()])
        .output()
        .unwrap();
    let _ = target.kill();
    let _ = target.wait();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("permission denied") && err.contains("CAP_SYS_PTRACE") && err.contains("ptrace_scope"), "{err}");
}

#[test]
fn dump_prints_every_thread_like_a_traceback() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    let py = python("3.14");
    let mut child = Command::new(&py).args([&workload("known_stacks.py"), report.to_str().unwrap()]).stdout(Stdio::piped()).spawn().unwrap();
    {
        use std::io::BufRead;
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
    }
    let o = ember(&["dump", &child.id().to_string()]);
    // py-spy's spelling, as JSON for scripts.
    let j = ember(&["dump", "--pid", &child.id().to_string(), "--json"]);
    let _ = child.kill();
    let _ = child.wait();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(j.status.success(), "{}", stderr(&j));
    let v: serde_json::Value = serde_json::from_slice(&j.stdout).unwrap();
    assert_eq!(v["pid"], child.id());
    let main = v["threads"].as_array().unwrap().iter().find(|t| t["name"] == "MainThread").expect("MainThread in --json");
    assert_eq!(main["tid"], child.id());
    assert_eq!((main["read"].as_bool(), main["running"].as_bool()), (Some(true), Some(false)));
    let names: Vec<&str> = main["frames"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(names.first().copied(), Some("<module>"), "{names:?}");
    assert_eq!(names.last().copied(), Some("main_sleep"), "innermost last: {names:?}");
    assert!(main["frames"][0]["line"].as_u64().unwrap() > 0);
    let both = ember(&["dump", "1", "--pid", "2"]);
    assert!(!both.status.success() && stderr(&both).contains("cannot be used with"), "{}", stderr(&both));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains(&format!("Thread {} \"MainThread\" (idle)", child.id())), "{text}");
    assert!(text.contains("\"worker\""), "{text}");
    // Innermost last: in the main thread, main_sleep comes after <module>.
    let main = text.split("\n\n").find(|b| b.contains("MainThread")).unwrap();
    let module = main.find("in <module>").unwrap();
    let sleep = main.find("in main_sleep").unwrap();
    assert!(module < sleep, "{main}");
    assert!(text.contains("in Worker.spin") && text.contains("in ünïcode_wait"), "{text}");
}

/// On 3.10 the workload's stack changes about as fast as a non-pausing read can follow: when
/// most reads were dropped (0% to 73% of them in runs at 1 kHz), the summary says so and names
/// --blocking, which then records every sample and leaves the program to finish normally.
#[test]
fn torn_reads_point_to_blocking_which_records_them() {
    let dir = tempfile::tempdir().unwrap();
    let py = python("3.10");
    let out = dir.path().join("nb.ember");
    let o = ember(&["record", "-o", out.to_str().unwrap(), "--", &py, &workload("adversarial.py"), "1"]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    let number_before = |word: &str| -> u64 {
        let at = err.find(word).unwrap_or_else(|| panic!("no '{word}' in: {err}"));
        err[..at].split_whitespace().last().unwrap().parse().unwrap()
    };
    let (kept, torn) = (number_before(" samples in "), number_before(" torn,"));
    assert_eq!(err.contains("Record again with --blocking"), torn > kept, "{err}");

    let out = dir.path().join("b.ember");
    let o = ember(&["record", "--blocking", "-o", out.to_str().unwrap(), "--", &py, &workload("adversarial.py"), "1"]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("target exited with code 0") && !err.contains("--blocking"), "{err}");
    let p = load(&out);
    assert!(p.samples.len() > 500, "{} samples", p.samples.len());
    let names: Vec<&str> = p.functions.iter().map(|f| p.str(f.name)).collect();
    assert!(names.contains(&"leaf_a") && names.contains(&"leaf_b"), "{names:?}");
}

/// A target another tracer holds cannot be paused: --blocking says so, and the target runs on.
#[test]
fn blocking_a_process_another_tracer_holds_is_a_clear_error() {
    let py = python("3.11");
    let mut target = Command::new(&py).arg(workload("adversarial.py")).arg("20").spawn().unwrap();
    // A tracer (ptrace seize through ctypes) that holds the target until killed.
    let seize = format!(
        "import ctypes, sys, time; libc = ctypes.CDLL(None, use_errno=True); \
         r = libc.ptrace(0x4206, {}, 0, 0); print(r, flush=True); time.sleep(30)",
        target.id()
    );
    let mut tracer = Command::new(&py).args(["-c", &seize]).stdout(Stdio::piped()).spawn().unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(tracer.stdout.as_mut().unwrap()), &mut line).unwrap();
    assert_eq!(line.trim(), "0", "the helper could not trace the target");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p.ember");
    let o = ember(&["record", "--blocking", "-d", "1", "-o", out.to_str().unwrap(), "--pid", &target.id().to_string()]);
    let _ = tracer.kill();
    let _ = tracer.wait();
    assert!(!o.status.success());
    assert!(stderr(&o).contains("ptrace was refused") && stderr(&o).contains("another debugger"), "{}", stderr(&o));
    std::thread::sleep(Duration::from_millis(100));
    let status = std::fs::read_to_string(format!("/proc/{}/status", target.id())).unwrap();
    assert!(status.contains("State:\tR") || status.contains("State:\tS"), "{status}");
    target.kill().unwrap();
    target.wait().unwrap();
}

/// A stack that changes every microsecond (3.10) may not hold still for a read: `dump` says so
/// and names --blocking instead of showing an empty, idle thread; --blocking reads it.
#[test]
fn dump_of_a_fast_changing_stack_never_shows_it_empty() {
    let py = python("3.10");
    let mut target = Command::new(&py).arg(workload("adversarial.py")).arg("20").spawn().unwrap();
    std::thread::sleep(Duration::from_millis(400));
    let pid = target.id().to_string();
    let plain = String::from_utf8_lossy(&ember(&["dump", &pid]).stdout).into_owned();
    assert!(!plain.contains("(no Python frames)"), "{plain}");
    // Read whole (in `main`, perhaps between two calls, or deeper) or named as not read.
    assert!(plain.contains("in main") || plain.contains("ember dump --blocking"), "{plain}");
    let o = ember(&["dump", "--blocking", &pid]);
    let blocking = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(blocking.contains("(running, holds the GIL)") && blocking.contains("in main"), "{blocking}");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    assert!(status.contains("TracerPid:\t0"), "{status}");
    target.kill().unwrap();
    target.wait().unwrap();
}

/// py-spy's `--nonblocking` names Ember's default, so a py-spy command line works as it is;
/// asking for both modes is an error that names the two flags.
#[test]
fn py_spys_nonblocking_flag_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p.txt");
    let py = python("3.12");
    let o = ember(&["record", "--nonblocking", "--rate", "200", "-o", out.to_str().unwrap(), "--", &py, &workload("adversarial.py"), "0.5"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::read_to_string(&out).unwrap().contains("hot_a"));
    let o = ember(&["record", "--nonblocking", "--blocking", "--", &py, "-c", "pass"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--nonblocking") && stderr(&o).contains("--blocking"), "{}", stderr(&o));
    let mut target = Command::new(&py).args([&workload("adversarial.py"), "5"]).stdout(Stdio::null()).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let o = ember(&["dump", "--nonblocking", &target.id().to_string()]);
    let _ = target.kill();
    let _ = target.wait();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("Thread"), "{}", String::from_utf8_lossy(&o.stdout));
}

/// `python app.py & ember record --pid $!`: the PID may still be the shell's fork, or Python
/// loading its libraries. Ember waits for the interpreter rather than calling it "not Python"
/// (it did, in about a third of such attaches). A process that has been running a while and
/// is not Python still gets the error at once.
#[test]
fn attaching_the_moment_a_program_starts_waits_for_its_python() {
    let py = python("3.11");
    let dir = tempfile::tempdir().unwrap();
    for i in 0..4 {
        let out = dir.path().join(format!("p{i}.ember"));
        // Half the time the PID is still a shell for 50 ms before it execs Python (as `$!`
        // is, right after `&`); the other half Python is loading.
        let mut target = if i % 2 == 0 {
            Command::new("sh").args(["-c", &format!("sleep 0.05; exec {py} {} 0.5", workload("adversarial.py"))]).stdout(Stdio::null()).spawn().unwrap()
        } else {
            Command::new(&py).args([&workload("adversarial.py"), "0.5"]).stdout(Stdio::null()).spawn().unwrap()
        };
        let o = ember(&["record", "-o", out.to_str().unwrap(), "--pid", &target.id().to_string()]);
        let _ = target.wait();
        assert!(o.status.success(), "attach {i}: {}", stderr(&o));
        assert!(load(&out).samples.len() > 50, "attach {i}: {}", stderr(&o));
    }
    let mut sleeper = Command::new("sleep").arg("30").spawn().unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    let started = std::time::Instant::now();
    let o = ember(&["record", "--pid", &sleeper.id().to_string()]);
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    assert!(!o.status.success() && stderr(&o).contains("is not a Python process"), "{}", stderr(&o));
    assert!(started.elapsed() < Duration::from_millis(250), "an old non-Python PID waited {:?}", started.elapsed());
}

/// The number after `PID ` (the first, or the one after `after`) in an error message.
fn pid_in(text: &str, after: &str) -> u32 {
    let rest = &text[text.find(after).unwrap_or_else(|| panic!("{after:?} not in: {text}")) + after.len()..];
    let rest = &rest[rest.find("PID ").unwrap() + 4..];
    rest.split(|c: char| !c.is_ascii_digit()).next().unwrap().parse().unwrap()
}

/// Whether a process is gone (reaped, or a zombie), waiting up to `wait` for it to go.
fn gone_within(pid: u32, wait: Duration) -> bool {
    let deadline = std::time::Instant::now() + wait;
    loop {
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok().and_then(|s| s.rsplit_once(") ").and_then(|(_, r)| r.chars().next()));
        if matches!(state, None | Some('Z') | Some('X')) {
            return true;
        }
        if std::time::Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Like py-spy's `--subprocesses`: a program that is not Python itself but runs Python (a
/// shell script, make, a test runner) is profiled through its Python children, here a shell
/// that is alone for a while before it starts Python.
#[test]
fn python_started_by_a_shell_is_profiled_with_subprocesses() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p.ember");
    let script = format!("sleep 0.3; {} {} 1; echo done", python("3.12"), workload("adversarial.py"));
    let o = ember(&["record", "-s", "-o", out.to_str().unwrap(), "--", "sh", "-c", &script]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("target exited with code 0"), "{}", stderr(&o));
    let p = load(&out);
    assert_eq!(p.processes.len(), 1, "{:?}", p.processes);
    assert!(p.processes[0].command_line.iter().any(|a| a.ends_with("adversarial.py")), "{:?}", p.processes[0].command_line);
    assert!(p.samples.len() > 500, "{} samples", p.samples.len());
    assert!(p.functions.iter().any(|f| p.str(f.name) == "hot_a"));
}

/// Without `--subprocesses` the same program gets an error at once that says to add it (it
/// used to wait out the 20 s start timeout, or fail with "exited before its Python
/// interpreter was ready"), and neither the shell nor its Python is left running.
#[test]
fn python_started_by_a_shell_without_subprocesses_says_to_add_it() {
    let script = format!("{} -c 'import time; time.sleep(60)'; echo done", python("3.12"));
    let started = std::time::Instant::now();
    let o = ember(&["record", "-o", "/dev/null", "--", "sh", "-c", &script]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("is not Python itself") && err.contains("--subprocesses"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(8), "took {:?}: {err}", started.elapsed());
    let (shell, child) = (pid_in(&err, "error:"), pid_in(&err, "child process"));
    assert!(gone_within(shell, Duration::from_secs(3)) && gone_within(child, Duration::from_secs(3)), "left running: {err}");
}

/// A program `ember record` started but cannot profile is stopped, not left running unseen;
/// with `--subprocesses`, one under which no Python ever ran is an error, and no file is written.
#[test]
fn a_program_that_is_not_python_is_stopped_and_nothing_is_written() {
    let o = ember(&["record", "--", "sleep", "30"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("is not a Python process") && err.contains("was stopped"), "{err}");
    assert!(gone_within(pid_in(&err, "error:"), Duration::from_secs(3)), "sleep left running: {err}");

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p.ember");
    let o = ember(&["record", "-s", "-o", out.to_str().unwrap(), "--", "sleep", "0.5"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("no Python process ran under it"), "{err}");
    assert!(!out.exists());
}

/// Ctrl-C (here a SIGTERM, which reaches Ember alone) while Ember still waits for a slow
/// launcher to exec Python ends Ember at once, and the launcher with it; it used to wait out
/// the 20 s start timeout.
#[test]
fn a_signal_while_waiting_for_python_stops_at_once() {
    let started = std::time::Instant::now();
    let child = Command::new(EMBER).args(["record", "-o", "/dev/null", "--", "sh", "-c", "sleep 30; exec python3 -c pass"]).stderr(Stdio::piped()).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(1000));
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGTERM).unwrap();
    let o = child.wait_with_output().unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("stopped while waiting for the Python interpreter") && err.contains("was stopped"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(6), "took {:?}: {err}", started.elapsed());
    assert!(gone_within(pid_in(&err, "interpreter in"), Duration::from_secs(3)), "the launcher runs on: {err}");
}

/// A program Ember started that fails makes `ember record` fail the same way, once the profile
/// is written (py-spy exits 0, which hides a failed job); a signal gives 128 + its number.
#[test]
fn the_program_exit_status_is_passed_on() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p.ember");
    let py = python("3.12");
    let script = "import time, sys\nend = time.time() + 0.5\nwhile time.time() < end: pass\nsys.exit(7)";
    let o = ember(&["record", "-o", out.to_str().unwrap(), "--", &py, "-c", script]);
    assert_eq!(o.status.code(), Some(7), "{}", stderr(&o));
    assert!(stderr(&o).contains("target exited with code 7"), "{}", stderr(&o));
    assert!(load(&out).samples.len() > 100, "the profile is written first");
    let killed = "import os, time\nend = time.time() + 0.5\nwhile time.time() < end: pass\nos.kill(os.getpid(), 9)";
    let o = ember(&["record", "-o", out.to_str().unwrap(), "--", &py, "-c", killed]);
    assert_eq!(o.status.code(), Some(128 + 9), "{}", stderr(&o));
    // A recording Ember ends itself (the duration) is a success whatever the program then does.
    let o = ember(&["record", "-d", "0.5", "-o", out.to_str().unwrap(), "--", &py, &workload("adversarial.py"), "30"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// Arguments reach the program byte for byte, file names that are not UTF-8 included (clap
/// used to refuse them).
#[test]
fn arguments_that_are_not_utf8_reach_the_program() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let seen = dir.path().join("argv.bin");
    let script = "import os, sys, time\nopen(sys.argv[1], 'wb').write(os.fsencode(sys.argv[2]))\nend = time.time() + 0.3\nwhile time.time() < end: pass";
    let odd = std::ffi::OsStr::from_bytes(b"caf\xe9.txt");
    let o = Command::new(EMBER).args(["record", "-o", dir.path().join("p.ember").to_str().unwrap(), "--", &python("3.12"), "-c", script, seen.to_str().unwrap()]).arg(odd).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read(&seen).unwrap(), b"caf\xe9.txt");
}
