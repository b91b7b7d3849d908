//! A program Ember starts does not outlive Ember unless the user asks: one ran on for hours
//! after `ember record ... | head` killed Ember with SIGPIPE, and a SIGKILLed or crashed adapter
//! would leave its launch running unseen. Ember cannot act once it is killed, so a small
//! process forked for each program waits on a pipe only Ember writes to: at end of file (Ember
//! gone, or done with the program without releasing it) it ends the program; a released
//! program (DAP `disconnect` with `terminateDebuggee: false`) is left alone.
//!
//! Not PR_SET_PDEATHSIG: the kernel ties that to the thread that forked, and it cannot be
//! undone from outside, so a program kept running after a disconnect would die with Ember.
//! This is the shape of debugpy's launcher, which ends the program when its socket closes.

use std::io::{self, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::{Child, Command};
use std::time::Duration;

/// How long an abandoned program gets between SIGTERM and SIGKILL.
const GRACE: Duration = Duration::from_secs(2);

/// The link to a program's watchdog. Dropping it ends the program if it still runs.
pub struct Watchdog {
    pipe: Option<std::fs::File>,
    pid: nix::unistd::Pid,
}

/// Starts `cmd` with a watchdog. A program that starts but cannot be watched (no pidfd before
/// Linux 5.3) runs unwatched, with a warning in the log.
pub fn spawn_watched(cmd: &mut Command) -> io::Result<(Child, Option<Watchdog>)> {
    let child = cmd.spawn()?;
    let dog = watch(child.id()).map_err(|e| tracing::warn!("PID {} runs without a watchdog: {e}", child.id())).ok();
    Ok((child, dog))
}

impl Watchdog {
    /// The program may outlive Ember from now on.
    pub fn release(mut self) {
        if let Some(mut p) = self.pipe.take() {
            let _ = p.write_all(b"r");
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        // Closing the pipe is the signal; then reap the watchdog without waiting on it.
        drop(self.pipe.take());
        let pid = self.pid;
        let _ = std::thread::Builder::new().name("ember-watchdog-reaper".into()).spawn(move || {
            let _ = nix::sys::wait::waitpid(pid, None);
        });
    }
}

fn watch(pid: u32) -> io::Result<Watchdog> {
    // Opened while the program is Ember's unreaped child, so it names that process even after
    // its PID is reused.
    let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    if pidfd < 0 {
        return Err(io::Error::last_os_error());
    }
    let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd as i32) };
    let (read, write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    // SAFETY: Ember has other threads, so the child calls only async-signal-safe functions
    // (raw system calls) until it exits.
    match unsafe { nix::unistd::fork() }? {
        nix::unistd::ForkResult::Child => unsafe { run(read.as_raw_fd(), pidfd.as_raw_fd(), pid as libc::pid_t) },
        nix::unistd::ForkResult::Parent { child } => Ok(Watchdog { pipe: Some(std::fs::File::from(write)), pid: child }),
    }
}

/// The watchdog itself, in the forked child.
unsafe fn run(read: i32, pidfd: i32, pid: libc::pid_t) -> ! {
    // Keep nothing of Ember's open (the editor's pipes and sockets must close when Ember does,
    // and other watchdogs' pipes must reach end of file): the two fds go to 3 and 4, the rest
    // is closed, 0-2 become /dev/null.
    let (r, p) = (libc::fcntl(read, libc::F_DUPFD_CLOEXEC, 100), libc::fcntl(pidfd, libc::F_DUPFD_CLOEXEC, 100));
    libc::dup2(r, 3);
    libc::dup2(p, 4);
    if libc::syscall(libc::SYS_close_range, 5u32, u32::MAX, 0u32) != 0 {
        for fd in 5..4096 {
            libc::close(fd);
        }
    }
    let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
    for fd in 0..3 {
        libc::dup2(null, fd);
    }
    // Out of Ember's process group (a Ctrl-C meant for Ember is not for it) and with default
    // signal handling (Ember's handlers write to pipes closed above).
    libc::setpgid(0, 0);
    libc::prctl(libc::PR_SET_NAME, c"ember-watchdog".as_ptr());
    let mut none: libc::sigset_t = std::mem::zeroed();
    libc::sigemptyset(&mut none);
    libc::sigprocmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());
    for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP, libc::SIGPIPE, libc::SIGCHLD] {
        libc::signal(sig, libc::SIG_DFL);
    }
    let mut byte = 0u8;
    let n = loop {
        let n = libc::read(3, (&mut byte as *mut u8).cast(), 1);
        if n >= 0 || *libc::__errno_location() != libc::EINTR {
            break n;
        }
    };
    if n != 1 {
        end_program(4, pid);
    }
    libc::_exit(0)
}

/// SIGTERM to the program (and its process group, when it leads one), SIGKILL after `GRACE`.
unsafe fn end_program(pidfd: i32, pid: libc::pid_t) {
    let send = |sig: i32| libc::syscall(libc::SYS_pidfd_send_signal, pidfd, sig, std::ptr::null::<libc::siginfo_t>(), 0u32) == 0;
    for (sig, wait) in [(libc::SIGTERM, GRACE), (libc::SIGKILL, Duration::ZERO)] {
        // Signal 0 first: a program that already ended (even if its PID is reused) is left be.
        if !send(0) {
            return;
        }
        libc::kill(-pid, sig);
        send(sig);
        // The pidfd turns readable when the program exits.
        let mut poll = libc::pollfd { fd: pidfd, events: libc::POLLIN, revents: 0 };
        if !wait.is_zero() && libc::poll(&mut poll, 1, wait.as_millis() as i32) == 1 {
            return;
        }
    }
}
