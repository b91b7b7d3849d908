//! A small synchronous DAP client for the end-to-end tests: it drives the real `ember dap`
//! binary over stdio or TCP, checks that every byte it receives is a well-formed frame, and
//! keeps events in arrival order so tests can assert on sequences.
#![allow(dead_code)]

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_ember");
pub const TIMEOUT: Duration = Duration::from_secs(30);

pub struct Dap {
    pub child: Option<Child>,
    writer: Box<dyn Write + Send>,
    rx: Receiver<Result<Value, String>>,
    seq: i64,
    /// Every message received, in order.
    pub seen: Vec<Value>,
    /// Index into `seen` up to which events were consumed by `wait_event`.
    cursor: usize,
}

fn reader_thread(r: impl Read + Send + 'static) -> Receiver<Result<Value, String>> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        let mut r = BufReader::new(r);
        loop {
            let mut len = None;
            loop {
                let mut line = String::new();
                match r.read_line(&mut line) {
                    Ok(0) => return,
                    Ok(_) => {}
                    Err(e) => {
                        let _ = tx.send(Err(format!("read error: {e}")));
                        return;
                    }
                }
                if line == "\r\n" {
                    break;
                }
                match line.strip_prefix("Content-Length: ").and_then(|v| v.trim().parse::<usize>().ok()) {
                    Some(n) => len = Some(n),
                    None => {
                        let _ = tx.send(Err(format!("not a DAP header on the adapter's output: {line:?}")));
                        return;
                    }
                }
            }
            let Some(n) = len else {
                let _ = tx.send(Err("frame without Content-Length".into()));
                return;
            };
            let mut body = vec![0; n];
            if r.read_exact(&mut body).is_err() {
                return;
            }
            let _ = tx.send(serde_json::from_slice(&body).map_err(|e| format!("body is not JSON: {e}")));
        }
    });
    rx
}

impl Dap {
    /// `ember dap` on stdio, with extra arguments (e.g. `--log FILE`).
    pub fn stdio(extra: &[&str]) -> Dap {
        let mut child = Command::new(BIN)
            .arg("dap")
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start ember dap");
        let writer = Box::new(child.stdin.take().unwrap());
        let rx = reader_thread(child.stdout.take().unwrap());
        Dap { child: Some(child), writer, rx, seq: 0, seen: Vec::new(), cursor: 0 }
    }

    /// Speaks to an adapter the test started itself (stdin/stdout piped); the test owns it.
    pub fn from_child(child: &mut Child) -> Dap {
        let writer = Box::new(child.stdin.take().unwrap());
        let rx = reader_thread(child.stdout.take().unwrap());
        Dap { child: None, writer, rx, seq: 0, seen: Vec::new(), cursor: 0 }
    }

