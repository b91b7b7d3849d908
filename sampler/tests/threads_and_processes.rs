//! Thread status (running/idle, GIL), idle filtering, subprocesses, and the errors a user
//! can meet: no such process, an exited one not collected yet, not Python, unsupported Python, a target that exits.

mod common;
use common::*;
use ember_sampler::{Config, Error, Event, Rate, Session, Target, FLAG_GIL, FLAG_RUNNING};
use std::collections::HashMap;
use std::time::Duration;

/// One sample as the tests look at it: PID, TID, flags, qualnames root first.
type Seen = (u32, u32, u8, Vec<String>);

fn collect(session: &Session) -> (Vec<Seen>, Vec<Event>) {
    let mut samples = Vec::new();
    let mut other = Vec::new();
    for ev in session.events.iter() {
        match ev {
            Event::Samples(b) => {
                for (s, frames) in b.iter() {
                    let names = frames.iter().map(|&f| session.frames.get(f).unwrap().qualname.to_string()).collect();
                    samples.push((s.pid, s.tid, s.flags, names));
                }
            }
            e => other.push(e),
        }
    }
    (samples, other)
}

#[test]
fn thread_status_and_gil() {
    for (label, py) in pythons() {
        let child = Kill(start_ready(&py, &[workload("threads_status.py").to_str().unwrap()]));
        let config = Config { rate: Rate::Hz(500.0), duration: Some(Duration::from_millis(800)), idle: true, ..Config::default() };
        let session = Session::start(Target::Pid(child.0.id()), config).unwrap();
        let (samples, events) = collect(&session);
        let names: HashMap<u32, String> = events
            .iter()
            .filter_map(|e| if let Event::Thread(t) = e { Some((t.tid, t.name.clone())) } else { None })
            .collect();
        let of = |leaf: &str| samples.iter().filter(|s| s.3.last().map(|n| n.ends_with(leaf)).unwrap_or(false)).collect::<Vec<_>>();
        let busy = of("busy");
        let sleeper = of("sleeper");
        assert!(busy.len() > 50 && sleeper.len() > 50, "{label}: busy {} sleeper {}", busy.len(), sleeper.len());
        let running = |v: &[&(u32, u32, u8, Vec<String>)]| v.iter().filter(|s| s.2 & FLAG_RUNNING != 0).count() as f64 / v.len() as f64;
        let gil = |v: &[&(u32, u32, u8, Vec<String>)]| v.iter().filter(|s| s.2 & FLAG_GIL != 0).count() as f64 / v.len() as f64;
        assert!(running(&busy) > 0.8, "{label}: busy thread running {:.2}", running(&busy));
        assert!(running(&sleeper) < 0.1, "{label}: sleeping thread running {:.2}", running(&sleeper));
        assert!(gil(&busy) > 0.5, "{label}: busy thread holds the GIL {:.2}", gil(&busy));
        assert!(gil(&sleeper) < 0.05, "{label}: sleeper holds the GIL {:.2}", gil(&sleeper));
        assert!(names.len() >= 3, "{label}: thread events {names:?}");
        assert_eq!(names.get(&child.0.id()).map(String::as_str), Some("MainThread"));
        drop(session);

        // Default (no --idle): idle threads are left out; --gil keeps only the GIL holder.
        let config = Config { rate: Rate::Hz(500.0), duration: Some(Duration::from_millis(500)), ..Config::default() };
        let (samples, _) = collect(&Session::start(Target::Pid(child.0.id()), config).unwrap());
        assert!(samples.iter().all(|s| s.2 & FLAG_RUNNING != 0), "{label}: idle samples kept without --idle");
        assert!(samples.iter().any(|s| s.3.last().unwrap().ends_with("busy")), "{label}");
        let config = Config { rate: Rate::Hz(500.0), duration: Some(Duration::from_millis(500)), gil: true, idle: true, ..Config::default() };
        let (samples, _) = collect(&Session::start(Target::Pid(child.0.id()), config).unwrap());
        assert!(!samples.is_empty() && samples.iter().all(|s| s.2 & FLAG_GIL != 0), "{label}: --gil");
    }
}

#[test]
fn subprocesses_are_found_and_labelled() {
    let py = python("3.11").or_else(|| pythons().into_iter().next().map(|p| p.1)).unwrap();
    let child = std::process::Command::new(&py).arg(workload("children.py")).spawn().unwrap();
    let root = child.id();
    let config = Config { rate: Rate::Hz(200.0), subprocesses: true, ..Config::default() };
    let session = Session::start(Target::Child(child), config).unwrap();
    let (samples, events) = collect(&session);
    let procs: Vec<_> = events.iter().filter_map(|e| if let Event::Process(p) = e { Some(p.clone()) } else { None }).collect();
    assert!(procs.len() >= 3, "root + 2 children, got {procs:?}");
    let child_pids: Vec<u32> = procs.iter().filter(|p| p.pid != root).map(|p| p.pid).collect();
    assert!(procs.iter().filter(|p| p.pid != root).all(|p| p.parent.is_some() && !p.command_line.is_empty()));
    for leaf in ["mp_child_work", "subprocess_child_work"] {
        assert!(
            samples.iter().any(|s| child_pids.contains(&s.0) && s.3.iter().any(|n| n == leaf)),
            "no samples of {leaf} in a child process"
        );
    }
    // The root's exit is reported with its exit code.
    assert!(events.iter().any(|e| matches!(e, Event::ProcessExited { pid, exit_code: Some(0), .. } if *pid == root)));
}

