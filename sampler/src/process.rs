//! What /proc says about a process: whether it exists, its mappings, command line, threads,
//! children, and each thread's scheduler state.

use crate::error::Error;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct Mapping {
    pub start: u64,
    pub end: u64,
    pub offset: u64,
    pub readable: bool,
    /// The file mapped, or `[heap]`-style names for the kernel's own; empty when anonymous.
    pub path: String,
    /// The file was deleted or replaced (an upgrade) since it was mapped: `path` names another.
    pub deleted: bool,
}

pub fn exists(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// A process that exited and waits for its parent to collect its status.
pub fn is_zombie(pid: u32) -> bool {
    procfs::process::Process::new(pid as i32).and_then(|p| p.stat()).is_ok_and(|s| s.state == 'Z')
}

/// `NoSuchProcess` or `Zombie` for a PID that cannot be sampled at all.
pub fn check_exists(pid: u32) -> Result<(), Error> {
    if !exists(pid) {
        return Err(Error::NoSuchProcess(pid));
    }
    if is_zombie(pid) {
        return Err(Error::Zombie(pid));
    }
    // /proc/TID exists too (unlisted), and reads as the whole process until that thread ends.
    if let Some(process) = procfs::process::Process::new(pid as i32).and_then(|p| p.status()).ok().map(|s| s.tgid as u32).filter(|&t| t != pid) {
        return Err(Error::ThreadNotProcess { tid: pid, process });
    }
    Ok(())
}

pub fn maps(pid: u32) -> Result<Vec<Mapping>, Error> {
    use procfs::process::{MMPermissions, MMapPath};
    let maps = procfs::process::Process::new(pid as i32).and_then(|p| p.maps()).map_err(|e| proc_error(pid, "/proc/PID/maps", e))?;
    Ok(maps
        .into_iter()
        .map(|m| {
            let path = match m.pathname {
                MMapPath::Path(p) => p.to_string_lossy().into_owned(),
                MMapPath::Anonymous => String::new(),
                MMapPath::Other(o) => o,
                other => format!("[{other:?}]").to_lowercase(),
            };
            let (path, deleted) = match path.strip_suffix(" (deleted)") {
                Some(p) => (p.to_string(), true),
                None => (path, false),
            };
            Mapping { start: m.address.0, end: m.address.1, offset: m.offset, readable: m.perms.contains(MMPermissions::READ), path, deleted }
        })
        .collect())
}

/// The error a user can act on for a failed read of /proc.
fn proc_error(pid: u32, what: &str, e: procfs::ProcError) -> Error {
    use procfs::ProcError;
    let code = match e {
        ProcError::PermissionDenied(_) => libc::EACCES,
        ProcError::NotFound(_) => libc::ENOENT,
        ProcError::Io(e, _) => return Error::from_errno(pid, what, e),
        other => return Error::Other(format!("reading {what} of PID {pid}: {other}")),
    };
    Error::from_errno(pid, what, std::io::Error::from_raw_os_error(code))
}

/// How long ago the process started (its fork), from /proc; None if /proc does not say.
pub fn age(pid: u32) -> Option<std::time::Duration> {
    use procfs::Current;
    let ticks = procfs::process::Process::new(pid as i32).ok()?.stat().ok()?.starttime;
    let started = ticks as f64 / procfs::ticks_per_second() as f64;
    let now = procfs::Uptime::current().ok()?.uptime;
    Some(std::time::Duration::from_secs_f64((now - started).max(0.0)))
}

pub fn cmdline(pid: u32) -> Vec<String> {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| {
            b.split(|&c| c == 0)
                .filter(|s| !s.is_empty())
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .collect()
        })
        .unwrap_or_default()
}

pub fn exe(pid: u32) -> String {
    std::fs::read_link(format!("/proc/{pid}/exe"))
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "?".into())
}

/// A path inside the target's mount namespace, opened through /proc/PID/root so containers work.
pub fn root_path(pid: u32, path: &str) -> PathBuf {
    let p = PathBuf::from(format!("/proc/{pid}/root{path}"));
    if p.exists() { p } else { PathBuf::from(path) }
}

/// Where to read a mapped file: through the process's root (containers), or, for a file deleted
/// or replaced since, through the process itself (its executable), else through the mapping
/// (`map_files`, which the kernel opens only for CAP_SYS_ADMIN).
pub fn mapped_file(pid: u32, m: &Mapping) -> PathBuf {
    if !m.deleted {
        return root_path(pid, &m.path);
    }
    if exe(pid) == format!("{} (deleted)", m.path) {
        return PathBuf::from(format!("/proc/{pid}/exe"));
    }
    PathBuf::from(format!("/proc/{pid}/map_files/{:x}-{:x}", m.start, m.end))
}

pub fn threads(pid: u32) -> Vec<u32> {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .map(|d| d.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok()).collect())
        .unwrap_or_default()
}

pub fn thread_name(pid: u32, tid: u32) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/comm")).ok().map(|s| s.trim_end().to_string())
}

/// Parent PID from /proc/PID/stat.
pub fn ppid(pid: u32) -> Option<u32> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &s[s.rfind(')')? + 2..];
    after.split(' ').nth(1)?.parse().ok()
}

/// Every descendant of `root`, found by scanning /proc once.
pub fn descendants(root: u32) -> Vec<u32> {
    let mut parent_of = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for e in dir.flatten() {
            if let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) {
                if let Some(pp) = ppid(pid) {
                    parent_of.push((pid, pp));
                }
            }
        }
    }
    let mut out = Vec::new();
    let mut frontier = vec![root];
    while let Some(p) = frontier.pop() {
        for &(c, pp) in &parent_of {
            if pp == p && !out.contains(&c) {
                out.push(c);
                frontier.push(c);
            }
        }
    }
    out
}

/// An open /proc/PID/task/TID/stat, re-read with one pread per sample.
pub struct ThreadStat {
    file: File,
    buf: [u8; 512],
}

impl ThreadStat {
    pub fn open(pid: u32, tid: u32) -> Option<ThreadStat> {
        File::open(format!("/proc/{pid}/task/{tid}/stat")).ok().map(|file| ThreadStat { file, buf: [0; 512] })
    }

    /// True when the thread is running or runnable ('R'). None if the thread is gone.
    pub fn running(&mut self) -> Option<bool> {
        self.state().map(|c| c == b'R')
    }

    /// The thread's state letter (R, S, D, T stopped, t traced, Z…). None if the thread is gone.
    pub fn state(&mut self) -> Option<u8> {
        let n = self.file.read_at(&mut self.buf, 0).ok()?;
        let b = &self.buf[..n];
        let close = b.iter().rposition(|&c| c == b')')?;
        b.get(close + 2).copied()
    }
}
