//! The requests Ember answers, one method each, over the session's state. Profile figures come
//! from `hottest`, process control from `debuggee`; this file only maps them to DAP.

use crate::debuggee::{self, Debuggee};
use super::hottest::{self, Kind};
use super::launch_args::{self, Console, Plan};
use super::protocol::{ErrorMessage, Request};
use super::session::Client;
use crate::live::Recording;
use crate::profile::journal::{Journal, Recovered};
use crate::profile::store;
use crate::watchdog;
use crate::web::{WebOptions, WebServer};
use ember_sampler::Target;
use nix::sys::signal::Signal;
use serde_json::{json, Value};
use std::os::fd::OwnedFd;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

type Reply = Result<Value, ErrorMessage>;

/// How many rows the "Hottest …" scopes show.
const HOTTEST_ROWS: usize = 50;
const FUNCTIONS_REF: i64 = 1;
const LINES_REF: i64 = 2;

/// What the client told us about itself in `initialize`.
#[derive(Debug, Clone)]
struct ClientCaps {
    id: String,
    progress: bool,
    run_in_terminal: bool,
    lines_at1: bool,
    columns_at1: bool,
}

impl Default for ClientCaps {
    fn default() -> Self {
        ClientCaps { id: String::new(), progress: false, run_in_terminal: false, lines_at1: true, columns_at1: true }
    }
}

/// Messages from the session's own tasks to the request loop.
enum Internal {
    /// Sampling ended: the target exited, the duration is over, or it was terminated.
    Finished,
}

#[derive(PartialEq)]
enum Flow {
    Continue,
    Stop,
}

