//! The profiled process and its recording: starting it (spawned or attached), the signals the
//! session sends it (pause, continue, terminate), and ending the recording with the profile
//! saved. Nothing here speaks DAP.

use crate::live::{Recording, SharedProfile};
use crate::profile::{Meta, Profile};
use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;
use std::os::fd::OwnedFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::AsyncBufReadExt;

/// Escalation steps of `terminate`: SIGINT, then SIGTERM, then SIGKILL after these waits.
pub const INT_WAIT: Duration = Duration::from_secs(2);
pub const TERM_WAIT: Duration = Duration::from_secs(2);

pub struct Debuggee {
    pub pid: u32,
    /// Ember started it (launch): it is terminated on disconnect by default, and signals go to
    /// its process group so subprocesses follow.
    pub launched: bool,
    pub label: String,
    pub recording: Option<Recording>,
    /// The finished recording's journal, until the profile is saved (profile/journal.rs).
    pub journal: Option<crate::profile::journal::Journal>,
    pub shared: SharedProfile,
    pub output_dir: PathBuf,
    /// The saved file is `<output_dir>/<UTC timestamp>-<stem>.ember` (the store sanitizes it).
    pub stem: String,
    pub paused: bool,
    /// Where the profile was saved, once it was.
    pub saved: Option<PathBuf>,
    /// The end was reported (saved or not): it is reported once.
    pub concluded: bool,
    /// A launched program's stdout/stderr, forwarded; drained (briefly) before `exited`.
    pub output: ProgramOutput,
    /// Started in the editor's terminal: where `ember run-in-terminal` writes its exit code.
    pub status_file: Option<tempfile::TempPath>,
    /// Launched by Ember: ends the program if Ember goes away without releasing it.
    pub watchdog: Option<crate::watchdog::Watchdog>,
    /// The sampler's filters (`idle`, `gil`), to say why a recording came out empty.
    pub idle: bool,
    pub gil: bool,
}

impl Debuggee {
    pub fn signal(&self, sig: Signal) -> Result<(), String> {
        signal(self.pid, self.launched, sig)
    }

    pub fn alive(&self) -> bool {
        alive(self.pid)
    }

    /// Ends sampling and saves what was recorded. When `output_dir` cannot be written, the
    /// profile goes to `$TMPDIR/ember` instead (a recording is never lost) and `fallback` says
    /// why. Safe to call twice.
    pub async fn finish(&mut self) -> Result<Saved, String> {
        if let Some(p) = &self.saved {
            return Ok(Saved { path: p.clone(), fallback: None });
        }
        if let Some(rec) = self.recording.take() {
            rec.stop();
            if let Ok((_, journal)) = tokio::task::spawn_blocking(move || rec.wait()).await {
                self.journal = journal;
            }
        }
        let profile: Profile = self.shared.profile.read().unwrap_or_else(|e| e.into_inner()).clone();
        let (dir, stem) = (self.output_dir.clone(), self.stem.clone());
        let saved = tokio::task::spawn_blocking(move || {
            let save = |d: &Path| crate::profile::store::save_in_dir(d, &stem, &profile).map_err(|e| format!("{e:#}"));
            match save(&dir) {
                Ok(path) => Ok(Saved { path, fallback: None }),
                Err(first) => {
                    let tmp = std::env::temp_dir().join("ember");
                    save(&tmp)
                        .map(|path| Saved { path, fallback: Some(first.clone()) })
                        .map_err(|second| format!("{first}; and in {}: {second}", tmp.display()))
                }
            }
        })
        .await
        .map_err(|e| e.to_string())?;
        // On failure the journal is kept: Ember saves it the next time it records in that folder.
        let saved = saved.map_err(|e| match &self.journal {
            Some(j) => format!("{e}; the recording is kept in {}", j.path().display()),
            None => e,
        })?;
        if let Some(j) = self.journal.take() {
            j.discard();
        }
        self.saved = Some(saved.path.clone());
        Ok(saved)
    }

    /// Waits (at most a second) for the program's output to be forwarded.
    pub async fn drain_output(&mut self) {
        self.output.drain(Duration::from_secs(1)).await;
    }
}

/// Where a profile was saved, and why not in the output folder when it could not be.
pub struct Saved {
    pub path: PathBuf,
    pub fallback: Option<String>,
}

