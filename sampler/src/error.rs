//! Errors a user can act on: each message says what was found and what to do.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no process with PID {0} exists (it may have exited); check the PID with `ps`")]
    NoSuchProcess(u32),

    #[error("{tid} is the ID of a thread of process {process}, not of a process: give PID {process} instead")]
    ThreadNotProcess { tid: u32, process: u32 },

    #[error("PID {0} has exited: it is a zombie its parent has not collected yet, with nothing left to sample")]
    Zombie(u32),

    #[error(
        "permission denied reading the memory of PID {pid}: {detail}. Run Ember as the same user \
         as the target and either grant CAP_SYS_PTRACE (e.g. `sudo setcap cap_sys_ptrace+ep $(which ember)`, \
         or `--cap-add SYS_PTRACE` in Docker, whose default seccomp profile also blocks process_vm_readv) \
         or allow it with `sudo sysctl kernel.yama.ptrace_scope=0` (current value: {ptrace_scope})"
    )]
    PermissionDenied { pid: u32, detail: String, ptrace_scope: String },

    #[error("PID {pid} ({exe}) is not a Python process: no libpython or python executable is mapped into it")]
    NotPython { pid: u32, exe: String },

    #[error(
        "PID {pid} ({exe}) is not Python itself, but it runs Python in its child process PID {child} \
         ({command}): add --subprocesses (-s) to profile its Python subprocesses"
    )]
    PythonInChildren { pid: u32, exe: String, child: u32, command: String },

    #[error("PID {pid} runs {found}, which Ember does not support: {reason}. Supported: CPython 3.8 to 3.15 (default GIL builds, non-debug) on x86_64 Linux")]
    UnsupportedPython { pid: u32, found: String, reason: String },

    #[error("could not start {program:?}: {source}")]
    Spawn { program: PathBuf, #[source] source: std::io::Error },

    #[error("the program (PID {pid}) ended ({status}) before Ember could take a first sample: a program this short has nothing to sample")]
    ExitedEarly { pid: u32, status: String },

    #[error("timed out after {secs:.1}s waiting for the Python interpreter in PID {pid} to start")]
    StartTimeout { pid: u32, secs: f64 },

    #[error("stopped while waiting for the Python interpreter in PID {pid} to start: nothing was recorded")]
    Cancelled { pid: u32 },

    #[error("reading {what} of PID {pid}: {source}")]
    Io { pid: u32, what: String, #[source] source: std::io::Error },

    /// Also what a program still in its dynamic loader shows for a segment not mapped yet.
    #[error("address {addr:#x} is not mapped in PID {pid}")]
    NotMapped { pid: u32, addr: u64 },

    #[error("{0}")]
    Other(String),
}

impl Error {
    /// Maps an errno from reading `/proc/PID/...` or the target's memory to a clear error.
    pub(crate) fn from_errno(pid: u32, what: &str, err: std::io::Error) -> Error {
        match err.raw_os_error() {
            Some(libc::ESRCH) | Some(libc::ENOENT) => Error::NoSuchProcess(pid),
            Some(libc::EPERM) | Some(libc::EACCES) => Error::PermissionDenied {
                pid,
                detail: format!("{what}: {err}"),
                ptrace_scope: std::fs::read_to_string("/proc/sys/kernel/yama/ptrace_scope")
                    .map(|s| s.trim().to_string())
                    .unwrap_or_else(|_| "unknown".into()),
            },
            _ => Error::Io { pid, what: what.to_string(), source: err },
        }
    }
}