pub struct Adapter {
    client: Client,
    caps: ClientCaps,
    debuggee: Option<Debuggee>,
    web: Option<WebServer>,
    url: Option<String>,
    web_error: Option<String>,
    progress_id: Option<String>,
    terminated_sent: bool,
    next_frame_id: i64,
    /// Events to send once the current request's response is out.
    after: Vec<(String, Value)>,
    internal_tx: mpsc::UnboundedSender<Internal>,
    internal_rx: Option<mpsc::UnboundedReceiver<Internal>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Adapter {
    pub fn new(client: Client) -> Adapter {
        let (internal_tx, internal_rx) = mpsc::unbounded_channel();
        Adapter {
            client,
            caps: ClientCaps::default(),
            debuggee: None,
            web: None,
            url: None,
            web_error: None,
            progress_id: None,
            terminated_sent: false,
            next_frame_id: 1,
            after: Vec::new(),
            internal_tx,
            internal_rx: Some(internal_rx),
            tasks: Vec::new(),
        }
    }

    pub async fn run(mut self, mut requests: mpsc::UnboundedReceiver<Request>, mut shutdown: watch::Receiver<bool>) {
        let mut internal = self.internal_rx.take().expect("run once");
        let mut watching = true;
        loop {
            tokio::select! {
                r = requests.recv() => match r {
                    Some(req) => if self.handle(req).await == Flow::Stop { break },
                    None => {
                        self.client_gone("the client closed the connection", false).await;
                        break;
                    }
                },
                Some(i) = internal.recv() => match i {
                    Internal::Finished => self.on_finished().await,
                },
                r = shutdown.changed(), if watching => match r {
                    Ok(()) if *shutdown.borrow() => {
                        self.client_gone("Ember received SIGTERM", true).await;
                        break;
                    }
                    Ok(()) => {}
                    Err(_) => watching = false,
                },
            }
        }
        for t in self.tasks.drain(..) {
            t.abort();
        }
        if let Some(web) = &self.web {
            web.stop();
        }
    }

    async fn handle(&mut self, req: Request) -> Flow {
        let args = &req.arguments;
        let mut flow = Flow::Continue;
        let reply = match req.command.as_str() {
            "initialize" => self.initialize(args),
            "launch" => self.launch(args).await,
            "attach" => self.attach(args).await,
            "configurationDone" => Ok(Value::Null),
            "setBreakpoints" => Ok(not_stopping(args)),
            "setExceptionBreakpoints" | "setFunctionBreakpoints" => Ok(json!({"breakpoints": []})),
            "threads" => self.threads().await,
            "stackTrace" => self.stack_trace(args).await,
            "scopes" => Ok(scopes()),
            "variables" => self.variables(args),
            "pause" => self.pause().await,
            "continue" => self.resume(),
            "terminate" => self.terminate(),
            "ember/profile" => Ok(self.profile_status()),
            "disconnect" => {
                flow = Flow::Stop;
                self.disconnect(args).await
            }
            other => Err(ErrorMessage::new(format!(
                "Ember does not support the '{other}' request: it is a profiler, not a debugger (pause, threads, stack traces, continue and terminate work)"
            ))),
        };
        self.client.respond(&req, reply);
        for (event, body) in std::mem::take(&mut self.after) {
            self.client.event(&event, body);
        }
        flow
    }

    fn initialize(&mut self, args: &Value) -> Reply {
        let flag = |k: &str, default: bool| args.get(k).and_then(Value::as_bool).unwrap_or(default);
        self.caps = ClientCaps {
            id: args.get("clientID").and_then(Value::as_str).unwrap_or_default().to_string(),
            progress: flag("supportsProgressReporting", false),
            run_in_terminal: flag("supportsRunInTerminalRequest", false),
            lines_at1: flag("linesStartAt1", true),
            columns_at1: flag("columnsStartAt1", true),
        };
        // Ember starts sampling on `launch`/`attach` and never waits for configuration, so
        // `configurationDone` may come before or after them (Helix sends it first).
        self.after.push(("initialized".into(), Value::Null));
        Ok(json!({
            "supportsConfigurationDoneRequest": true,
            "supportsTerminateRequest": true,
            "supportTerminateDebuggee": true,
            "supportSuspendDebuggee": false,
            "supportsRestartRequest": false,
            "supportsEvaluateForHovers": false,
            "supportsConditionalBreakpoints": false,
            "supportsFunctionBreakpoints": false,
            "supportsStepBack": false,
            "supportsSetVariable": false,
            "supportsDelayedStackTraceLoading": false,
            "supportsLoadedSourcesRequest": false,
            "exceptionBreakpointFilters": [],
        }))
    }

    async fn launch(&mut self, args: &Value) -> Reply {
        self.refuse_second()?;
        let mut lp = launch_args::parse_launch(args)?.resolve()?;
        self.warn_unknown(args, launch_args::LAUNCH_FIELDS, "launch");
        lp.plan.config.cancel = self.client.ending.flag();
        let label = lp.label.clone();
        let config = lp.plan.config.clone();
        let meta = debuggee::meta(lp.command.clone(), &config);
        let terminal = matches!(lp.console, Console::IntegratedTerminal | Console::ExternalTerminal);
        // Before the program starts: saving a journal left behind can take a moment.
        let journal = self.journal(&lp.plan.output_dir, &label);
        if let Some((file, n)) = &lp.env_file {
            self.output("console", &format!("Ember set {n} environment variables from {} (`envFile`; `env` wins over it)\n", file.display()));
        }
        if terminal && !self.caps.run_in_terminal {
            self.output("console", "This client cannot run programs in a terminal (no runInTerminal support): the program's output appears here instead.\n");
        }
        if terminal && self.caps.run_in_terminal {
            let (pid, status_file) = self.run_in_terminal(&lp).await?;
            let rec = match start_recording(Target::Pid(pid), config, meta, journal).await {
                Ok(rec) => rec,
                Err(e) => {
                    // Not our child, so the sampler did not stop it: it must not run on unprofiled.
                    let running = debuggee::alive(pid);
                    if running {
                        debuggee::terminate(pid, false).await;
                    }
                    return Err(ErrorMessage::new(match e {
                        ember_sampler::Error::Cancelled { pid } => cancelled_launch(pid),
                        e if running => format!("{e}. The program was stopped; its output is in the terminal"),
                        e => format!("{e}. Its output is in the terminal"),
                    }));
                }
            };
            self.started(rec, true, label, lp.plan, debuggee::ProgramOutput::default()).await;
            if let Some(d) = &mut self.debuggee {
                d.status_file = Some(status_file);
            }
            return Ok(Value::Null);
        }
        let mut cmd = Command::new(&lp.command[0]);
        cmd.args(&lp.command[1..])
            .current_dir(&lp.cwd)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group: pause/terminate reach its subprocesses too, and a Ctrl-C
            // meant for the editor does not reach it.
            .process_group(0)
            // Output reaches the Debug Console as it is printed, not when a buffer fills.
            .env("PYTHONUNBUFFERED", "1");
        ember_sampler::default_signals(&mut cmd);
        for (k, v) in &lp.env {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        let (mut child, watchdog) = watchdog::spawn_watched(&mut cmd).map_err(|e| {
            format!("could not start {}: {e}. Check `python` in your launch configuration", lp.command[0])
        })?;
        let pid = child.id();
        let client = self.client.clone();
        let output = |category: &'static str| {
            let client = client.clone();
            move |line: String| client.event("output", json!({"category": category, "output": line}))
        };
        let mut forwarded = debuggee::ProgramOutput::default();
        for (pipe, category) in [(child.stdout.take().map(OwnedFd::from), "stdout"), (child.stderr.take().map(OwnedFd::from), "stderr")] {
            if let Some(Err(e)) = pipe.map(|p| forwarded.forward(p, output(category))) {
                self.output("console", &format!("Ember cannot show the program's {category} ({e}).\n"));
            }
        }
        match start_recording(Target::Child(child), config, meta, journal).await {
            Ok(rec) => {
                self.started(rec, true, label, lp.plan, forwarded).await;
                if let Some(d) = &mut self.debuggee {
                    d.watchdog = watchdog;
                }
                Ok(Value::Null)
            }
            Err(ember_sampler::Error::Cancelled { pid }) => {
                // The sampler stopped the program; the disconnect that cancelled it follows.
                forwarded.drain(Duration::from_secs(1)).await;
                Err(ErrorMessage::new(cancelled_launch(pid)))
            }
            Err(e) => {
                // The sampler could not read it: do not leave it running unprofiled.
                let ended = matches!(e, ember_sampler::Error::ExitedEarly { .. } | ember_sampler::Error::NoSuchProcess(_)) || !debuggee::alive(pid);
                if !ended {
                    let _ = debuggee::signal(pid, true, Signal::SIGKILL);
                }
                // Its output (often the reason it ended) goes out before the error.
                forwarded.drain(Duration::from_secs(1)).await;
                let text = if ended {
                    let how = match &e {
                        ember_sampler::Error::ExitedEarly { status, .. } => status.clone(),
                        other => other.to_string(),
                    };
                    format!(
                        "{label} ended before Ember could sample it ({how}). A program that ends this quickly has nothing to sample: profile a longer run. Its own output is in the Debug Console"
                    )
                } else {
                    format!("{e}. The program's own output, if any, is in the Debug Console")
                };
                Err(ErrorMessage::new(text))
            }
        }
    }

    /// Asks the client to start the program in its terminal through `ember run-in-terminal`,
    /// which writes the program's own PID to a file (clients do not all return the program's
    /// PID, and some return the shell's) and, when it ends, its exit status to another (it is
    /// not our child, so there is no other way to learn it). Returns the PID and that file.
    async fn run_in_terminal(&mut self, lp: &launch_args::LaunchPlan) -> Result<(u32, tempfile::TempPath), ErrorMessage> {
        let temp = |suffix: &str| -> Result<tempfile::TempPath, ErrorMessage> {
            Ok(tempfile::Builder::new()
                .prefix("ember-dap-")
                .suffix(suffix)
                .tempfile()
                .map_err(|e| format!("creating a temporary file: {e}"))?
                .into_temp_path())
        };
        let (pidfile, statusfile) = (temp(".pid")?, temp(".status")?);
        let ember = std::env::current_exe().map_err(|e| format!("cannot find Ember's own executable to run in the terminal: {e}"))?;
        let mut args = vec![
            ember.to_string_lossy().into_owned(),
            "run-in-terminal".into(),
            "--pid-file".into(),
            pidfile.to_string_lossy().into_owned(),
            "--status-file".into(),
            statusfile.to_string_lossy().into_owned(),
            "--".into(),
        ];
        args.extend(lp.command.iter().cloned());
        let env: serde_json::Map<String, Value> =
            lp.env.iter().map(|(k, v)| (k.clone(), v.clone().map(Value::String).unwrap_or(Value::Null))).collect();
        let kind = if lp.console == Console::ExternalTerminal { "external" } else { "integrated" };
        let ending = self.client.ending.clone();
        let cancelled = || ErrorMessage::new("the session ended before the terminal started the program");
        let asked = self.client.request(
            "runInTerminal",
            json!({"kind": kind, "title": format!("Ember: {}", lp.label), "cwd": lp.cwd, "args": args, "env": env}),
            Duration::from_secs(30),
        );
        tokio::select! {
            r = asked => r.map_err(|e| format!("could not start the program in the terminal: {e}. Set \"console\": \"internalConsole\" to run it without one"))?,
            _ = ending.raised() => return Err(cancelled()),
        };
        // "error: ..." when the program could not start, else its PID.
        let written = debuggee::read_when_written(&pidfile, Duration::from_secs(30), |t| match t.strip_prefix("error: ") {
            Some(e) => Some(Err(e.to_string())),
            None => t.parse::<u32>().ok().map(Ok),
        });
        let written = tokio::select! {
            w = written => w,
            _ = ending.raised() => {
                // It may have started just now: it must not run on unseen.
                if let Some(pid) = std::fs::read_to_string(&pidfile).ok().and_then(|t| t.trim().parse::<u32>().ok()) {
                    // In the terminal's process group, not its own: the program alone.
                    debuggee::terminate(pid, false).await;
                }
                return Err(cancelled());
            }
        };
        match written {
            Some(Ok(pid)) => Ok((pid, statusfile)),
            Some(Err(e)) => Err(ErrorMessage::new(format!("{e}. Check `python` and `program` in your launch configuration"))),
            None => Err(ErrorMessage::new("the terminal did not start the program within 30 s. Set \"console\": \"internalConsole\" to run it without one")),
        }
    }

    async fn attach(&mut self, args: &Value) -> Reply {
        self.refuse_second()?;
        let a = launch_args::parse_attach(args)?;
        self.warn_unknown(args, launch_args::ATTACH_FIELDS, "attach");
        let pid = a.process_id.ok_or_else(|| {
            ErrorMessage::new("attach needs `processId`: the PID of a running Python process (e.g. \"${command:pickProcess}\" in VS Code, require('dap.utils').pick_process in nvim-dap)")
        })?;
        if pid == std::process::id() {
            return Err(ErrorMessage::new(format!("PID {pid} is Ember itself: pick the Python process to profile")));
        }
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            return Err(ErrorMessage::new(format!("no process with PID {pid} exists (it may have exited): pick a running Python process, e.g. with `ps -ef | grep python`")));
        }
        let mut plan = a.sampling.plan(&launch_args::workspace(a.cwd.as_deref())?)?;
        plan.config.cancel = self.client.ending.flag();
        let label = process_label(pid);
        let meta = debuggee::meta(cmdline(pid), &plan.config);
        let journal = self.journal(&plan.output_dir, &label);
        let rec = start_recording(Target::Pid(pid), plan.config.clone(), meta, journal).await.map_err(ErrorMessage::from)?;
        self.started(rec, false, label, plan, debuggee::ProgramOutput::default()).await;
        Ok(Value::Null)
    }