/// What `parse` makes of `file` once it says something, polling until `timeout`: the files
/// `ember run-in-terminal` writes (atomically) for a program in the editor's terminal.
pub async fn read_when_written<T>(file: &Path, timeout: Duration, parse: impl Fn(&str) -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = parse(std::fs::read_to_string(file).unwrap_or_default().trim()) {
            return Some(v);
        }
        if Instant::now() > deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Why a recording holds no samples, when the settings or the process's state explain it.
#[derive(Debug, PartialEq, Eq)]
pub enum Empty {
    /// Stopped (SIGSTOP, Ctrl-Z, a debugger): its threads never ran.
    Stopped,
    /// Only the GIL holder was kept, and no thread held it while running Python.
    GilOnly,
    /// Idle threads were left out, and every thread was idle.
    AllIdle,
}

pub fn why_empty(pid: u32, samples: usize, idle: bool, gil: bool) -> Option<Empty> {
    if samples > 0 {
        None
    } else if stopped(pid) {
        Some(Empty::Stopped)
    } else if gil {
        Some(Empty::GilOnly)
    } else {
        (!idle).then_some(Empty::AllIdle)
    }
}

/// Whether the process is stopped by a signal or a tracer now.
pub fn stopped(pid: u32) -> bool {
    matches!(state(pid), Some('T' | 't'))
}

/// The process's state letter in /proc/PID/stat (`R`, `S`, `T`, `Z`...).
fn state(pid: u32) -> Option<char> {
    state_in(Path::new(&format!("/proc/{pid}/stat")))
}

/// The state letter in a process's or a thread's `stat` file.
fn state_in(stat: &Path) -> Option<char> {
    let stat = std::fs::read_to_string(stat).ok()?;
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

pub fn signal(pid: u32, group: bool, sig: Signal) -> Result<(), String> {
    let p = Pid::from_raw(pid as i32);
    let r = if group { killpg(p, sig).or_else(|_| kill(p, sig)) } else { kill(p, sig) };
    r.map_err(|e| match e {
        nix::errno::Errno::EPERM => format!("no permission to send {sig} to PID {pid}: run Ember as the user who owns the process"),
        nix::errno::Errno::ESRCH => format!("PID {pid} has already exited"),
        e => format!("sending {sig} to PID {pid}: {e}"),
    })
}

/// Whether the process exists and is not a zombie waiting to be reaped.
pub fn alive(pid: u32) -> bool {
    !matches!(state(pid), None | Some('Z' | 'X'))
}

/// Waits until every thread of `pid` is stopped (state `T`), at most `timeout`.
pub async fn wait_stopped(pid: u32, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        let all = std::fs::read_dir(format!("/proc/{pid}/task"))
            .map(|dir| {
                // A thread that is gone or unreadable does not hold the wait.
                dir.flatten().all(|t| state_in(&t.path().join("stat")).is_none_or(|c| matches!(c, 'T' | 't')))
            })
            .unwrap_or(true);
        if all {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// SIGINT (Python raises KeyboardInterrupt, so `finally` blocks run), then SIGTERM, then
/// SIGKILL. A paused target is resumed first so it can handle them. Returns once it is gone.
pub async fn terminate(pid: u32, group: bool) {
    escalate(&[pid], group).await
}

/// `terminate` for a program and every process it started, one by one (`ember record`'s
/// program shares Ember's process group, so a signal to the group would reach Ember too).
pub async fn terminate_family(pid: u32) {
    let family: Vec<u32> = std::iter::once(pid).chain(ember_sampler::descendants(pid)).collect();
    escalate(&family, false).await
}

/// SIGCONT, then SIGINT, SIGTERM and SIGKILL until none of `pids` is alive.
async fn escalate(pids: &[u32], group: bool) {
    let any_alive = || pids.iter().any(|&p| alive(p));
    for &p in pids {
        let _ = signal(p, group, Signal::SIGCONT);
    }
    for (sig, wait) in [(Signal::SIGINT, INT_WAIT), (Signal::SIGTERM, TERM_WAIT), (Signal::SIGKILL, Duration::from_secs(2))] {
        if !any_alive() {
            return;
        }
        for &p in pids.iter().filter(|&&p| alive(p)) {
            let _ = signal(p, group, sig);
        }
        let deadline = Instant::now() + wait;
        while any_alive() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

/// A launched program's stdout and stderr: pipes read by tasks that pass each line on, and a
/// copy of each pipe kept to hand over if the program outlives the session.
#[derive(Default)]
pub struct ProgramOutput {
    tasks: Vec<tokio::task::JoinHandle<()>>,
    pipes: Vec<OwnedFd>,
}

impl ProgramOutput {
    /// Forwards `pipe` line by line to `emit`. Needs the tokio runtime.
    pub fn forward(&mut self, pipe: impl Into<OwnedFd>, emit: impl Fn(String) + Send + 'static) -> std::io::Result<()> {
        let fd: OwnedFd = pipe.into();
        self.pipes.push(fd.try_clone()?);
        let mut r = tokio::io::BufReader::new(tokio::net::unix::pipe::Receiver::from_owned_fd(fd)?);
        self.tasks.push(tokio::spawn(async move {
            let mut line = Vec::new();
            loop {
                line.clear();
                match r.read_until(b'\n', &mut line).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => emit(String::from_utf8_lossy(&line).into_owned()),
                }
            }
        }));
        Ok(())
    }

    /// Waits, at most `timeout`, until everything the program wrote was forwarded (it ended).
    pub async fn drain(&mut self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while self.tasks.iter().any(|t| !t.is_finished()) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.tasks.retain(|t| !t.is_finished());
    }

    /// The program goes on without Ember (DAP `disconnect` with `terminateDebuggee: false`):
    /// had Ember just exited, closing the pipes' read ends, its next print would fail with a
    /// broken pipe. Its output is appended to `log` instead, by a `cat` per pipe that lives
    /// as long as the program's output does. False if there was nothing to hand over.
    pub async fn hand_over(&mut self, log: &Path) -> std::io::Result<bool> {
        if self.pipes.is_empty() {
            return Ok(false);
        }
        for t in self.tasks.drain(..) {
            t.abort();
            let _ = t.await;
        }
        if let Some(dir) = log.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = std::fs::OpenOptions::new().create(true).append(true).open(log)?;
        for fd in self.pipes.drain(..) {
            // The forwarder made the pipe non-blocking; `cat` expects a blocking read.
            let flags = nix::fcntl::OFlag::from_bits_truncate(nix::fcntl::fcntl(&fd, nix::fcntl::FcntlArg::F_GETFL)?);
            nix::fcntl::fcntl(&fd, nix::fcntl::FcntlArg::F_SETFL(flags - nix::fcntl::OFlag::O_NONBLOCK))?;
            std::process::Command::new("cat")
                .stdin(std::process::Stdio::from(fd))
                .stdout(file.try_clone()?)
                .stderr(std::process::Stdio::null())
                // Its own group: a signal to Ember's group (the editor ending it) does not reach it.
                .process_group(0)
                .spawn()?;
        }
        Ok(true)
    }
}

/// Meta for a new recording.
pub fn meta(command_line: Vec<String>, config: &ember_sampler::Config) -> Meta {
    let rate_hz = match config.rate {
        ember_sampler::Rate::Hz(hz) => Some(hz),
        ember_sampler::Rate::Max => None,
    };
    Meta {
        source: "ember".into(),
        start_unix_ms: SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0),
        rate_hz,
        command_line,
        timed: true,
        interval_ns: rate_hz.map(|hz| (1e9 / hz) as u64).unwrap_or(0),
        ..Default::default()
    }
}

/// Where a relative file name from the target points: CPython may record paths relative to
/// the process's working directory.
pub fn absolute_source(pid: u32, file: &str) -> Option<PathBuf> {
    if file.starts_with('<') || file.is_empty() {
        return None;
    }
    let p = Path::new(file);
    if p.is_absolute() {
        return Some(p.to_path_buf());
    }
    std::fs::read_link(format!("/proc/{pid}/cwd")).ok().map(|cwd| cwd.join(p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt;

    #[tokio::test]
    async fn terminate_escalates_past_ignored_signals() {
        // A shell that ignores SIGINT and SIGTERM: only SIGKILL ends it.
        let mut child = std::process::Command::new("/bin/sh")
            .args(["-c", "trap '' INT TERM; while :; do sleep 0.05; done"])
            .process_group(0)
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let pid = child.id();
        let reaper = std::thread::spawn(move || child.wait().unwrap());
        let t = Instant::now();
        terminate(pid, true).await;
        let status = reaper.join().unwrap();
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(libc::SIGKILL));
        assert!(t.elapsed() >= INT_WAIT + TERM_WAIT, "{:?}", t.elapsed());
    }

    #[tokio::test]
    async fn terminate_stops_at_sigint_when_it_works() {
        // Default signals even when the test runs from a background job (which ignores SIGINT).
        let mut child = ember_sampler::default_signals(std::process::Command::new("/bin/sleep").arg("30")).spawn().unwrap();
        let pid = child.id();
        let reaper = std::thread::spawn(move || child.wait().unwrap());
        let t = Instant::now();
        terminate(pid, false).await;
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(reaper.join().unwrap().signal(), Some(libc::SIGINT));
        assert!(t.elapsed() < INT_WAIT);
    }
}