#[test]
fn target_exiting_mid_recording_ends_the_session_cleanly() {
    let py = pythons()[0].1.clone();
    let child = std::process::Command::new(&py).args(["-c", "import time\nend=time.time()+1.0\nwhile time.time()<end: pass\nraise SystemExit(3)"]).spawn().unwrap();
    let session = Session::start(Target::Child(child), Config::default()).unwrap();
    let (samples, events) = collect(&session);
    assert!(samples.len() > 100, "{}", samples.len());
    assert!(events.iter().any(|e| matches!(e, Event::ProcessExited { exit_code: Some(3), .. })), "{events:?}");
}

#[test]
fn clear_errors() {
    // A PID that does not exist.
    let err = Session::start(Target::Pid(u32::MAX / 2), Config::default()).err().unwrap();
    assert!(matches!(err, Error::NoSuchProcess(_)), "{err}");
    assert!(err.to_string().contains("no process with PID"));
    // A process that exited and was not collected yet.
    let mut zombie = std::process::Command::new("true").spawn().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let err = Session::start(Target::Pid(zombie.id()), Config::default()).err().unwrap();
    assert!(matches!(err, Error::Zombie(_)), "{err}");
    assert!(ember_sampler::dump(zombie.id(), false).unwrap_err().to_string().contains("has exited"));
    zombie.wait().unwrap();
    // Not Python.
    let child = Kill(std::process::Command::new("sleep").arg("30").spawn().unwrap());
    std::thread::sleep(Duration::from_millis(100));
    let err = ember_sampler::dump(child.0.id(), false).unwrap_err();
    assert!(matches!(err, Error::NotPython { .. }), "{err}");
    assert!(err.to_string().contains("sleep"), "{err}");
    let child2 = std::process::Command::new("sleep").arg("30").spawn().unwrap();
    let pid2 = child2.id();
    let err = Session::start(Target::Child(child2), Config::default()).err().unwrap();
    assert!(matches!(err, Error::NotPython { .. }), "{err}");
    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid2 as i32), nix::sys::signal::Signal::SIGKILL);
    // A thread's ID (from `top -H`, say) names the process to use instead.
    let mut threaded = Kill(
        std::process::Command::new("python3")
            .args(["-c", "import threading, time\nt = threading.Thread(target=time.sleep, args=(30,))\nt.start()\nprint(t.native_id, flush=True)\nt.join()"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(threaded.0.stdout.take().unwrap()), &mut line).unwrap();
    let tid: u32 = line.trim().parse().unwrap();
    let err = Session::start(Target::Pid(tid), Config::default()).err().unwrap();
    assert!(err.to_string().contains(&format!("{tid} is the ID of a thread of process {}", threaded.0.id())), "{err}");
    assert!(matches!(ember_sampler::dump(tid, false), Err(Error::ThreadNotProcess { .. })));
    // A process whose executable is named for an unsupported minor (a stand-in for 3.6, which
    // has no `_PyRuntime`): that version is named, not "not Python".
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("python3.6");
    std::fs::copy("/bin/sleep", &fake).unwrap();
    let c = Kill(std::process::Command::new(&fake).arg("30").spawn().unwrap());
    std::thread::sleep(Duration::from_millis(200));
    let err = ember_sampler::dump(c.0.id(), false).unwrap_err();
    assert!(matches!(err, Error::UnsupportedPython { .. }) && err.to_string().contains("runs Python 3.6 ("), "{err}");
    // Unsupported Pythons that this machine has (pyenv 2.7, 3.6 and 3.7), when present.
    let root = std::process::Command::new("pyenv").arg("root").output().ok().map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    let mut checked = 0;
    if let Some(root) = root {
        for (v, word) in [("2.7.18", "Python 2"), ("3.6.15", "Python 3.6 ("), ("3.7.16", "Python 3.7 (")] {
            let py = std::path::PathBuf::from(format!("{root}/versions/{v}/bin/python"));
            if !py.exists() {
                continue;
            }
            let c = Kill(std::process::Command::new(&py).args(["-c", "import time; time.sleep(30)"]).spawn().unwrap());
            std::thread::sleep(Duration::from_millis(300));
            let err = ember_sampler::dump(c.0.id(), false).unwrap_err();
            assert!(matches!(err, Error::UnsupportedPython { .. }), "{v}: {err}");
            assert!(err.to_string().contains(word) && err.to_string().contains("3.8 to 3.15"), "{v}: {err}");
            checked += 1;
        }
    }
    eprintln!("checked {checked} unsupported interpreters");
}

/// An interpreter upgraded while the program runs: /proc/PID/maps then names a file that is gone
/// (or another one), and the symbols must come from the copy the process mapped.
#[test]
fn an_interpreter_deleted_since_it_started_is_still_read() {
    let dir = tempfile::tempdir().unwrap();
    let sleeper = ["-c", "import time\ndef napping():\n    time.sleep(30)\nnapping()"];
    let napping = |pid: u32| ember_sampler::dump(pid, false).map(|t| t.iter().any(|t| t.frames.iter().any(|f| &*f.qualname == "napping")));
    // The executable itself (Debian's, with libpython inside): read through /proc/PID/exe.
    if let Some(debian) = python("3.11-debian") {
        let exe = dir.path().join("python3.11");
        std::fs::copy(&debian, &exe).unwrap();
        let c = Kill(std::process::Command::new(&exe).args(sleeper).spawn().unwrap());
        std::thread::sleep(Duration::from_millis(300));
        std::fs::remove_file(&exe).unwrap();
        assert!(napping(c.0.id()).unwrap(), "the stack of a Python whose executable was deleted");
    }
    // A shared libpython (pyenv's): through the mapping itself, which only root may open.
    let Some(py) = python("3.12") else { return };
    let lib = py.parent().unwrap().parent().unwrap().join("lib/libpython3.12.so.1.0");
    let libdir = dir.path().join("lib");
    std::fs::create_dir(&libdir).unwrap();
    std::fs::copy(&lib, libdir.join("libpython3.12.so.1.0")).unwrap();
    let c = Kill(std::process::Command::new(&py).args(sleeper).env("LD_LIBRARY_PATH", &libdir).spawn().unwrap());
    std::thread::sleep(Duration::from_millis(300));
    std::fs::remove_file(libdir.join("libpython3.12.so.1.0")).unwrap();
    let maps = std::fs::read_to_string(format!("/proc/{}/maps", c.0.id())).unwrap();
    assert!(maps.contains("libpython3.12.so.1.0 (deleted)"), "the copy was not the one loaded:\n{maps}");
    match napping(c.0.id()) {
        Ok(found) => assert!(found, "the stack of a Python whose libpython was deleted"),
        Err(e) => {
            assert!(!nix::unistd::geteuid().is_root(), "root can open the deleted copy: {e}");
            assert!(e.to_string().contains("deleted or replaced after the program started"), "{e}");
        }
    }
}

/// Threads started while sampling begins: a thread state exists before its OS thread stores
/// its id, and such a thread must never be reported under TID 0.
#[test]
fn threads_starting_during_sampling_get_their_real_ids() {
    for label in ["3.10", "3.12", "3.15"] {
        let Some(py) = python(label) else { continue };
        let code = "import threading, time\ndef spin():\n    end = time.time() + 1.5\n    while time.time() < end: pass\nts = [threading.Thread(target=spin) for _ in range(8)]\nfor t in ts: t.start()\nfor t in ts: t.join()\n";
        let child = std::process::Command::new(&py).args(["-c", code]).spawn().unwrap();
        let pid = child.id();
        let config = Config { rate: Rate::Max, idle: true, ..Config::default() };
        let session = Session::start(Target::Child(child), config).unwrap();
        let (samples, events) = collect(&session);
        assert!(samples.len() > 100, "{label}: {}", samples.len());
        assert!(samples.iter().all(|s| s.1 != 0), "{label}: a sample with TID 0");
        let tids: std::collections::HashSet<u32> = samples.iter().filter(|s| s.0 == pid).map(|s| s.1).collect();
        assert!(tids.len() >= 5, "{label}: threads seen {tids:?}");
        assert!(events.iter().all(|e| !matches!(e, Event::Thread(t) if t.tid == 0)), "{label}: a thread event with TID 0");
    }
}

/// Thread names come from Python's own Thread objects on every version (3.14+ would otherwise
/// only have OS names, cut to 15 bytes), including a rename after the thread started.
#[test]
fn python_thread_names_on_every_version() {
    for (label, py) in pythons() {
        let child = Kill(start_ready(&py, &[workload("thread_names.py").to_str().unwrap(), "0.5"]));
        let config = Config { rate: Rate::Hz(200.0), duration: Some(Duration::from_millis(2000)), idle: true, ..Config::default() };
        let session = Session::start(Target::Pid(child.0.id()), config).unwrap();
        let (_, events) = collect(&session);
        // The last event for a thread carries its current name.
        let mut names: HashMap<u32, String> = HashMap::new();
        for e in &events {
            if let Event::Thread(t) = e {
                names.insert(t.tid, t.name.clone());
            }
        }
        let mut found: Vec<&str> = names.values().map(String::as_str).collect();
        found.sort();
        assert_eq!(names.get(&child.0.id()).map(String::as_str), Some("MainThread"), "{label}: {found:?}");
        for want in ["a-long-worker-name-ünïcode", "with-dict", "after-rename"] {
            assert!(found.contains(&want), "{label}: no thread named {want:?} in {found:?}");
        }
        assert!(!found.contains(&"before-rename"), "{label}: the rename was missed: {found:?}");
        let pool = found.iter().filter(|n| n.starts_with("pool_")).count();
        assert_eq!(pool, 12, "{label}: pool threads in {found:?}");
        assert_eq!(names.len(), 17, "{label}: {found:?}");
    }
}