    fn refuse_second(&self) -> Result<(), ErrorMessage> {
        match &self.debuggee {
            Some(d) => Err(ErrorMessage::new(format!(
                "this session already profiles PID {}: start another debug session to profile a second program",
                d.pid
            ))),
            None => Ok(()),
        }
    }

    /// Sampling runs: start the page, tell the user where it is, and watch progress.
    async fn started(&mut self, rec: Recording, launched: bool, label: String, plan: Plan, output: debuggee::ProgramOutput) {
        let shared = rec.shared.clone();
        let pid = rec.pid;
        match WebServer::start_in(WebOptions::default(), shared.clone(), Some(plan.workspace.clone())).await {
            Ok(mut web) => {
                self.url = Some(web.url.clone());
                // Page clicks are followed by the LSP server; here they only need draining.
                let (_, empty) = mpsc::channel(1);
                let mut events = std::mem::replace(&mut web.events, empty);
                self.tasks.push(tokio::spawn(async move { while events.recv().await.is_some() {} }));
                self.web = Some(web);
            }
            Err(e) => {
                self.client.log.error(&format!("web server: {e:#}"));
                self.web_error = Some(format!("{e:#}"));
            }
        }
        let rate = match plan.config.rate {
            ember_sampler::Rate::Hz(hz) => format!("{hz} Hz"),
            ember_sampler::Rate::Max => "the highest rate".into(),
        };
        let text = match (&self.url, &self.web_error) {
            (Some(url), _) => format!("Ember is profiling {label} (PID {pid}) at {rate}. Flamegraph: {url}\n"),
            (None, e) => format!(
                "Ember is profiling {label} (PID {pid}) at {rate}. The flamegraph page could not start ({}); the profile will be saved in {}\n",
                e.as_deref().unwrap_or("unknown error"),
                plan.output_dir.display()
            ),
        };
        // DAP has no capability for `important`: VS Code shows it as a notification; other
        // clients may drop or duplicate it, so every client also gets the line as `console`.
        if self.caps.id == "vscode" {
            self.after.push(("output".into(), json!({"category": "important", "output": text})));
        }
        self.after.push(("output".into(), json!({"category": "console", "output": text})));
        self.after.push(("ember/profile".into(), json!({"url": self.url, "path": null, "samples": 0, "pid": pid, "outputDir": plan.output_dir})));
        let progress_id = self.caps.progress.then(|| format!("ember-{pid}"));
        if let Some(id) = &progress_id {
            self.after.push(("progressStart".into(), json!({"progressId": id, "title": format!("Profiling {label}"), "message": format!("0 samples at {rate}"), "cancellable": false})));
        }
        self.progress_id = progress_id.clone();
        self.tasks.push(tokio::spawn(watch_progress(self.client.clone(), shared.updates.clone(), progress_id, plan.config.duration, self.internal_tx.clone())));
        self.debuggee = Some(Debuggee {
            pid,
            launched,
            stem: label.clone(),
            journal: None,
            label,
            recording: Some(rec),
            shared,
            output_dir: plan.output_dir,
            paused: false,
            saved: None,
            concluded: false,
            output,
            status_file: None,
            watchdog: None,
            idle: plan.config.idle,
            gil: plan.config.gil,
        });
    }

