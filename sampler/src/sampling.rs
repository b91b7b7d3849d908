//! The sampling thread: waits for the target's interpreter, then reads every thread of every
//! sampled process once per tick, batches samples, and sends them without ever blocking.

use crate::clock::Ticker;
use crate::dump::ThreadStack;
use crate::error::Error;
use crate::event::{Batch, Event, ProcessInfo, ThreadInfo};
use crate::frames::FrameTable;
use crate::process;
use crate::python::{self, Interpreter};
use crate::session::{Config, Rate, Session, Stats, Target};
use crate::walker::{PassCounts, ProcessWalker, SampleOptions};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};

const BATCH_SAMPLES: usize = 1024;
const BATCH_AGE: Duration = Duration::from_millis(50);
const SCAN_CHILDREN_EVERY: Duration = Duration::from_millis(100);
/// While no process is sampled yet (`subprocesses` under a program that is not Python), a
/// short-lived Python child is not missed: scanning costs nothing else then.
const SCAN_WHILE_NONE: Duration = Duration::from_millis(10);
/// How often the wait for a program's interpreter looks for Python among its children.
const CHILDREN_WHILE_WAITING: Duration = Duration::from_millis(20);
const CHECK_EXIT_EVERY: Duration = Duration::from_millis(10);

pub(crate) fn start(target: Target, config: Config) -> Result<Session, Error> {
    let (pid, mut child) = match target {
        Target::Pid(pid) => (pid, None),
        Target::Child(c) => (c.id(), Some(c)),
    };
    if child.is_none() {
        process::check_exists(pid)?;
    }
    // `None`: not Python itself, sampled through its Python subprocesses as they appear.
    let root = wait_for_python(pid, child.as_mut(), &config)
        .and_then(|interp| interp.map(|i| root_walker(i, pid, child.as_mut(), &config)).transpose());
    let root = match root {
        Ok(r) => r,
        Err(e) => {
            let Some(mut c) = child else { return Err(e) };
            // A program that ended while being looked at reads as gone or half-unmapped:
            // its exit is the reason to give, with its status.
            if let Some(st) = exit_status(&mut c) {
                return Err(Error::ExitedEarly { pid, status: st.to_string() });
            }
            stop_program(c);
            return Err(e);
        }
    };

    let (tx, rx) = sync_channel(config.channel_batches.max(2));
    let (recycle_tx, recycle_rx) = sync_channel(config.channel_batches.max(2));
    let frames = Arc::new(FrameTable::new());
    let stats = Arc::new(Stats::default());
    let stop = Arc::new(AtomicBool::new(false));
    let mut ctx = Loop {
        tx,
        recycle: recycle_rx,
        frames: frames.clone(),
        stats: stats.clone(),
        stop: stop.clone(),
        config,
        procs: Vec::new(),
        child,
        root_pid: pid,
        root_python: root.is_some(),
        refused: Vec::new(),
        pending: VecDeque::new(),
        started: Instant::now(),
    };
    if let Some(root) = root {
        ctx.pending.push_back(Event::Process(process_info(&root.interp, None)));
        ctx.procs.push(root);
    }
    let thread = std::thread::Builder::new()
        .name("ember-sampler".into())
        .spawn(move || ctx.run())
        .map_err(|e| Error::Other(format!("could not start the sampling thread: {e}")))?;
    Ok(Session::from_parts(rx, frames, stats, pid, stop, recycle_tx, thread))
}

fn process_info(i: &Interpreter, parent: Option<u32>) -> ProcessInfo {
    ProcessInfo { pid: i.pid, parent, command_line: process::cmdline(i.pid), python: i.version, executable: i.binary.clone() }
}

