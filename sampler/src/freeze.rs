//! `--blocking`: every thread of the target stopped while its stacks are read, as py-spy does
//! by default. Exact stacks whatever the target does, at a cost to it: at 1 kHz a 3.11 target
//! ran 3–7% slower (py-spy's pausing: 40–60%, as it reads each frame separately while it holds
//! the target).
//!
//! ptrace (seize, interrupt, detach) rather than SIGSTOP: a ptrace stop is seen by nobody but
//! the tracer, where SIGSTOP would tell an interactive shell that its job stopped. A signal that
//! arrives while a thread is stopped is handed back to it on detach.

use crate::error::Error;
use crate::process;
use nix::errno::Errno;
use nix::sys::ptrace;
use nix::sys::signal::Signal;
use nix::sys::wait::{waitid, waitpid, Id, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use std::collections::HashMap;

/// Instructions a nudged thread is moved on by (Frozen::nudge).
const NUDGE_STEPS: usize = 8;

/// The threads of one process, stopped until this is dropped.
pub struct Frozen {
    /// Each stopped thread, and a signal it received meanwhile (delivered on detach).
    stopped: Vec<(Pid, Option<Signal>)>,
    /// Whether each thread was running ('R') just before it was stopped (once stopped, the
    /// kernel shows every thread as traced).
    pub running: HashMap<u32, bool>,
}

impl Frozen {
    /// Stops every thread `pid` has now; threads that exit meanwhile are skipped. `stats`
    /// keeps the threads' /proc stat files open from pass to pass (opening one per thread per
    /// pass cost a tenth of a pass); files of threads gone are dropped.
    pub fn new(pid: u32, stats: &mut HashMap<u32, process::ThreadStat>) -> Result<Frozen, Error> {
        let mut f = Frozen { stopped: Vec::new(), running: HashMap::new() };
        let mut tids = process::threads(pid);
        tids.sort_unstable();
        stats.retain(|tid, _| tids.binary_search(tid).is_ok());
        for tid in tids {
            let mut state = stats.get_mut(&tid).and_then(|s| s.running());
            if state.is_none() {
                // New, or a reused thread id whose old file now reads nothing: (re)open.
                if let Some(mut stat) = process::ThreadStat::open(pid, tid) {
                    state = Some(stat.running().unwrap_or(false));
                    stats.insert(tid, stat);
                }
            }
            if let Some(r) = state {
                f.running.insert(tid, r);
            }
            let p = Pid::from_raw(tid as i32);
            let refused = match ptrace::seize(p, ptrace::Options::empty()) {
                Ok(()) => None,
                Err(Errno::ESRCH) => continue,
                Err(Errno::EPERM) if process::exists(pid) => Some(Error::Other(format!(
                    "cannot pause PID {pid} for --blocking: ptrace was refused (another debugger or \
                     tracer may be attached; otherwise see the permission advice for reading its memory)"
                ))),
                Err(e) => Some(Error::from_errno(pid, "ptrace", std::io::Error::from(e))),
            };
            if let Some(e) = refused {
                // Threads already interrupted must reach their stop before the detach can
                // release them; one left traced would wait for us at its next signal.
                f.stopped.retain_mut(|(p, sig)| wait_stopped(*p, sig, false));
                return Err(e);
            }
            if ptrace::interrupt(p).is_err() {
                let _ = ptrace::detach(p, None);
                continue;
            }
            f.stopped.push((p, None));
        }
        f.stopped.retain_mut(|(p, sig)| wait_stopped(*p, sig, false));
        Ok(f)
    }

    /// Moves thread `tid` on by NUDGE_STEPS instructions, stopped again after each. A thread
    /// can stop where its memory does not describe it: 3.11/3.12's eval loop publishes its
    /// C-level frame (`tstate->cframe`) a few dozen instructions before it fills it in, and a
    /// thread stopped between shows whatever that stack slot held before. Single
    /// steps, because a thread let go and interrupted again often had not run at all (its
    /// wake-up outlasted a 20 µs wait); each step takes ~80 µs here. Not while it holds a
    /// signal: it could not hold two.
    pub fn nudge(&mut self, tid: u32) {
        let Some(i) = self.stopped.iter().position(|(p, _)| p.as_raw() == tid as i32) else { return };
        let p = self.stopped[i].0;
        for _ in 0..NUDGE_STEPS {
            if self.stopped[i].1.is_some() {
                return;
            }
            if ptrace::step(p, None).is_err() || !wait_stopped(p, &mut self.stopped[i].1, true) {
                // Gone: nothing left to detach.
                self.stopped.remove(i);
                return;
            }
        }
    }
}

/// Waits until `p` is in a ptrace stop; false if it exited instead. After a single step
/// (`stepped`), its SIGTRAP is the step's own, not a signal to hold.
fn wait_stopped(p: Pid, sig: &mut Option<Signal>, stepped: bool) -> bool {
    loop {
        // Look before taking: an exit stays for whoever waits for the process (a session reaps
        // the program it started, and reports its exit code).
        let peek = WaitPidFlag::WSTOPPED | WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT | WaitPidFlag::__WALL;
        match waitid(Id::Pid(p), peek) {
            Ok(WaitStatus::Exited(..)) | Ok(WaitStatus::Signaled(..)) => return false,
            Err(Errno::EINTR) => continue,
            Err(_) => return false,
            Ok(_) => {}
        }
        match waitpid(p, Some(WaitPidFlag::__WALL)) {
            // The interrupt (or a group stop) took effect, or the step did.
            Ok(WaitStatus::PtraceEvent(..)) => return true,
            Ok(WaitStatus::Stopped(_, Signal::SIGTRAP)) if stepped => return true,
            // A signal arrived first: the thread is stopped too; the signal is its own.
            Ok(WaitStatus::Stopped(_, s)) => {
                *sig = Some(s);
                return true;
            }
            Ok(WaitStatus::Exited(..)) | Ok(WaitStatus::Signaled(..)) | Err(Errno::ECHILD) | Err(Errno::ESRCH) => return false,
            Err(Errno::EINTR) | Ok(_) => continue,
            Err(_) => return false,
        }
    }
}

impl Drop for Frozen {
    fn drop(&mut self) {
        for &(p, sig) in &self.stopped {
            let _ = ptrace::detach(p, sig);
        }
    }
}