    async fn threads(&mut self) -> Reply {
        let Some(d) = &self.debuggee else { return Ok(json!({"threads": []})) };
        let pid = d.pid;
        let mut threads: Vec<Value> = match dump(pid).await {
            Ok(stacks) => stacks
                .iter()
                .filter(|t| t.pid == pid)
                .map(|t| json!({"id": t.tid, "name": thread_name(&t.name, t.tid)}))
                .collect(),
            Err(e) => {
                self.client.log.error(&format!("threads: {e}"));
                Vec::new()
            }
        };
        if threads.is_empty() {
            // The live read failed (process gone, or between reads): what sampling has seen.
            let p = d.shared.profile.read().unwrap_or_else(|e| e.into_inner());
            threads = p.threads.iter().filter(|t| t.pid == pid).map(|t| json!({"id": t.tid, "name": thread_name(&t.name, t.tid)})).collect();
        }
        Ok(json!({"threads": threads}))
    }

    async fn stack_trace(&mut self, args: &Value) -> Reply {
        let d = self.debuggee.as_ref().ok_or_else(|| ErrorMessage::new("no program is being profiled: launch or attach first"))?;
        let pid = d.pid;
        let tid = args.get("threadId").and_then(Value::as_u64).ok_or_else(|| ErrorMessage::new("stackTrace needs a threadId"))? as u32;
        let stacks = dump(pid).await.map_err(|e| format!("could not read the stacks of PID {pid}: {e}"))?;
        let t = stacks
            .into_iter()
            .find(|t| t.tid == tid)
            .ok_or_else(|| format!("thread {tid} of PID {pid} is gone or runs no Python code; refresh the threads"))?;
        if !t.read {
            return Err(ErrorMessage::new(format!("the stack of thread {tid} changed during every read; pause the program to see it")));
        }
        let line_base = if self.caps.lines_at1 { 0 } else { 1 };
        let column = if self.caps.columns_at1 { 1 } else { 0 };
        let total = t.frames.len();
        let start = args.get("startFrame").and_then(Value::as_u64).unwrap_or(0) as usize;
        let levels = match args.get("levels").and_then(Value::as_u64).unwrap_or(0) as usize {
            0 => total,
            n => n,
        };
        let mut frames = Vec::new();
        // The sampler lists frames innermost last, like a traceback; DAP wants innermost first.
        for f in t.frames.iter().rev().skip(start).take(levels) {
            let id = self.next_frame_id;
            self.next_frame_id += 1;
            let mut frame = json!({"id": id, "name": &*f.qualname, "line": f.line.saturating_sub(line_base), "column": column});
            match debuggee::absolute_source(pid, &f.file) {
                Some(path) => {
                    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                    frame["source"] = json!({"name": name, "path": path});
                }
                None => {
                    frame["source"] = json!({"name": &*f.file, "presentationHint": "deemphasize"});
                    frame["presentationHint"] = json!("subtle");
                }
            }
            frames.push(frame);
        }
        Ok(json!({"stackFrames": frames, "totalFrames": total}))
    }