/// The walker of a root process that runs Python, once its interpreter has a thread (so
/// errors surface from `start`).
fn root_walker(interp: Interpreter, pid: u32, mut child: Option<&mut std::process::Child>, config: &Config) -> Result<ProcessWalker, Error> {
    let mut root = ProcessWalker::new(interp)?;
    if config.blocking {
        // Stop and release it once, so a refusal (another tracer, permissions) is reported now.
        drop(crate::freeze::Frozen::new(pid, &mut Default::default())?);
    }
    let deadline = Instant::now() + config.start_timeout;
    while !root.ready() {
        if let Some(c) = child.as_deref_mut() {
            if let Ok(Some(st)) = c.try_wait() {
                return Err(Error::ExitedEarly { pid, status: st.to_string() });
            }
        } else if !process::exists(pid) {
            return Err(Error::NoSuchProcess(pid));
        }
        if Instant::now() > deadline {
            return Err(Error::StartTimeout { pid, secs: config.start_timeout.as_secs_f64() });
        }
        if config.cancel.load(Ordering::Relaxed) {
            return Err(Error::Cancelled { pid });
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    Ok(root)
}

/// Polls until the process maps a Python interpreter. A spawned program may still be in its
/// dynamic loader; a process that finished loading (libc mapped) without Python is not Python.
/// A PID attached to just after it started (`python app.py & ember record --pid $!`) gets the
/// same patience for its first seconds: it may not have exec'd Python or mapped libpython yet.
///
/// A program that is not Python but runs Python in a child process (`sh -c 'python app.py'`,
/// `make test`): with `subprocesses`, `None`, the session samples its Python children as they
/// appear (as py-spy does); without, an error that says to add `--subprocesses`.
fn wait_for_python(pid: u32, mut child: Option<&mut std::process::Child>, config: &Config) -> Result<Option<Interpreter>, Error> {
    let (timeout, subprocesses) = (config.start_timeout, config.subprocesses);
    let mut start = Instant::now();
    let mut exe = process::exe(pid);
    let mut children_looked = Instant::now();
    // Ours, or one attached to in its first seconds: it may still be on its way to Python.
    let spawned = child.is_some();
    let just_started = || spawned || process::age(pid).is_some_and(|a| a < JUST_STARTED);
    loop {
        if let Some(c) = child.as_deref_mut() {
            if let Ok(Some(st)) = c.try_wait() {
                return Err(Error::ExitedEarly { pid, status: st.to_string() });
            }
        }
        match python::locate(pid) {
            Ok(Some(i)) => return Ok(Some(i)),
            Ok(None) => {
                // A launcher (a pyenv shim, `env python`, a shell script) may still exec
                // Python: give it the whole timeout, and restart the clock when it execs.
                let now_exe = process::exe(pid);
                if now_exe != exe {
                    exe = now_exe;
                    start = Instant::now();
                }
                if children_looked.elapsed() >= CHILDREN_WHILE_WAITING {
                    children_looked = Instant::now();
                    if let Some(c) = python_descendant(pid) {
                        if subprocesses {
                            return Ok(None);
                        }
                        return Err(Error::PythonInChildren { pid, exe, child: c, command: process::cmdline(c).join(" ") });
                    }
                }
                let loaded = process::maps(pid)?.iter().any(|m| m.path.contains("/libc.so") || m.path.contains("/libc-"));
                let waited = start.elapsed();
                let settled = loaded && waited > Duration::from_millis(300) && !is_launcher(&exe);
                let just_started = just_started();
                // With subprocesses the session's scans still catch a launcher's exec, so it
                // need not hold the start (and the live line) for the whole timeout.
                if subprocesses && (settled || waited > LAUNCHER_WAIT_WITH_CHILDREN || !just_started) {
                    return Ok(None);
                }
                if settled || waited > timeout || !just_started {
                    return Err(Error::NotPython { pid, exe: process::exe(pid) });
                }
            }
            // A program in its dynamic loader has mapped the interpreter's file but not yet
            // the segment that holds its data (seen 14 ms after spawning 3.15 through ld.so).
            Err(Error::NotMapped { .. }) if start.elapsed() < timeout && just_started() => {}
            Err(e) => return Err(e),
        }
        if config.cancel.load(Ordering::Relaxed) {
            return Err(Error::Cancelled { pid });
        }
        std::thread::sleep(Duration::from_micros(500));
    }
}

/// The first of `pid`'s descendants that maps a Python interpreter.
fn python_descendant(pid: u32) -> Option<u32> {
    process::descendants(pid).into_iter().find(|&c| matches!(python::locate(c), Ok(Some(_))))
}

/// With `subprocesses`, how long a launcher may take to exec Python before the session starts
/// and watches it and its children instead.
const LAUNCHER_WAIT_WITH_CHILDREN: Duration = Duration::from_secs(1);

/// A process younger than this may still be on its way to running Python.
const JUST_STARTED: Duration = Duration::from_secs(2);

/// Programs that commonly exec a Python interpreter after starting.
fn is_launcher(exe: &str) -> bool {
    let base = exe.rsplit('/').next().unwrap_or(exe);
    matches!(base, "sh" | "bash" | "dash" | "zsh" | "fish" | "env" | "pyenv" | "time" | "nice" | "nohup" | "exec")
}

/// The child's exit status if it has exited or does within 100 ms (an error reading it may
/// come just before the kernel marks it exited).
fn exit_status(child: &mut std::process::Child) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + Duration::from_millis(100);
    loop {
        match child.try_wait() {
            Ok(Some(st)) => return Some(st),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            _ => return None,
        }
    }
}

/// A program started for a recording that cannot go ahead is not left running unseen: it and
/// what it started get SIGTERM, then SIGKILL after a second, and it is reaped.
fn stop_program(mut child: std::process::Child) {
    use nix::sys::signal::{kill, Signal};
    use nix::unistd::Pid;
    let pid = child.id();
    // Listed first: once the program is gone, its children belong to init.
    let family: Vec<u32> = std::iter::once(pid).chain(process::descendants(pid)).collect();
    let signal_all = |sig| family.iter().for_each(|&p| {
        let _ = kill(Pid::from_raw(p as i32), sig);
    });
    let mut running = || matches!(child.try_wait(), Ok(None)) || family[1..].iter().any(|&p| process::exists(p));
    signal_all(Signal::SIGTERM);
    let deadline = Instant::now() + Duration::from_secs(1);
    while running() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    if running() {
        signal_all(Signal::SIGKILL);
    }
    reap_later(child);
}

/// Reaps a child we no longer sample, so it does not linger as a zombie.
fn reap_later(mut child: std::process::Child) {
    std::thread::spawn(move || {
        let _ = child.wait();
    });
}

struct Loop {
    tx: SyncSender<Event>,
    recycle: Receiver<Batch>,
    frames: Arc<FrameTable>,
    stats: Arc<Stats>,
    stop: Arc<AtomicBool>,
    config: Config,
    procs: Vec<ProcessWalker>,
    child: Option<std::process::Child>,
    root_pid: u32,
    /// The root runs Python and was sampled from the start; otherwise the scans for
    /// subprocesses look at it too, in case it execs Python later.
    root_python: bool,
    /// Python processes found that cannot be sampled (warned about once).
    refused: Vec<u32>,
    pending: VecDeque<Event>,
    started: Instant,
}

impl Loop {
    fn run(mut self) {
        let period = match self.config.rate {
            // `Rate::hz` keeps rates in range; a `Rate::Hz` built by hand is clamped to it.
            Rate::Hz(hz) => Some(Duration::from_secs_f64(1.0 / hz.clamp(Rate::MIN_HZ, Rate::MAX_HZ))),
            Rate::Max => None,
        };
        let mut ticker = Ticker::new(period, self.stop.clone());
        // A quarter of the period for retries (a stack moving between chunks takes tens of
        // microseconds; docs/architecture.md); at max rate the next pass is the retry.
        let retry_budget = period.map_or(Duration::ZERO, |p| p / 4);
        let opts = SampleOptions { idle: self.config.idle, gil_only: self.config.gil, blocking: self.config.blocking, retry_budget };
        let mut batch = self.fresh_batch();
        let mut batch_started = Instant::now();
        let mut last_scan = Instant::now();
        let mut last_exit_check = Instant::now();
        let mut new_threads = Vec::new();
        let started = self.started;
        let now = move || started.elapsed().as_nanos() as u64;
        loop {
            if self.stop.load(Ordering::Relaxed) {
                break;
            }
            if let Some(d) = self.config.duration {
                if self.started.elapsed() >= d {
                    break;
                }
            }
            let pass_started = Instant::now();
            let mut i = 0;
            while i < self.procs.len() {
                // A bug met on memory no test produced must not end the recording: the pass
                // counts as an error (the panic message is on stderr) and sampling goes on;
                // what the walker took out for the pass has usable defaults.
                let walker = &mut self.procs[i];
                let (frames, batch_ref, threads_ref) = (&self.frames, &mut batch, &mut new_threads);
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    walker.sample_all(frames, &now, opts, batch_ref, threads_ref)
                }))
                .unwrap_or(Ok(PassCounts { errors: 1, ..PassCounts::default() }));
                for t in new_threads.drain(..) {
                    self.pending.push_back(Event::Thread(t));
                }
                match result {
                    Ok(c) => {
                        self.stats.samples.fetch_add(c.samples, Ordering::Relaxed);
                        self.stats.torn.fetch_add(c.torn, Ordering::Relaxed);
                        self.stats.errors.fetch_add(c.errors, Ordering::Relaxed);
                        i += 1;
                    }
                    Err(_) => {
                        let gone = self.procs.remove(i);
                        self.process_ended(gone.pid());
                    }
                }
            }
            self.stats.passes.fetch_add(1, Ordering::Relaxed);
            if last_exit_check.elapsed() >= CHECK_EXIT_EVERY {
                last_exit_check = Instant::now();
                self.check_child_exit();
            }
            let scan_every = if self.procs.is_empty() { SCAN_WHILE_NONE } else { SCAN_CHILDREN_EVERY };
            if self.config.subprocesses && last_scan.elapsed() >= scan_every {
                last_scan = Instant::now();
                self.scan_children();
            }
            if self.procs.is_empty() && !(self.config.subprocesses && self.root_alive()) {
                break;
            }
            if batch.samples.len() >= BATCH_SAMPLES || batch_started.elapsed() >= BATCH_AGE {
                self.flush(&mut batch);
                batch_started = Instant::now();
            }
            if self.procs.is_empty() {
                // Waiting for a Python subprocess: at `--rate max` the ticker would spin.
                std::thread::sleep(Duration::from_millis(1));
                continue;
            }
            ticker.wait(pass_started.elapsed());
        }
        self.flush(&mut batch);
        // The recording is over; a spawned child that still runs is reaped in the background.
        if let Some(mut c) = self.child.take() {
            match c.try_wait() {
                Ok(Some(st)) => self.send_blocking(Event::ProcessExited { pid: self.root_pid, exit_code: st.code(), signal: signal_of(&st) }),
                _ => reap_later(c),
            }
        }
        while let Some(ev) = self.pending.pop_front() {
            let _ = self.tx.send(ev);
        }
    }

    fn fresh_batch(&self) -> Batch {
        self.recycle.try_recv().unwrap_or_else(|_| Batch {
            samples: Vec::with_capacity(BATCH_SAMPLES + 64),
            frames: Vec::with_capacity(BATCH_SAMPLES * 32),
        })
    }

    /// Sends pending events and the batch without blocking; a batch that does not fit is
    /// dropped and counted (the consumer fell behind), never waited for.
    fn flush(&mut self, batch: &mut Batch) {
        while let Some(ev) = self.pending.pop_front() {
            match self.tx.try_send(ev) {
                Ok(()) => {}
                Err(TrySendError::Full(ev)) => {
                    self.pending.push_front(ev);
                    break;
                }
                Err(TrySendError::Disconnected(_)) => {
                    self.stop.store(true, Ordering::Relaxed);
                    return;
                }
            }
        }
        if batch.samples.is_empty() {
            return;
        }
        let full = std::mem::replace(batch, self.fresh_batch());
        if !self.pending.is_empty() {
            // Keep order: samples may name threads still waiting in `pending`.
            self.pending.push_back(Event::Samples(full));
            return;
        }
        match self.tx.try_send(Event::Samples(full)) {
            Ok(()) => {}
            Err(TrySendError::Full(Event::Samples(mut b))) => {
                self.stats.overflow.fetch_add(b.samples.len() as u64, Ordering::Relaxed);
                b.clear();
                *batch = b;
            }
            Err(_) => self.stop.store(true, Ordering::Relaxed),
        }
    }

    fn send_blocking(&mut self, ev: Event) {
        self.pending.push_back(ev);
    }

    fn process_ended(&mut self, pid: u32) {
        let (mut exit_code, mut signal) = (None, None);
        if pid == self.root_pid {
            if let Some(c) = self.child.as_mut() {
                if let Ok(st) = c.wait() {
                    exit_code = st.code();
                    signal = signal_of(&st);
                }
                self.child = None;
            }
        }
        self.pending.push_back(Event::ProcessExited { pid, exit_code, signal });
    }

    fn check_child_exit(&mut self) {
        let Some(c) = self.child.as_mut() else { return };
        if let Ok(Some(st)) = c.try_wait() {
            let pid = self.root_pid;
            self.procs.retain(|p| p.pid() != pid);
            self.child = None;
            self.pending.push_back(Event::ProcessExited { pid, exit_code: st.code(), signal: signal_of(&st) });
        }
    }

    fn root_alive(&self) -> bool {
        process::exists(self.root_pid)
    }

    /// Starts sampling Python processes that appeared under the root (and the root itself
    /// when it was not Python at the start: it may have exec'd Python since).
    fn scan_children(&mut self) {
        let root = (!self.root_python && !self.procs.iter().any(|p| p.pid() == self.root_pid)).then_some(self.root_pid);
        for pid in root.into_iter().chain(process::descendants(self.root_pid)) {
            if self.procs.iter().any(|p| p.pid() == pid) || self.refused.contains(&pid) {
                continue;
            }
            let walker = python::locate(pid).and_then(|found| found.map(ProcessWalker::new).transpose());
            match walker {
                Ok(Some(mut w)) => {
                    if w.ready() {
                        let parent = if pid == self.root_pid { None } else { process::ppid(pid) };
                        self.pending.push_back(Event::Process(process_info(&w.interp, parent)));
                        self.procs.push(w);
                        if pid == self.root_pid {
                            self.root_python = true;
                        }
                    }
                }
                Ok(None) | Err(Error::NoSuchProcess(_)) => {}
                Err(e) => {
                    // Python it cannot read (an unsupported version, no permission): said once.
                    self.refused.push(pid);
                    self.pending.push_back(Event::Warning(format!("not sampling subprocess PID {pid}: {e}")));
                }
            }
        }
    }
}