    pub fn tcp(port: u16) -> Dap {
        let s = TcpStream::connect(("127.0.0.1", port)).expect("connect to ember dap");
        let rx = reader_thread(s.try_clone().unwrap());
        Dap { child: None, writer: Box::new(s), rx, seq: 0, seen: Vec::new(), cursor: 0 }
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).unwrap();
        self.writer.flush().unwrap();
    }

    pub fn send_request(&mut self, command: &str, arguments: Value) -> i64 {
        self.seq += 1;
        let body = json!({"seq": self.seq, "type": "request", "command": command, "arguments": arguments}).to_string();
        self.send_raw(format!("Content-Length: {}\r\n\r\n{}", body.len(), body).as_bytes());
        self.seq
    }

    pub fn send_response(&mut self, request: &Value, body: Value) {
        self.seq += 1;
        let msg = json!({"seq": self.seq, "type": "response", "request_seq": request["seq"], "success": true, "command": request["command"], "body": body}).to_string();
        self.send_raw(format!("Content-Length: {}\r\n\r\n{}", msg.len(), msg).as_bytes());
    }

    pub fn send_raw_response(&mut self, request: &Value, success: bool, message: &str) {
        self.seq += 1;
        let msg = json!({"seq": self.seq, "type": "response", "request_seq": request["seq"], "success": success, "command": request["command"], "message": message}).to_string();
        self.send_raw(format!("Content-Length: {}\r\n\r\n{}", msg.len(), msg).as_bytes());
    }

    fn next(&mut self, deadline: Instant) -> Option<Value> {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.rx.recv_timeout(left) {
            Ok(Ok(v)) => {
                self.seen.push(v.clone());
                Some(v)
            }
            Ok(Err(e)) => panic!("{e}"),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => None,
        }
    }

    /// Sends a request and returns its response (success or not).
    pub fn request(&mut self, command: &str, arguments: Value) -> Value {
        let seq = self.send_request(command, arguments);
        self.response_to(seq, command)
    }

    pub fn response_to(&mut self, seq: i64, command: &str) -> Value {
        if let Some(r) = self.seen.iter().find(|m| m["type"] == "response" && m["request_seq"] == seq) {
            return r.clone();
        }
        let deadline = Instant::now() + TIMEOUT;
        while let Some(m) = self.next(deadline) {
            if m["type"] == "response" && m["request_seq"] == seq {
                assert_eq!(m["command"], command, "{m}");
                return m;
            }
        }
        panic!("no response to {command} (seq {seq}) within {TIMEOUT:?}; seen: {:#?}", self.seen);
    }

    /// A request that must succeed; returns its body.
    pub fn ok(&mut self, command: &str, arguments: Value) -> Value {
        let r = self.request(command, arguments);
        assert_eq!(r["success"], true, "{command} failed: {r}");
        r["body"].clone()
    }

    /// A request that must fail; returns its message.
    pub fn fails(&mut self, command: &str, arguments: Value) -> String {
        let r = self.request(command, arguments);
        assert_eq!(r["success"], false, "{command} should fail: {r}");
        assert_eq!(r["body"]["error"]["showUser"], true, "{r}");
        r["message"].as_str().unwrap().to_string()
    }

    /// The next event named `name` after the ones already waited for.
    pub fn wait_event(&mut self, name: &str, timeout: Duration) -> Value {
        self.wait_event_where(name, timeout, |_| true)
    }

    pub fn wait_event_where(&mut self, name: &str, timeout: Duration, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            while self.cursor < self.seen.len() {
                let m = self.seen[self.cursor].clone();
                self.cursor += 1;
                if m["type"] == "event" && m["event"] == name && pred(&m) {
                    return m;
                }
            }
            if self.next(deadline).is_none() {
                panic!("no {name} event within {timeout:?}; seen: {:#?}", self.seen);
            }
        }
    }

    /// The next reverse request `command` from the adapter.
    pub fn wait_request(&mut self, command: &str) -> Value {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(r) = self.seen.iter().find(|m| m["type"] == "request" && m["command"] == command) {
                return r.clone();
            }
            if self.next(deadline).is_none() {
                panic!("no {command} request within {TIMEOUT:?}; seen: {:#?}", self.seen);
            }
        }
    }

    /// Reads until the adapter closes the stream (or the timeout), returning what came.
    pub fn drain(&mut self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while self.next(deadline).is_some() {}
    }

    pub fn events(&self, name: &str) -> Vec<Value> {
        self.seen.iter().filter(|m| m["type"] == "event" && m["event"] == name).cloned().collect()
    }

    pub fn initialize(&mut self, extra: Value) -> Value {
        let mut args = json!({"clientID": "ember-tests", "adapterID": "ember", "linesStartAt1": true, "columnsStartAt1": true, "pathFormat": "path"});
        if let (Some(a), Some(e)) = (args.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                a.insert(k.clone(), v.clone());
            }
        }
        self.ok("initialize", args)
    }

    /// Closes stdin and waits for the adapter to exit.
    pub fn close_and_wait(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        self.writer = Box::new(std::io::sink());
        self.wait_exit(timeout)
    }

    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let child = self.child.as_mut()?;
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(s) = child.try_wait().unwrap() {
                return Some(s);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }
}

impl Drop for Dap {
    fn drop(&mut self) {
        if let Some(c) = &mut self.child {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A child process that is killed when the test ends, even by a panic (a server left running
/// would hold the test runner's output pipe open).
pub struct KillOnDrop(pub Child);

/// `ember dap --port 0`, and the port it printed (on 127.0.0.1, as the line must say).
pub fn tcp_server() -> (KillOnDrop, u16) {
    let mut server = KillOnDrop(Command::new(BIN).args(["dap", "--port", "0"]).stdout(Stdio::piped()).spawn().unwrap());
    let mut line = String::new();
    BufReader::new(server.0.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert!(line.contains("127.0.0.1"), "{line}");
    let port = line.trim().rsplit(':').next().unwrap().parse().unwrap_or_else(|_| panic!("no port in {line:?}"));
    (server, port)
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A PID that certainly does not exist now: a process that ran and was reaped.
pub fn dead_pid() -> u32 {
    let mut c = Command::new("/bin/true").spawn().unwrap();
    let pid = c.id();
    c.wait().unwrap();
    pid
}

/// A Python interpreter for live tests: EMBER_TEST_PYTHON, else Debian's /usr/bin/python3
/// (libpython linked in), else python3 on PATH resolved through the interpreter itself, so a
/// pyenv shim gives the real binary.
pub fn python() -> String {
    if let Ok(p) = std::env::var("EMBER_TEST_PYTHON") {
        return p;
    }
    if std::path::Path::new("/usr/bin/python3").exists() {
        return "/usr/bin/python3".into();
    }
    let out = Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .expect("python3 on PATH (or set EMBER_TEST_PYTHON)");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}