    fn variables(&self, args: &Value) -> Reply {
        let kind = match args.get("variablesReference").and_then(Value::as_i64) {
            Some(FUNCTIONS_REF) => Kind::Functions,
            Some(LINES_REF) => Kind::Lines,
            Some(other) => return Err(ErrorMessage::new(format!("unknown variablesReference {other}: Ember's scopes are {FUNCTIONS_REF} (hottest functions) and {LINES_REF} (hottest lines)"))),
            None => return Err(ErrorMessage::new("variables needs a variablesReference (from scopes)")),
        };
        let Some(d) = &self.debuggee else { return Ok(json!({"variables": []})) };
        let rows = {
            let p = d.shared.profile.read().unwrap_or_else(|e| e.into_inner());
            hottest::hottest(&p, kind, HOTTEST_ROWS)
        };
        let vars: Vec<Value> = rows
            .iter()
            .map(|h| {
                json!({
                    "name": h.name,
                    "value": format!("total {:.1}% · self {:.1}%", h.total, h.self_),
                    "variablesReference": 0,
                    "presentationHint": {"kind": "data", "attributes": ["readOnly"]},
                })
            })
            .collect();
        Ok(json!({"variables": vars}))
    }

    async fn pause(&mut self) -> Reply {
        let d = self.debuggee.as_mut().ok_or_else(|| ErrorMessage::new("no program is being profiled: nothing to pause"))?;
        d.signal(Signal::SIGSTOP)?;
        d.paused = true;
        // Signals are delivered asynchronously: report `stopped` once every thread is.
        debuggee::wait_stopped(d.pid, Duration::from_secs(1)).await;
        self.after.push((
            "stopped".into(),
            json!({"reason": "pause", "description": "Paused (SIGSTOP)", "threadId": d.pid, "allThreadsStopped": true}),
        ));
        Ok(Value::Null)
    }