fn signal_of(st: &std::process::ExitStatus) -> Option<i32> {
    use std::os::unix::process::ExitStatusExt;
    st.signal()
}

pub(crate) fn dump(pid: u32, blocking: bool) -> Result<Vec<ThreadStack>, Error> {
    process::check_exists(pid)?;
    let interp = python::locate(pid)?.ok_or_else(|| Error::NotPython { pid, exe: process::exe(pid) })?;
    let mut walker = ProcessWalker::new(interp)?;
    let table = FrameTable::new();
    let mut batch = Batch::default();
    let mut threads: Vec<ThreadInfo> = Vec::new();
    let opts = SampleOptions { idle: true, gil_only: false, blocking, retry_budget: Duration::from_millis(1) };
    // Two passes: the first teaches the walker each thread's addresses.
    walker.sample_all(&table, &|| 0, opts, &mut batch, &mut threads)?;
    batch.clear();
    // Threads first seen in the second pass (their id was not readable in the first) count too.
    walker.sample_all(&table, &|| 0, opts, &mut batch, &mut threads)?;
    // A thread renamed between the passes is reported twice; the later name wins.
    let mut out: Vec<ThreadStack> = Vec::new();
    for t in &threads {
        match out.iter_mut().find(|o| o.tid == t.tid) {
            Some(o) => o.name = t.name.clone(),
            None => out.push(ThreadStack { pid, tid: t.tid, name: t.name.clone(), running: false, gil: false, frames: Vec::new(), read: false }),
        }
    }
    out.sort_by_key(|t| (t.tid != pid, t.tid));
    for (s, frames) in batch.iter() {
        if let Some(t) = out.iter_mut().find(|t| t.tid == s.tid) {
            t.running = s.flags & crate::event::FLAG_RUNNING != 0;
            t.gil = s.flags & crate::event::FLAG_GIL != 0;
            t.frames = frames.iter().filter_map(|&f| table.get(f)).collect();
            t.read = true;
        }
    }
    Ok(out)
}
