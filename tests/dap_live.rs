//! `ember dap` end to end against real Python programs: launch (stdio and TCP, both
//! configurationDone orders), attach by PID, pause/threads/stackTrace/variables/continue,
//! terminate, disconnect both ways, a crashing target, a killed adapter (SIGTERM and SIGKILL), an editor that goes
//! away, runInTerminal, and the errors only a live target can produce.

#[path = "dap_support.rs"]
mod support;

use ember::profile::{file, store};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::*;

const WORKLOAD: &str = r#"
import os, sys, threading, time

def spin(seconds):
    end = time.time() + seconds
    n = 0
    while time.time() < end:
        n += sum(range(200))
    return n

def worker(seconds):
    spin(seconds)

seconds = float(sys.argv[1])
code = int(sys.argv[2]) if len(sys.argv) > 2 else 0
print("workload started", flush=True)
t = threading.Thread(target=worker, args=(seconds,), name="worker-1", daemon=bool(os.environ.get("DAEMON")))
t.start()
spin(seconds)
t.join()
if os.environ.get("CRASH"):
    os.kill(os.getpid(), 11)
print("workload done", file=sys.stderr, flush=True)
sys.exit(code)
"#;

struct Workspace {
    dir: tempfile::TempDir,
}

impl Workspace {
    fn new() -> Workspace {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("work.py"), WORKLOAD).unwrap();
        Workspace { dir }
    }
    fn path(&self) -> &Path {
        self.dir.path()
    }
    fn script(&self) -> PathBuf {
        self.path().join("work.py")
    }
    fn out(&self) -> PathBuf {
        self.path().join(".ember")
    }
    fn launch_args(&self, seconds: f64, code: i32) -> Value {
        json!({
            "type": "ember", "request": "launch", "name": "Profile work.py",
            "program": "work.py", "args": [seconds.to_string(), code.to_string()],
            "cwd": self.path(), "python": python(), "rate": 200,
        })
    }
}

/// The profile named by the `ember/profile` event that carries a path.
fn saved_profile(dap: &Dap) -> (PathBuf, u64) {
    let ev = dap
        .events("ember/profile")
        .into_iter()
        .rev()
        .find(|e| e["body"]["path"].is_string())
        .unwrap_or_else(|| panic!("no ember/profile event with a path: {:#?}", dap.seen));
    (PathBuf::from(ev["body"]["path"].as_str().unwrap()), ev["body"]["samples"].as_u64().unwrap())
}

fn function_names(path: &Path) -> Vec<String> {
    let p = file::load(path).unwrap();
    p.functions.iter().map(|f| p.str(f.name).to_string()).collect()
}