    fn resume(&mut self) -> Reply {
        let d = self.debuggee.as_mut().ok_or_else(|| ErrorMessage::new("no program is being profiled: nothing to continue"))?;
        d.signal(Signal::SIGCONT)?;
        d.paused = false;
        Ok(json!({"allThreadsContinued": true}))
    }

    /// Ends the program in the background; `terminated` follows once it is gone and the profile
    /// is saved.
    fn terminate(&mut self) -> Reply {
        let Some(d) = &self.debuggee else {
            self.after.push(("terminated".into(), json!({})));
            self.terminated_sent = true;
            return Ok(Value::Null);
        };
        let (pid, group, tx) = (d.pid, d.launched, self.internal_tx.clone());
        let mut updates = d.shared.updates.clone();
        self.tasks.push(tokio::spawn(async move {
            debuggee::terminate(pid, group).await;
            // The sampler notices the exit (and reaps a spawned program, which gives its exit
            // code); only if it does not, end the session from here.
            let _ = tokio::time::timeout(Duration::from_secs(2), updates.wait_for(|p| p.finished)).await;
            let _ = tx.send(Internal::Finished);
        }));
        Ok(Value::Null)
    }

    async fn disconnect(&mut self, args: &Value) -> Reply {
        if let Some(d) = &mut self.debuggee {
            let kill = args.get("terminateDebuggee").and_then(Value::as_bool).unwrap_or(d.launched);
            if kill && d.alive() {
                debuggee::terminate(d.pid, d.launched).await;
            } else if let Some(dog) = d.watchdog.take().filter(|_| !kill) {
                dog.release();
            }
            if !kill && d.launched && d.alive() {
                let log = d.output_dir.join(format!("{}-{}.output.log", crate::profile::store::sanitize(&d.stem), d.pid));
                let text = match d.output.hand_over(&log).await {
                    Ok(true) => format!("The program (PID {}) keeps running without Ember; its output now goes to {}\n", d.pid, log.display()),
                    Ok(false) => format!("The program (PID {}) keeps running without Ember.\n", d.pid),
                    Err(e) => format!("The program (PID {}) keeps running without Ember, but its output could not be redirected to {} ({e}): it may stop at its next print.\n", d.pid, log.display()),
                };
                self.client.event("output", json!({"category": "console", "output": text}));
            }
            if !kill && d.paused {
                // Detaching must never leave the program stopped.
                let _ = d.signal(Signal::SIGCONT);
                d.paused = false;
            }
        }
        self.conclude().await;
        Ok(Value::Null)
    }

    /// The client is gone (stream closed) or Ember was told to stop: save first (a SIGKILL may
    /// follow), then end a program Ember launched; an attached one is left running.
    async fn client_gone(&mut self, why: &str, connected: bool) {
        self.client.log.line("--", why);
        self.conclude().await;
        if let Some(d) = &mut self.debuggee {
            if d.launched && d.alive() {
                debuggee::terminate(d.pid, true).await;
            } else if d.paused {
                let _ = d.signal(Signal::SIGCONT);
            }
        }
        // Told to stop (SIGTERM) with the client still there: it learns the session is over
        // rather than finding the connection closed.
        if connected && !self.terminated_sent {
            self.client.event("terminated", json!({}));
            self.terminated_sent = true;
        }
    }

    /// Sampling is over: report the saved profile, the exit code, then `terminated`.
    async fn on_finished(&mut self) {
        if self.terminated_sent {
            return;
        }
        if self.debuggee.is_none() {
            return;
        }
        // After the recording ended, so its last progress (with the exit status) is published.
        self.conclude().await;
        let Some(d) = &self.debuggee else { return };
        let launched = d.launched;
        // Sampling ends on its own with the program still there only when `duration` is over:
        // a launched program then ends with the session (as `ember record -d` does), not
        // left running unseen until a disconnect.
        if launched && d.alive() {
            let pid = d.pid;
            self.output("console", &format!("The recording's duration is over: stopping the program (PID {pid}).\n"));
            debuggee::terminate(pid, true).await;
        }
        // An attached program paused from the editor is never left stopped by the session's end.
        if let Some(d) = self.debuggee.as_mut().filter(|d| !d.launched && d.paused) {
            let _ = d.signal(Signal::SIGCONT);
            d.paused = false;
        }
        let Some(d) = &self.debuggee else { return };
        let (mut code, sig) = {
            let p = d.shared.updates.borrow();
            (p.exit_code, p.exit_signal)
        };
        if let (None, None, Some(f)) = (code, sig, &d.status_file) {
            // Written just after the wrapper reaps the program: allow it a moment.
            code = debuggee::read_when_written(f, Duration::from_secs(2), |t| t.parse().ok()).await;
        }
        if let Some(s) = sig {
            self.output("console", &format!("The program was killed by signal {s}.\n"));
        }
        // An exit code is known only for a program Ember spawned itself (here or in a terminal).
        if launched {
            if let Some(code) = code.or(sig.map(|s| 128 + s)) {
                self.client.event("exited", json!({"exitCode": code}));
            }
        }
        self.client.event("terminated", json!({}));
        self.terminated_sent = true;
    }

