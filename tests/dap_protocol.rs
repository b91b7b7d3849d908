//! `ember dap` end to end, the parts that need no live target: transport (stdio, TCP),
//! framing, capabilities, unknown and malformed messages, and every argument error. The
//! adapter must answer each error with a message that says what to do, and keep serving.

#[path = "dap_support.rs"]
mod support;

use serde_json::{json, Value};
use std::time::Duration;
use support::*;

#[test]
fn initialize_answers_truthful_capabilities_then_initialized() {
    let mut dap = Dap::stdio(&[]);
    let caps = dap.initialize(json!({}));
    assert_eq!(caps["supportsConfigurationDoneRequest"], true);
    assert_eq!(caps["supportsTerminateRequest"], true);
    assert_eq!(caps["supportTerminateDebuggee"], true);
    // Ember never stops at breakpoints, never evaluates: it must not claim to.
    assert_eq!(caps["supportsConditionalBreakpoints"], false);
    assert_eq!(caps["supportsEvaluateForHovers"], false);
    assert_eq!(caps["supportsRestartRequest"], false);
    dap.wait_event("initialized", Duration::from_secs(5));
    // The response comes before the event, and seq numbers grow.
    let seqs: Vec<i64> = dap.seen.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    assert_eq!(dap.seen[0]["type"], "response");
    assert_eq!(dap.seen[1]["event"], "initialized");
    // Breakpoints are answered honestly: not verified, with a reason.
    let bps = dap.ok("setBreakpoints", json!({"source": {"path": "/x.py"}, "breakpoints": [{"line": 3}, {"line": 9}]}));
    let bps = bps["breakpoints"].as_array().unwrap();
    assert_eq!(bps.len(), 2);
    assert!(bps.iter().all(|b| b["verified"] == false && b["message"].as_str().unwrap().contains("profiles")));
    // Nothing launched yet: no threads, and configurationDone is fine on its own.
    assert_eq!(dap.ok("threads", json!({}))["threads"], json!([]));
    dap.ok("configurationDone", json!({}));
    dap.ok("disconnect", json!({}));
    assert!(dap.close_and_wait(Duration::from_secs(5)).expect("adapter exits after disconnect").success());
}

#[test]
fn unknown_commands_get_an_error_and_the_adapter_keeps_serving() {
    let mut dap = Dap::stdio(&[]);
    dap.initialize(json!({}));
    let msg = dap.fails("evaluate", json!({"expression": "1+1"}));
    assert!(msg.contains("evaluate") && msg.contains("profiler"), "{msg}");
    let msg = dap.fails("stepIn", json!({"threadId": 1}));
    assert!(msg.contains("stepIn"), "{msg}");
    let msg = dap.fails("pause", json!({"threadId": 1}));
    assert!(msg.contains("launch or attach") || msg.contains("nothing to pause"), "{msg}");
    assert_eq!(dap.ok("threads", json!({}))["threads"], json!([]));
    let msg = dap.fails("variables", json!({}));
    assert_eq!(msg, "variables needs a variablesReference (from scopes)");
    let msg = dap.fails("variables", json!({"variablesReference": 9}));
    assert!(msg.contains("unknown variablesReference 9") && msg.contains("hottest lines"), "{msg}");
    // Before any launch, `ember/profile` has the keys it will have later.
    let status = dap.ok("ember/profile", json!({}));
    let mut keys: Vec<&String> = status.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["outputDir", "path", "paused", "pid", "samples", "url"]);
}

#[test]
fn malformed_frames_are_logged_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("dap.log");
    let mut dap = Dap::stdio(&["--log", log.to_str().unwrap()]);
    dap.send_raw(b"Content-Length: 9\r\n\r\n{not json");
    dap.send_raw(b"X-Header: 1\r\n\r\n");
    dap.send_raw(b"Content-Length: 5\r\n\r\n[1,2]");
    dap.send_raw(b"Content-Length: 23\r\n\r\n{\"seq\":1,\"type\":\"what\"}");
    // Still serving: a well-formed request gets its answer.
    let caps = dap.initialize(json!({}));
    assert_eq!(caps["supportsTerminateRequest"], true);
    // Nothing was answered for the garbage: the first message is initialize's response.
    assert_eq!(dap.seen[0]["command"], "initialize");
    // A broken request still gets its (error) answer: a client waiting on it would hang.
    let bad = br#"{"seq":"7","type":"request","command":"threads"}"#;
    dap.send_raw(format!("Content-Length: {}\r\n\r\n", bad.len()).as_bytes());
    dap.send_raw(bad);
    let bad = br#"{"seq":8,"type":"request"}"#;
    dap.send_raw(format!("Content-Length: {}\r\n\r\n", bad.len()).as_bytes());
    dap.send_raw(bad);
    dap.ok("disconnect", json!({}));
    let answers: Vec<&Value> = dap.seen.iter().filter(|m| m["type"] == "response" && m["success"] == false).collect();
    assert_eq!(answers.len(), 2, "{:#?}", dap.seen);
    assert_eq!((answers[0]["request_seq"].as_i64(), answers[0]["command"].as_str()), (Some(7), Some("threads")));
    assert_eq!(answers[1]["request_seq"].as_i64(), Some(8));
    assert!(answers[1]["message"].as_str().unwrap().contains("could not read this request"), "{}", answers[1]);
    dap.close_and_wait(Duration::from_secs(5)).expect("exits");
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("not JSON"), "{text}");
    assert!(text.contains("without Content-Length"), "{text}");
    assert!(text.contains("not an object"), "{text}");
    assert!(text.contains("unknown message type"), "{text}");
    // Every message in and out is logged.
    assert!(text.contains("<- {") && text.contains("\"command\":\"initialize\""), "{text}");
    assert!(text.contains("-> {") && text.contains("\"event\":\"initialized\""), "{text}");
}