fn state_of(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

fn wait_gone(pid: u32, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if !matches!(state_of(pid), Some(c) if c != 'Z' && c != 'X') {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

fn started_pid(dap: &mut Dap) -> u32 {
    let ev = dap.wait_event("ember/profile", TIMEOUT);
    ev["body"]["pid"].as_u64().unwrap() as u32
}

/// A fresh adapter over stdio running the workspace program for a minute; its PID.
fn launch_long(ws: &Workspace) -> (Dap, u32) {
    let mut dap = Dap::stdio(&[]);
    dap.initialize(json!({}));
    dap.ok("launch", ws.launch_args(60.0, 0));
    let pid = started_pid(&mut dap);
    (dap, pid)
}

#[test]
fn launch_runs_to_the_end_with_output_progress_exit_code_and_a_saved_profile() {
    let ws = Workspace::new();
    let mut dap = Dap::stdio(&[]);
    dap.initialize(json!({"clientID": "vscode", "supportsProgressReporting": true}));
    dap.ok("launch", ws.launch_args(1.5, 3));
    dap.ok("configurationDone", json!({}));
    // As soon as sampling starts: the page URL as `important` (VS Code) and as console text.
    let important = dap.wait_event_where("output", TIMEOUT, |e| e["body"]["category"] == "important");
    let text = important["body"]["output"].as_str().unwrap().to_string();
    assert!(text.contains("profiling work") && text.contains("200 Hz"), "{text}");
    assert!(text.contains("Flamegraph: http://127.0.0.1:"), "{text}");
    let console = dap.wait_event_where("output", TIMEOUT, |e| e["body"]["category"] == "console");
    assert_eq!(console["body"]["output"], important["body"]["output"]);
    let first = dap.wait_event("ember/profile", TIMEOUT);
    assert_eq!(first["body"]["samples"], 0);
    assert!(first["body"]["path"].is_null());
    let url = first["body"]["url"].as_str().expect("a flamegraph URL").to_string();
    assert!(text.contains(&url), "{text}");
    assert!(http_get(&url).starts_with("HTTP/1.1 200"), "the live page is served");
    dap.wait_event("progressStart", TIMEOUT);
    let update = dap.wait_event("progressUpdate", TIMEOUT);
    assert!(update["body"]["message"].as_str().unwrap().contains("samples"), "{update}");
    dap.wait_event("terminated", TIMEOUT);
    // The program's output, the saved profile, the exit code, then terminated — in that order.
    let pos = |pred: &dyn Fn(&Value) -> bool| dap.seen.iter().position(pred).unwrap_or_else(|| panic!("missing in {:#?}", dap.seen));
    let stdout = pos(&|m| m["event"] == "output" && m["body"]["category"] == "stdout" && m["body"]["output"] == "workload started\n");
    let stderr = pos(&|m| m["event"] == "output" && m["body"]["category"] == "stderr" && m["body"]["output"] == "workload done\n");
    let saved = pos(&|m| m["event"] == "ember/profile" && m["body"]["path"].is_string());
    let end = pos(&|m| m["event"] == "progressEnd");
    let exited = pos(&|m| m["event"] == "exited");
    let terminated = pos(&|m| m["event"] == "terminated");
    assert!(stdout < saved && stderr < saved && saved < end && end < exited && exited < terminated);
    assert_eq!(dap.seen[exited]["body"]["exitCode"], 3);
    // On disk before `terminated`, in outputDir, with `latest` and `.gitignore`.
    let (path, samples) = saved_profile(&dap);
    assert!(path.starts_with(ws.out()), "{path:?}");
    let status = dap.ok("ember/profile", json!({}));
    assert_eq!(status["path"], path.to_str().unwrap());
    assert_eq!(status["samples"], samples);
    assert_eq!(status["url"], url.as_str());
    assert!(samples > 50, "{samples}");
    assert_eq!(store::latest_in_dir(&ws.out()).unwrap(), Some(path.clone()));
    assert_eq!(std::fs::read_to_string(ws.out().join(".gitignore")).unwrap(), "*\n");
    let names = function_names(&path);
    assert!(names.iter().any(|n| n == "spin"), "{names:?}");
    let text = dap.events("output").iter().map(|e| e["body"]["output"].as_str().unwrap().to_string()).collect::<String>();
    assert!(text.contains(&format!("saved {samples} samples to {}", path.display())), "{text}");
    // The final report carries the same URL, still served until the session ends.
    assert!(text.contains(&format!("Flamegraph: {url}")), "{text}");
    assert!(http_get(&url).starts_with("HTTP/1.1 200"));
    dap.ok("disconnect", json!({}));
    assert!(dap.close_and_wait(Duration::from_secs(10)).unwrap().success());
}

/// A plain HTTP GET of `http://127.0.0.1:PORT/...`; returns the raw response head and body.
fn http_get(url: &str) -> String {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut s = std::net::TcpStream::connect(host).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

#[test]
fn configuration_done_before_launch_over_tcp_like_helix() {
    let ws = Workspace::new();
    let (server, port) = tcp_server();
    let mut dap = Dap::tcp(port);
    dap.initialize(json!({"clientID": "helix"}));
    dap.ok("configurationDone", json!({}));
    let mut args = ws.launch_args(0.5, 0);
    args["rat"] = json!(100); // a typo is reported, not silently ignored
    dap.ok("launch", args);
    dap.wait_event("terminated", TIMEOUT);
    assert!(dap.events("output").iter().any(|e| e["body"]["output"].as_str().unwrap().contains("Ember ignores these launch fields: rat")));
    assert_eq!(dap.events("exited")[0]["body"]["exitCode"], 0);
    // Not VS Code: the URL comes as console output only.
    assert!(dap.events("output").iter().all(|e| e["body"]["category"] != "important"));
    let (path, samples) = saved_profile(&dap);
    assert!(path.exists() && samples > 0);
    dap.ok("disconnect", json!({}));
    drop(server);
}

#[test]
fn pause_threads_stack_variables_continue_terminate() {
    let ws = Workspace::new();
    let mut dap = Dap::stdio(&[]);
    dap.initialize(json!({}));
    dap.ok("launch", ws.launch_args(60.0, 0));
    dap.ok("configurationDone", json!({}));
    let pid = started_pid(&mut dap);
    std::thread::sleep(Duration::from_millis(800));

    dap.ok("pause", json!({"threadId": pid}));
    let stopped = dap.wait_event("stopped", TIMEOUT);
    assert_eq!(stopped["body"]["reason"], "pause");
    assert_eq!(stopped["body"]["allThreadsStopped"], true);
    assert_eq!(state_of(pid), Some('T'), "SIGSTOP must really stop the target");
    // Nothing runs while paused, so nothing is recorded (the sampler used to keep counting the
    // stopped threads' stacks as running). Allow the sampler a moment to notice and flush.
    std::thread::sleep(Duration::from_millis(300));
    let before = dap.ok("ember/profile", json!({}))["samples"].as_u64().unwrap();
    std::thread::sleep(Duration::from_millis(700));
    let after = dap.ok("ember/profile", json!({}))["samples"].as_u64().unwrap();
    assert!(before > 0 && after == before, "samples while paused: {before} then {after}");

    let threads = dap.ok("threads", json!({}))["threads"].as_array().unwrap().clone();
    let names: Vec<&str> = threads.iter().map(|t| t["name"].as_str().unwrap()).collect();
    // Python's own thread names, read from the target's `threading._active`.
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(sorted, ["MainThread", "worker-1"]);
    let main = threads.iter().find(|t| t["name"] == "MainThread").unwrap()["id"].clone();
    let frames = dap.ok("stackTrace", json!({"threadId": main}))["stackFrames"].as_array().unwrap().clone();
    assert_eq!(frames[0]["name"], "spin", "{frames:#?}");
    assert_eq!(frames[0]["source"]["path"], ws.script().to_str().unwrap());
    let line = frames[0]["line"].as_u64().unwrap();
    assert!((6..=9).contains(&line), "spin's loop is on lines 6–9, got {line}");
    assert_eq!(frames.last().unwrap()["name"], "<module>");
    let worker = threads.iter().find(|t| t["name"] == "worker-1").unwrap()["id"].clone();
    let wf = dap.ok("stackTrace", json!({"threadId": worker, "startFrame": 0, "levels": 2}));
    let wf = wf["stackFrames"].as_array().unwrap();
    assert_eq!(wf.len(), 2);
    assert_eq!((wf[0]["name"].as_str(), wf[1]["name"].as_str()), (Some("spin"), Some("worker")));

    let scopes = dap.ok("scopes", json!({"frameId": frames[0]["id"]}))["scopes"].as_array().unwrap().clone();
    let scope_names: Vec<&str> = scopes.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(scope_names, ["Hottest functions", "Hottest lines"]);
    let funcs = dap.ok("variables", json!({"variablesReference": scopes[0]["variablesReference"]}))["variables"].as_array().unwrap().clone();
    assert!(funcs[0]["name"].as_str().unwrap().starts_with("spin "), "{funcs:#?}");
    let v = funcs[0]["value"].as_str().unwrap();
    assert!(v.starts_with("total ") && v.contains("% · self "), "{v}");
    let lines = dap.ok("variables", json!({"variablesReference": scopes[1]["variablesReference"]}))["variables"].as_array().unwrap().clone();
    assert!(lines[0]["name"].as_str().unwrap().contains("work.py:"), "{lines:#?}");

    let r = dap.ok("continue", json!({"threadId": main}));
    assert_eq!(r["allThreadsContinued"], true);
    std::thread::sleep(Duration::from_millis(100));
    assert_ne!(state_of(pid), Some('T'));

    // SIGINT raises KeyboardInterrupt in the main thread, but the interpreter then waits for
    // the non-daemon worker: the escalation to SIGTERM after 2 s is what ends it.
    let t = Instant::now();
    dap.ok("terminate", json!({}));
    dap.wait_event("terminated", TIMEOUT);
    assert!(wait_gone(pid, Duration::from_secs(2)));
    assert_eq!(dap.events("exited")[0]["body"]["exitCode"], 128 + 15);
    assert!(t.elapsed() >= Duration::from_secs(2) && t.elapsed() < Duration::from_secs(8), "{:?}", t.elapsed());
    let (path, _) = saved_profile(&dap);
    assert!(path.exists());
    dap.ok("disconnect", json!({}));
}

fn spawn_target(ws: &Workspace, seconds: f64) -> KillOnDrop {
    // Default SIGINT even when the suite runs from a background job: the test below ends it
    // with SIGINT.
    let mut c = ember_sampler::default_signals(&mut Command::new(python()))
        .env("DAEMON", "1")
        .arg(ws.script())
        .arg(seconds.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(c.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
    assert_eq!(line, "workload started\n");
    KillOnDrop(c)
}

#[test]
fn attach_by_string_pid_then_disconnect_detaches_and_leaves_it_running() {
    let ws = Workspace::new();
    let mut guard = spawn_target(&ws, 60.0);
    let target = &mut guard.0;
    let mut dap = Dap::stdio(&[]);
    dap.initialize(json!({}));
    dap.ok("attach", json!({"processId": target.id().to_string(), "cwd": ws.path(), "rate": 200}));
    assert_eq!(started_pid(&mut dap), target.id());
    std::thread::sleep(Duration::from_millis(700));
    dap.ok("pause", json!({}));
    dap.wait_event("stopped", TIMEOUT);
    // Detach while paused: the target must be resumed, not left stopped.
    dap.ok("disconnect", json!({}));
    std::thread::sleep(Duration::from_millis(300));
    assert!(matches!(state_of(target.id()), Some('R') | Some('S')), "{:?}", state_of(target.id()));
    assert!(target.try_wait().unwrap().is_none(), "attach must not end the process");
    let (path, samples) = saved_profile(&dap);
    assert!(path.starts_with(ws.out()) && samples > 0);
    assert!(function_names(&path).iter().any(|n| n == "spin"));
    target.kill().unwrap();
    target.wait().unwrap();
}

#[test]
fn an_empty_session_says_why_in_launch_json_words() {
    let ws = Workspace::new();
    let sleeper = KillOnDrop(Command::new(python()).args(["-c", "import time; time.sleep(60)"]).spawn().unwrap());
    std::thread::sleep(Duration::from_millis(500));
    let mut dap = Dap::stdio(&[]);
    dap.initialize(json!({}));
    dap.ok("attach", json!({"processId": sleeper.0.id(), "cwd": ws.path(), "duration": 1}));
    dap.wait_event("terminated", TIMEOUT);
    let said: String = dap.events("output").iter().filter_map(|e| e["body"]["output"].as_str()).collect();
    assert!(said.contains("every thread was idle") && said.contains("\"idle\": true"), "{said}");
    assert_eq!(saved_profile(&dap).1, 0);
}

/// The duration ends while the editor holds an attached program paused: the session ends and
/// the program runs again (it used to stay stopped, with nobody left to resume it).
#[test]
fn a_duration_ending_during_a_pause_resumes_an_attached_program() {
    let ws = Workspace::new();
    let target = KillOnDrop(Command::new(python()).args(["-c", "while True: pass"]).spawn().unwrap());
    let pid = target.0.id();
    std::thread::sleep(Duration::from_millis(300));
    let mut dap = Dap::stdio(&[]);
    dap.initialize(json!({}));
    dap.ok("attach", json!({"processId": pid, "cwd": ws.path(), "duration": 1.5}));
    started_pid(&mut dap);
    dap.ok("pause", json!({"threadId": pid}));
    dap.wait_event("stopped", TIMEOUT);
    assert_eq!(state_of(pid), Some('T'));
    dap.wait_event("terminated", TIMEOUT);
    std::thread::sleep(Duration::from_millis(100));
    assert!(matches!(state_of(pid), Some('R' | 'S')), "left in state {:?}", state_of(pid));
    dap.ok("disconnect", json!({}));
}

#[test]
fn attach_then_disconnect_with_terminate_debuggee_ends_it() {
    let ws = Workspace::new();
    let mut guard = spawn_target(&ws, 60.0);
    let target = &mut guard.0;
    let mut dap = Dap::stdio(&[]);
    dap.initialize(json!({}));
    dap.ok("attach", json!({"processId": target.id(), "cwd": ws.path()}));
    started_pid(&mut dap);
    dap.ok("disconnect", json!({"terminateDebuggee": true}));
    let status = target.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    // Daemon worker: the SIGINT alone ends it (KeyboardInterrupt, then Python re-raises SIGINT).
    assert_eq!(status.signal(), Some(libc::SIGINT), "{status}");
    assert!(saved_profile(&dap).0.exists());
}

#[test]
fn disconnect_from_a_launch_ends_the_program_by_default_and_keeps_it_if_asked() {
    let ws = Workspace::new();
    let (mut dap, pid) = launch_long(&ws);
    std::thread::sleep(Duration::from_millis(500));
    dap.ok("disconnect", json!({}));
    assert!(wait_gone(pid, Duration::from_secs(1)), "disconnect must end a launched program");
    assert!(saved_profile(&dap).0.exists());

    let mut dap = Dap::stdio(&[]);
    dap.initialize(json!({}));
    dap.ok("launch", ws.launch_args(4.0, 0));
    let pid = started_pid(&mut dap);
    dap.ok("disconnect", json!({"terminateDebuggee": false}));
    let said: String = dap.events("output").iter().map(|e| e["body"]["output"].as_str().unwrap().to_string()).collect();
    let log = said.split("its output now goes to ").nth(1).and_then(|s| s.lines().next()).unwrap_or_else(|| panic!("{said}")).trim().to_string();
    // Kept even past the adapter's end, however it ends.
    unsafe { libc::kill(dap.pid() as i32, libc::SIGKILL) };
    dap.wait_exit(Duration::from_secs(5)).expect("a SIGKILLed adapter is gone");
    std::thread::sleep(Duration::from_millis(500));
    assert!(!wait_gone(pid, Duration::from_millis(100)), "terminateDebuggee: false keeps it running");
    assert!(saved_profile(&dap).0.exists());
    // Its last print (after the adapter was gone) reached the log: it did not die of a broken
    // pipe, as it did when Ember's end closed the pipes it printed into.
    assert!(wait_gone(pid, Duration::from_secs(15)), "the program ends on its own");
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut text = String::new();
    while !text.contains("workload done") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        text = std::fs::read_to_string(&log).unwrap_or_default();
    }
    assert!(text.contains("workload done") && !text.contains("BrokenPipe"), "{log}: {text}");
}

#[test]
fn a_crashing_target_still_leaves_its_profile() {
    let ws = Workspace::new();
    let mut dap = Dap::stdio(&[]);
    dap.initialize(json!({}));
    let mut args = ws.launch_args(1.0, 0);
    args["env"] = json!({"CRASH": "1"});
    dap.ok("launch", args);
    dap.wait_event("terminated", TIMEOUT);
    assert_eq!(dap.events("exited")[0]["body"]["exitCode"], 128 + 11);
    let text: String = dap.events("output").iter().map(|e| e["body"]["output"].as_str().unwrap().to_string()).collect();
    assert!(text.contains("killed by signal 11"), "{text}");
    let (path, samples) = saved_profile(&dap);
    assert!(samples > 20 && function_names(&path).iter().any(|n| n == "spin"));
}

#[test]
fn a_killed_adapter_saves_first_and_ends_its_program() {
    let ws = Workspace::new();
    let (mut dap, pid) = launch_long(&ws);
    std::thread::sleep(Duration::from_millis(800));
    // What nvim-dap does as soon as a session closes.
    unsafe { libc::kill(dap.pid() as i32, libc::SIGTERM) };
    let status = dap.wait_exit(Duration::from_secs(15)).expect("adapter exits after SIGTERM");
    assert!(status.success(), "{status}");
    let saved = store::latest_in_dir(&ws.out()).unwrap().expect("profile saved on SIGTERM");
    assert!(function_names(&saved).iter().any(|n| n == "spin"));
    assert!(wait_gone(pid, Duration::from_secs(1)), "a launched program does not outlive its adapter");
}

#[test]
fn a_launched_program_ends_even_when_the_adapter_is_sigkilled() {
    let ws = Workspace::new();
    let (mut dap, pid) = launch_long(&ws);
    // Later requests run on other tokio workers; the program must not depend on which one.
    dap.ok("threads", json!({}));
    std::thread::sleep(Duration::from_millis(1800));
    unsafe { libc::kill(dap.pid() as i32, libc::SIGKILL) };
    dap.wait_exit(Duration::from_secs(5)).expect("a SIGKILLed adapter is gone");
    let gone = wait_gone(pid, Duration::from_secs(5));
    if !gone {
        unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    }
    assert!(gone, "the program a killed adapter launched (PID {pid}) runs on");

    // Its recording is in its journal, and the next session in that folder saves it.
    let journals: Vec<PathBuf> = std::fs::read_dir(ws.out()).unwrap().map(|e| e.unwrap().path()).filter(|p| p.to_string_lossy().ends_with(".partial")).collect();
    assert_eq!(journals.len(), 1, "{journals:?}");
    let kept = file::load(&journals[0]).unwrap().samples.len();
    assert!(kept > 100, "{kept} samples in the journal at 200 Hz");
    let mut dap = Dap::stdio(&[]);
    dap.initialize(json!({}));
    dap.ok("launch", ws.launch_args(0.5, 0));
    let said = dap.wait_event_where("output", TIMEOUT, |e| e["body"]["output"].as_str().is_some_and(|t| t.contains("interrupted")));
    let text = said["body"]["output"].as_str().unwrap();
    let recovered = journals[0].with_extension("");
    assert!(text.contains(&format!("its {kept} samples")) && text.contains(recovered.to_str().unwrap()), "{text}");
    assert_eq!(file::load(&recovered).unwrap().samples.len(), kept);
    assert!(!journals[0].exists());
    dap.wait_event("terminated", TIMEOUT);
    let (latest, _) = saved_profile(&dap);
    assert_eq!(store::latest_in_dir(&ws.out()).unwrap(), Some(latest.clone()), "the newer recording stays the latest");
    assert_ne!(latest, recovered);
    let left: Vec<PathBuf> = std::fs::read_dir(ws.out()).unwrap().map(|e| e.unwrap().path()).filter(|p| p.to_string_lossy().ends_with(".partial")).collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn an_editor_that_goes_away_still_gets_its_profile_saved() {
    let ws = Workspace::new();
    let (mut dap, pid) = launch_long(&ws);
    std::thread::sleep(Duration::from_millis(500));
    let status = dap.close_and_wait(Duration::from_secs(15)).expect("adapter exits when its client is gone");
    assert!(status.success());
    assert!(store::latest_in_dir(&ws.out()).unwrap().is_some());
    assert!(wait_gone(pid, Duration::from_secs(1)));
}

#[test]
fn integrated_terminal_goes_through_run_in_terminal() {
    let ws = Workspace::new();
    let mut dap = Dap::stdio(&[]);
    dap.initialize(json!({"supportsRunInTerminalRequest": true}));
    let mut args = ws.launch_args(1.0, 3);
    args["console"] = json!("integratedTerminal");
    args["env"] = json!({"EMBER_TERMINAL_TEST": "yes"});
    let seq = dap.send_request("launch", args);
    // Play the editor: run what the adapter asks for, in its cwd with its env.
    let req = dap.wait_request("runInTerminal");
    let a = &req["arguments"];
    assert_eq!(a["kind"], "integrated");
    assert_eq!(a["cwd"], ws.path().to_str().unwrap());
    assert_eq!(a["env"]["EMBER_TERMINAL_TEST"], "yes");
    let argv: Vec<String> = a["args"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
    assert!(argv.contains(&ws.script().to_string_lossy().into_owned()), "{argv:?}");
    let mut term = Command::new(&argv[0]).args(&argv[1..]).current_dir(ws.path()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    dap.send_response(&req, json!({"processId": term.id()}));
    let r = dap.response_to(seq, "launch");
    assert_eq!(r["success"], true, "{r}");
    let pid = started_pid(&mut dap);
    assert_ne!(pid, term.id(), "the PID is the program's own, not the terminal wrapper's");
    assert_eq!(std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap().lines().find(|l| l.starts_with("PPid:")).unwrap().split_whitespace().nth(1), Some(term.id().to_string().as_str()));
    dap.wait_event("terminated", TIMEOUT);
    // Not the adapter's child, yet its exit code is reported, before `terminated`.
    let exited = dap.events("exited");
    assert_eq!(exited.len(), 1, "{exited:?}");
    assert_eq!(exited[0]["body"]["exitCode"], 3);
    assert_eq!(term.wait().unwrap().code(), Some(3), "the wrapper exits as the program did");
    // Its output went to the terminal, not to the Debug Console.
    assert!(dap.events("output").iter().all(|e| e["body"]["category"] != "stdout"));
    assert!(saved_profile(&dap).0.exists());
}

#[test]
fn live_attach_errors_say_what_to_do() {
    let mut dap = Dap::stdio(&[]);
    dap.initialize(json!({}));
    let mut sleeper = Command::new("/bin/sleep").arg("30").spawn().unwrap();
    let m = dap.fails("attach", json!({"processId": sleeper.id()}));
    assert!(m.contains("not a Python process"), "{m}");
    sleeper.kill().unwrap();
    sleeper.wait().unwrap();
    // Python 2.7 is not supported: say which versions are.
    let old = Path::new("/root/.pyenv/versions/2.7.18/bin/python2");
    if old.exists() {
        let mut py2 = Command::new(old).args(["-c", "import time; time.sleep(30)"]).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(300));
        let m = dap.fails("attach", json!({"processId": py2.id()}));
        assert!(m.contains("3.8") && m.contains("3.15"), "{m}");
        py2.kill().unwrap();
        py2.wait().unwrap();
    }
    // A program that dies before its interpreter is up: the launch fails, the adapter serves on.
    let ws = Workspace::new();
    let mut args = ws.launch_args(0.0, 0);
    args["python"] = json!("/bin/false");
    let m = dap.fails("launch", args);
    assert!(m.contains("ended before Ember could sample it") && m.contains("Debug Console"), "{m}");
    assert_eq!(dap.ok("threads", json!({}))["threads"], json!([]));
}

#[test]
fn attach_without_permission_says_what_to_change() {
    // Run the adapter as `nobody` against a process of ours (needs root and setpriv; skipped
    // otherwise).
    if unsafe { libc::geteuid() } != 0 || !Path::new("/usr/bin/setpriv").exists() {
        eprintln!("skipped: needs root and setpriv");
        return;
    }
    let ws = Workspace::new();
    let mut guard = spawn_target(&ws, 60.0);
    let target = &mut guard.0;
    let mut child = KillOnDrop(
        Command::new("/usr/bin/setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", BIN, "dap"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut dap = Dap::from_child(&mut child.0);
    dap.initialize(json!({}));
    let m = dap.fails("attach", json!({"processId": target.id(), "cwd": "/tmp"}));
    assert!(m.contains("permission denied") && (m.contains("CAP_SYS_PTRACE") || m.contains("ptrace_scope")), "{m}");
    assert!(m.contains("same user"), "{m}");
    assert_eq!(dap.ok("threads", json!({}))["threads"], json!([]));
    target.kill().unwrap();
    target.wait().unwrap();
    drop(child);
}

#[test]
fn duration_ends_sampling_saves_and_ends_the_session() {
    let ws = Workspace::new();
    let mut dap = Dap::stdio(&[]);
    dap.initialize(json!({"supportsProgressReporting": true}));
    let mut args = ws.launch_args(60.0, 0);
    args["duration"] = json!(1.5);
    let t = Instant::now();
    dap.ok("launch", args);
    let pid = started_pid(&mut dap);
    let update = dap.wait_event("progressUpdate", TIMEOUT);
    let pct = update["body"]["percentage"].as_f64().expect("a percentage when the duration is known");
    assert!((0.0..=100.0).contains(&pct), "{pct}");
    dap.wait_event("terminated", TIMEOUT);
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    let (path, samples) = saved_profile(&dap);
    assert!(path.exists());
    // About 1.5 s of two busy threads at 200 Hz (600), fewer on a loaded machine; never the
    // 60 s the program would run.
    assert!((50..=800).contains(&samples), "{samples}");
    // The launched program ends with the recording, as with `ember record -d`, before
    // `terminated`: not left to a client's disconnect.
    assert!(wait_gone(pid, Duration::from_millis(200)), "the program outlived its recording");
    let said: String = dap.events("output").iter().map(|e| e["body"]["output"].as_str().unwrap().to_string()).collect();
    assert!(said.contains(&format!("duration is over: stopping the program (PID {pid})")), "{said}");
    dap.ok("disconnect", json!({}));
}

#[test]
fn a_program_too_short_to_sample_gets_a_clear_error() {
    let ws = Workspace::new();
    std::fs::write(ws.path().join("quick.py"), "print('bye')\n").unwrap();
    let mut dap = Dap::stdio(&[]);
    dap.initialize(json!({}));
    let r = dap.request("launch", json!({"program": "quick.py", "cwd": ws.path(), "python": python()}));
    // Either it was sampled at least once (a fast machine) or the error says why not.
    if r["success"] == false {
        let m = r["message"].as_str().unwrap();
        assert!(m.contains("quick ended before Ember could sample it") && m.contains("longer run"), "{m}");
        let out: String = dap.events("output").iter().map(|e| e["body"]["output"].as_str().unwrap().to_string()).collect();
        assert!(out.contains("bye"), "the program's output still reaches the console: {out}");
        assert_eq!(dap.ok("threads", json!({}))["threads"], json!([]));
    } else {
        dap.wait_event("terminated", TIMEOUT);
        assert_eq!(dap.events("exited")[0]["body"]["exitCode"], 0);
        assert!(saved_profile(&dap).0.exists());
    }
}

#[test]
fn a_refused_run_in_terminal_is_an_error_that_names_the_way_out() {
    let ws = Workspace::new();
    let mut dap = Dap::stdio(&[]);
    dap.initialize(json!({"supportsRunInTerminalRequest": true}));
    let mut args = ws.launch_args(1.0, 0);
    args["console"] = json!("integratedTerminal");
    let seq = dap.send_request("launch", args);
    let req = dap.wait_request("runInTerminal");
    dap.send_raw_response(&req, false, "no terminal available");
    let r = dap.response_to(seq, "launch");
    assert_eq!(r["success"], false);
    let m = r["message"].as_str().unwrap();
    assert!(m.contains("no terminal available") && m.contains("internalConsole"), "{m}");
    // Still usable: the same program in the internal console.
    dap.ok("launch", ws.launch_args(0.3, 0));
    dap.wait_event("terminated", TIMEOUT);
}

#[test]
fn an_unwritable_output_dir_is_reported_and_the_profile_kept_elsewhere() {
    let ws = Workspace::new();
    let mut dap = Dap::stdio(&[]);
    dap.initialize(json!({}));
    let mut args = ws.launch_args(0.5, 0);
    args["outputDir"] = json!("work.py/profiles"); // under a file: cannot be created
    dap.ok("launch", args);
    dap.wait_event("terminated", TIMEOUT);
    let says = |dap: &Dap, prefix: &str| -> Vec<String> {
        dap.events("output")
            .iter()
            .map(|e| e["body"]["output"].as_str().unwrap().to_string())
            .filter(|t| t.starts_with(prefix))
            .collect()
    };
    let errors = says(&dap, "Ember could not save");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("work.py/profiles") && errors[0].contains("fix `outputDir`"), "{}", errors[0]);
    // Never lost: saved in the temporary folder, and reported as usual.
    let (path, samples) = saved_profile(&dap);
    assert!(path.starts_with(std::env::temp_dir().join("ember")), "{path:?}");
    assert!(samples > 0 && function_names(&path).iter().any(|n| n == "spin"));
    assert!(errors[0].contains(path.parent().unwrap().to_str().unwrap()));
    // Reported once, even though disconnect comes after.
    dap.ok("disconnect", json!({}));
    dap.drain(Duration::from_secs(2));
    assert_eq!(says(&dap, "Ember could not save").len(), 1);
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn subprocesses_are_sampled_when_asked() {
    let ws = Workspace::new();
    std::fs::write(
        ws.path().join("parent.py"),
        "import subprocess, sys\nsubprocess.run([sys.executable, 'work.py', '1.5'], check=True)\n",
    )
    .unwrap();
    let mut dap = Dap::stdio(&[]);
    dap.initialize(json!({}));
    dap.ok("launch", json!({"program": "parent.py", "cwd": ws.path(), "python": python(), "rate": 200, "subprocesses": true}));
    dap.wait_event("terminated", TIMEOUT);
    assert_eq!(dap.events("exited")[0]["body"]["exitCode"], 0);
    let (path, _) = saved_profile(&dap);
    let p = file::load(&path).unwrap();
    assert!(p.processes.len() >= 2, "{:?}", p.processes);
    assert!(p.functions.iter().any(|f| p.str(f.name) == "spin"), "the child's work is in the profile");
}

#[test]
fn blocking_launch_pauses_for_each_sample_and_the_program_still_ends_normally() {
    let ws = Workspace::new();
    let mut dap = Dap::stdio(&[]);
    dap.initialize(json!({}));
    let mut args = ws.launch_args(1.0, 3);
    args["blocking"] = json!(true);
    dap.ok("launch", args);
    started_pid(&mut dap);
    let exited = dap.wait_event("exited", TIMEOUT);
    assert_eq!(exited["body"]["exitCode"], 3, "{exited}");
    dap.wait_event("terminated", TIMEOUT);
    let (path, samples) = saved_profile(&dap);
    assert!(samples > 50, "{samples}");
    assert!(function_names(&path).iter().any(|n| n == "spin"));
}

#[test]
fn stopping_a_launch_that_still_waits_for_python_is_answered_at_once() {
    let ws = Workspace::new();
    // A launcher that takes its time to exec Python (a slow `poetry run`, a wrapper script).
    std::fs::write(ws.path().join("slow.sh"), "sleep 30\n").unwrap();
    let mut dap = Dap::stdio(&[]);
    dap.initialize(json!({}));
    let launch = dap.send_request("launch", json!({"program": "slow.sh", "python": "/bin/sh", "cwd": ws.path()}));
    std::thread::sleep(Duration::from_millis(1000));
    // The adapter's children: the launcher and its watchdog.
    let sh: Vec<u32> = children_of(dap.pid()).into_iter().filter(|c| std::fs::read_to_string(format!("/proc/{c}/comm")).is_ok_and(|n| n.trim() == "sh")).collect();
    assert_eq!(sh.len(), 1, "the launcher runs: {sh:?}");
    let asked = Instant::now();
    let disconnect = dap.send_request("disconnect", json!({}));
    let r = dap.response_to(launch, "launch");
    assert_eq!(r["success"], false, "{r}");
    assert!(r["message"].as_str().unwrap().contains("session ended while Ember waited for Python"), "{r}");
    assert_eq!(dap.response_to(disconnect, "disconnect")["success"], true);
    // Without the cancel, both waited out the 20 s start timeout.
    assert!(asked.elapsed() < Duration::from_secs(5), "answered after {:?}", asked.elapsed());
    assert!(wait_gone(sh[0], Duration::from_secs(3)), "the launcher (PID {}) was left running", sh[0]);
}

#[test]
fn a_program_in_the_terminal_that_cannot_be_profiled_is_not_left_running() {
    let ws = Workspace::new();
    std::fs::write(ws.path().join("notpy.sh"), "exec sleep 60\n").unwrap();
    let mut dap = Dap::stdio(&[]);
    dap.initialize(json!({"supportsRunInTerminalRequest": true}));
    let seq = dap.send_request("launch", json!({"program": "notpy.sh", "python": "/bin/sh", "cwd": ws.path(), "console": "integratedTerminal"}));
    let req = dap.wait_request("runInTerminal");
    let argv: Vec<String> = req["arguments"]["args"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
    let mut term = KillOnDrop(Command::new(&argv[0]).args(&argv[1..]).current_dir(ws.path()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap());
    dap.send_response(&req, json!({"processId": term.0.id()}));
    let r = dap.response_to(seq, "launch");
    assert_eq!(r["success"], false, "{r}");
    let m = r["message"].as_str().unwrap();
    assert!(m.contains("is not a Python process") && m.contains("The program was stopped"), "{m}");
    // The terminal's wrapper exits once the program it runs has ended.
    let deadline = Instant::now() + Duration::from_secs(5);
    while term.0.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the program in the terminal runs on after a failed launch");
        std::thread::sleep(Duration::from_millis(50));
    }
    dap.ok("disconnect", json!({}));
}

#[test]
fn sigterm_to_a_tcp_server_ends_its_sessions_with_terminated() {
    let ws = Workspace::new();
    let (mut server, port) = tcp_server();
    let mut dap = Dap::tcp(port);
    dap.initialize(json!({}));
    dap.ok("launch", ws.launch_args(60.0, 0));
    let pid = started_pid(&mut dap);
    std::thread::sleep(Duration::from_millis(500));
    unsafe { libc::kill(server.0.id() as i32, libc::SIGTERM) };
    dap.wait_event("terminated", Duration::from_secs(15));
    assert!(saved_profile(&dap).0.exists(), "the profile is saved and named before `terminated`");
    assert!(wait_gone(pid, Duration::from_secs(2)));
    let status = server.0.wait().unwrap();
    assert!(status.success(), "{status}");
}

/// The processes whose parent is `pid`.
fn children_of(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default().split_whitespace().filter_map(|p| p.parse().ok()).collect()
}

#[test]
fn the_program_gets_the_variables_of_env_file_with_env_winning() {
    let ws = Workspace::new();
    std::fs::write(ws.path().join("show_env.py"), "import os\nprint('GREETING', os.environ.get('GREETING'), os.environ.get('TARGET'))\nimport time; time.sleep(0.3)\n").unwrap();
    std::fs::write(ws.path().join(".env"), "GREETING=hello\nTARGET=file\n").unwrap();
    let mut dap = Dap::stdio(&[]);
    dap.initialize(json!({}));
    dap.ok("launch", json!({"program": "show_env.py", "cwd": ws.path(), "python": python(), "env": {"TARGET": "env"}}));
    dap.wait_event("terminated", TIMEOUT);
    let text = dap.events("output").iter().map(|e| e["body"]["output"].as_str().unwrap().to_string()).collect::<String>();
    assert!(text.contains("GREETING hello env\n"), "{text}");
    assert!(text.contains(&format!("Ember set 2 environment variables from {}", ws.path().join(".env").display())), "{text}");
    let mut dap = Dap::stdio(&[]);
    dap.initialize(json!({}));
    let m = dap.fails("launch", json!({"program": "show_env.py", "cwd": ws.path(), "python": python(), "envFile": "nope.env"}));
    assert!(m.contains("`envFile`") && m.contains("nope.env"), "{m}");
}