    /// Stops sampling, saves the profile and tells the user where it is. Once.
    async fn conclude(&mut self) {
        let Some(d) = &mut self.debuggee else { return };
        if d.concluded {
            return;
        }
        d.concluded = true;
        d.drain_output().await;
        let result = d.finish().await;
        let samples = d.shared.profile.read().unwrap_or_else(|e| e.into_inner()).samples.len();
        let url = self.url.clone();
        let end_message = match result {
            Ok(debuggee::Saved { path, fallback }) => {
                if let Some(why) = fallback {
                    self.client.log.error(&format!("saving the profile: {why}"));
                    self.client.event(
                        "output",
                        json!({"category": "stderr", "output": format!("Ember could not save the profile in {} ({why}): fix `outputDir`. It was saved in {} instead.\n", d.output_dir.display(), path.parent().map(|p| p.display().to_string()).unwrap_or_default())}),
                    );
                }
                if let Some(why) = debuggee::why_empty(d.pid, samples, d.idle, d.gil) {
                    self.client.event("output", json!({"category": "important", "output": empty_advice(d.pid, why)}));
                }
                let mut text = format!("Ember saved {samples} samples to {}", path.display());
                if let Some(u) = &url {
                    text += &format!(". Flamegraph: {u} (served while this debug session lasts)");
                }
                text += &format!("; open it later with `ember serve {}`\n", path.display());
                self.client.event("output", json!({"category": "console", "output": text}));
                self.client.event("ember/profile", json!({"url": url, "path": path, "samples": samples, "pid": d.pid}));
                format!("{samples} samples saved")
            }
            Err(e) => {
                self.client.log.error(&format!("saving the profile: {e}"));
                self.client.event("output", json!({"category": "stderr", "output": format!("Ember could not save the profile: {e}\n")}));
                format!("{samples} samples, not saved")
            }
        };
        if let Some(id) = self.progress_id.take() {
            self.client.event("progressEnd", json!({"progressId": id, "message": end_message}));
        }
    }

    /// Saves what killed Embers left in `dir` (telling the user), then starts this recording's
    /// journal there, else in `$TMPDIR/ember` as the profile would be. Without one a killed Ember
    /// loses the recording, which the user is told.
    fn journal(&mut self, dir: &Path, label: &str) -> Option<Journal> {
        for r in store::recover(dir) {
            match r {
                Ok(Recovered { saved: Some(path), samples, .. }) => self.output(
                    "console",
                    &format!("Ember found an earlier recording that was interrupted (Ember was killed) and saved its {samples} samples to {}\n", path.display()),
                ),
                Ok(_) => {}
                Err(e) => self.output("stderr", &format!("Ember: {e}\n")),
            }
        }
        let first = match store::start_journal(dir, label) {
            Ok(j) => return Some(j),
            Err(e) => format!("{e:#}"),
        };
        match store::start_journal(&std::env::temp_dir().join("ember"), label) {
            Ok(j) => Some(j),
            Err(e) => {
                self.client.log.error(&format!("journal: {first}; {e:#}"));
                self.output("stderr", &format!("Ember cannot keep a journal of this recording ({first}): if Ember is killed, the recording is lost\n"));
                None
            }
        }
    }

    fn warn_unknown(&mut self, args: &Value, known: &[&str], request: &str) {
        let unknown = launch_args::unknown_fields(args, known);
        if !unknown.is_empty() {
            self.output(
                "console",
                &format!("Ember ignores these {request} fields: {} (every field is in schemas/{request}.schema.json)\n", unknown.join(", ")),
            );
        }
    }

    /// The custom request `ember/profile`: where the profile is now (clients that missed the
    /// event, e.g. nvim-dap's `session:request`).
    fn profile_status(&self) -> Value {
        match &self.debuggee {
            // The same keys as once sampling runs, so clients need not test for them.
            None => json!({"url": null, "path": null, "samples": 0, "pid": null, "outputDir": null, "paused": false}),
            Some(d) => {
                let samples = d.shared.profile.read().unwrap_or_else(|e| e.into_inner()).samples.len();
                json!({"url": self.url, "path": d.saved, "samples": samples, "pid": d.pid, "outputDir": d.output_dir, "paused": d.paused})
            }
        }
    }

    fn output(&mut self, category: &str, text: &str) {
        self.client.event("output", json!({"category": category, "output": text}));
    }
}