#[test]
fn tcp_port_zero_prints_the_port_and_serves_one_session_per_connection() {
    let (mut guard, port) = tcp_server();
    let server = &mut guard.0;
    let mut a = Dap::tcp(port);
    let mut b = Dap::tcp(port);
    a.initialize(json!({}));
    b.initialize(json!({}));
    // Sessions are independent: an error in one does not touch the other.
    a.fails("launch", json!({"program": "/definitely/missing.py"}));
    assert_eq!(b.ok("threads", json!({}))["threads"], json!([]));
    a.ok("disconnect", json!({}));
    b.ok("disconnect", json!({}));
    // A new connection after both closed still works.
    let mut c = Dap::tcp(port);
    c.initialize(json!({}));
    // SIGTERM stops the server cleanly.
    unsafe { libc::kill(server.id() as i32, libc::SIGTERM) };
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(s) = server.try_wait().unwrap() {
            break s;
        }
        assert!(std::time::Instant::now() < deadline, "server did not exit on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status}");
}

#[test]
fn sigterm_and_eof_end_an_idle_adapter_cleanly() {
    let mut dap = Dap::stdio(&[]);
    dap.initialize(json!({}));
    unsafe { libc::kill(dap.pid() as i32, libc::SIGTERM) };
    let s = dap.wait_exit(Duration::from_secs(5)).expect("exits on SIGTERM");
    assert!(s.success(), "{s}");

    let mut dap = Dap::stdio(&[]);
    dap.initialize(json!({}));
    let s = dap.close_and_wait(Duration::from_secs(5)).expect("exits when stdin closes");
    assert!(s.success(), "{s}");
}

fn launch_error(dap: &mut Dap, args: Value) -> String {
    let msg = dap.fails("launch", args);
    // The adapter stays usable after each error.
    assert_eq!(dap.ok("threads", json!({}))["threads"], json!([]));
    msg
}

#[test]
fn launch_errors_say_what_to_fix() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.py"), "print('hi')\n").unwrap();
    let cwd = dir.path().to_str().unwrap();
    let mut dap = Dap::stdio(&[]);
    dap.initialize(json!({}));

    let m = launch_error(&mut dap, json!({"cwd": cwd}));
    assert!(m.contains("`program`") && m.contains("`module`"), "{m}");
    let m = launch_error(&mut dap, json!({"cwd": cwd, "program": "nope.py"}));
    assert!(m.contains("nope.py") && m.contains("not found") && m.contains("`program`"), "{m}");
    let m = launch_error(&mut dap, json!({"cwd": cwd, "program": "app.py", "module": "app"}));
    assert!(m.contains("not both"), "{m}");
    let m = launch_error(&mut dap, json!({"cwd": cwd, "program": "app.py", "python": "/no/python3"}));
    assert!(m.contains("`python`") && m.contains("/no/python3"), "{m}");
    let m = launch_error(&mut dap, json!({"cwd": "/no/such/folder", "program": "app.py"}));
    assert!(m.contains("`cwd`"), "{m}");
    let m = launch_error(&mut dap, json!({"cwd": cwd, "program": "app.py", "rate": "fast"}));
    assert!(m.contains("`rate`") && m.contains("max"), "{m}");
    let m = launch_error(&mut dap, json!({"cwd": cwd, "program": "app.py", "rate": 0}));
    assert!(m.contains("`rate`"), "{m}");
    let m = launch_error(&mut dap, json!({"cwd": cwd, "program": "app.py", "console": "tty"}));
    assert!(m.contains("console") || m.contains("internalConsole"), "{m}");
    let m = launch_error(&mut dap, json!({"cwd": cwd, "program": "app.py", "args": {"n": 5}}));
    assert!(m.contains("launch configuration"), "{m}");
}

#[test]
fn attach_errors_say_what_to_fix() {
    let mut dap = Dap::stdio(&[]);
    dap.initialize(json!({}));
    let attach_error = |dap: &mut Dap, args: Value| {
        let m = dap.fails("attach", args);
        assert_eq!(dap.ok("threads", json!({}))["threads"], json!([]));
        m
    };
    let m = attach_error(&mut dap, json!({}));
    assert!(m.contains("`processId`"), "{m}");
    // An unresolved picker variable, a negative number, a non-number.
    let m = attach_error(&mut dap, json!({"processId": "${command:pickProcess}"}));
    assert!(m.contains("processId") && m.contains("numeric string"), "{m}");
    let m = attach_error(&mut dap, json!({"processId": -4}));
    assert!(m.contains("processId"), "{m}");
    let m = attach_error(&mut dap, json!({"processId": {"pid": 3}}));
    assert!(m.contains("processId"), "{m}");
    // A dead PID, given as a number and as a string.
    let dead = dead_pid();
    for pid in [json!(dead), json!(dead.to_string())] {
        let m = attach_error(&mut dap, json!({"processId": pid}));
        assert!(m.contains(&format!("no process with PID {dead}")), "{m}");
    }
    let me = dap.pid();
    let m = attach_error(&mut dap, json!({"processId": me}));
    assert!(m.contains("Ember itself"), "{m}");
}