/// A launch given up because `disconnect`/`terminate` came while it waited for Python.
fn cancelled_launch(pid: u32) -> String {
    format!("the session ended while Ember waited for Python to start in PID {pid}: the program was stopped")
}

/// Starts a recording off the async threads: it waits for the interpreter to come up.
async fn start_recording(target: Target, config: ember_sampler::Config, meta: crate::profile::Meta, journal: Option<Journal>) -> Result<Recording, ember_sampler::Error> {
    tokio::task::spawn_blocking(move || Recording::start(target, config, meta, journal))
        .await
        .map_err(|e| ember_sampler::Error::Other(format!("the sampler crashed while starting: {e}")))?
}

async fn dump(pid: u32) -> Result<Vec<ember_sampler::ThreadStack>, String> {
    match tokio::time::timeout(Duration::from_secs(5), tokio::task::spawn_blocking(move || ember_sampler::dump(pid, false))).await {
        Ok(Ok(r)) => r.map_err(|e| e.to_string()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("reading the stacks took more than 5 s".into()),
    }
}

/// Sends progress while sampling runs, then tells the loop that sampling ended.
async fn watch_progress(
    client: Client,
    mut updates: watch::Receiver<crate::live::Progress>,
    progress_id: Option<String>,
    duration: Option<Duration>,
    done: mpsc::UnboundedSender<Internal>,
) {
    let mut last = Instant::now();
    let mut warned = 0;
    loop {
        let changed = updates.changed().await;
        let p = updates.borrow_and_update().clone();
        // The sampler's warnings (a subprocess it cannot read, ...) reach the user as output.
        for w in p.warnings.iter().skip(warned) {
            client.event("output", json!({"category": "console", "output": format!("Ember: {w}\n")}));
        }
        warned = p.warnings.len();
        if let Some(id) = &progress_id {
            if last.elapsed() >= Duration::from_secs(1) && !p.finished {
                last = Instant::now();
                let mut body = json!({"progressId": id, "message": format!("{} samples · {:.0} samples/s", p.samples, p.rate)});
                if let Some(d) = duration {
                    body["percentage"] = json!((100.0 * p.elapsed.as_secs_f64() / d.as_secs_f64()).min(100.0).round());
                }
                client.event("progressUpdate", body);
            }
        }
        if changed.is_err() || p.finished {
            break;
        }
    }
    let _ = done.send(Internal::Finished);
}

fn scopes() -> Value {
    json!({"scopes": [
        {"name": "Hottest functions", "variablesReference": FUNCTIONS_REF, "expensive": false, "presentationHint": "locals"},
        {"name": "Hottest lines", "variablesReference": LINES_REF, "expensive": false},
    ]})
}

fn not_stopping(args: &Value) -> Value {
    let n = args.get("breakpoints").and_then(Value::as_array).map(Vec::len).unwrap_or(0);
    let bp = json!({"verified": false, "message": "Ember profiles; it does not stop at breakpoints"});
    json!({"breakpoints": vec![bp; n]})
}

fn thread_name(name: &str, tid: u32) -> String {
    if name.is_empty() {
        format!("Thread {tid}")
    } else {
        name.to_string()
    }
}

fn cmdline(pid: u32) -> Vec<String> {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| b.split(|&c| c == 0).filter(|s| !s.is_empty()).map(|s| String::from_utf8_lossy(s).into_owned()).collect())
        .unwrap_or_default()
}

/// A short name for an attached process: its script's stem, else its command.
fn process_label(pid: u32) -> String {
    let args = cmdline(pid);
    if let Some(script) = args.iter().skip(1).find(|a| a.ends_with(".py")) {
        if let Some(stem) = std::path::Path::new(script).file_stem() {
            return stem.to_string_lossy().into_owned();
        }
    }
    std::fs::read_to_string(format!("/proc/{pid}/comm")).map(|s| s.trim().to_string()).unwrap_or_else(|_| format!("pid{pid}"))
}

/// Why a session recorded no samples, in launch.json's words.
fn empty_advice(pid: u32, why: debuggee::Empty) -> String {
    match why {
        debuggee::Empty::Stopped => format!("Ember recorded no samples: PID {pid} is stopped (SIGSTOP, Ctrl-Z or a debugger), so its threads never ran. Resume it (`kill -CONT {pid}`), or set \"idle\": true to record where it stands.\n"),
        debuggee::Empty::GilOnly => "Ember recorded no samples: no thread held the GIL while running Python. Remove \"gil\": true from the configuration.\n".into(),
        debuggee::Empty::AllIdle => "Ember recorded no samples: every thread was idle (sleeping, waiting on I/O or a lock) the whole time. Set \"idle\": true in the configuration to record idle threads too.\n".into(),
    }
}
