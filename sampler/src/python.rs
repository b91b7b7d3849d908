//! Which CPython a process runs.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PythonVersion {
    pub major: u8,
    pub minor: u8,
    pub micro: u8,
}

impl fmt::Display for PythonVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.micro)
    }
}

use crate::elf;
use crate::error::Error;
use crate::layout::{self, Layout};
use crate::memory::Remote;
use crate::process;

/// A located interpreter: where its runtime lives and how its structs are laid out.
#[derive(Debug, Clone)]
pub struct Interpreter {
    pub pid: u32,
    pub version: PythonVersion,
    pub layout: &'static Layout,
    /// Address of `_PyRuntime` in the target.
    pub runtime: u64,
    /// Address of `PyCode_Type`, used to check that a pointer really is a code object.
    pub code_type: Option<u64>,
    /// The file the interpreter lives in (executable or libpython).
    pub binary: String,
}

/// Why a mapping looks like it holds an interpreter, and the minor its name says, if any.
fn python_name(path: &str) -> Option<(bool, Option<u8>, String)> {
    let base = path.rsplit('/').next()?;
    let (is_lib, rest) = if let Some(r) = base.strip_prefix("libpython") {
        (true, r)
    } else if let Some(r) = base.strip_prefix("python") {
        (false, r)
    } else {
        return None;
    };
    // rest: "3.11.so.1.0", "3.13t.so", "3.8d.so", "3.11", "", "2.7"
    let ver: String = rest.chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
    let ver = ver.trim_end_matches('.').to_string();
    let flags: String = rest[ver.len()..].chars().take_while(|c| c.is_ascii_alphabetic() && *c != 's').collect();
    let minor = ver.strip_prefix("3.").and_then(|m| m.split('.').next()?.parse().ok());
    Some((is_lib, minor, format!("{ver}{flags}")))
}

/// Finds the interpreter in `pid`'s mappings. Ok(None) while nothing Python-like is mapped yet.
pub fn locate(pid: u32) -> Result<Option<Interpreter>, Error> {
    let maps = process::maps(pid)?;
    // Candidates: libpython first (pyenv builds keep the runtime there), then python executables.
    let mut candidates: Vec<(&process::Mapping, bool, Option<u8>, String)> = Vec::new();
    for m in &maps {
        if m.offset != 0 || m.path.is_empty() || m.path.starts_with('[') {
            continue;
        }
        if let Some((is_lib, minor, tag)) = python_name(&m.path) {
            if !candidates.iter().any(|c| c.0.path == m.path) {
                candidates.push((m, is_lib, minor, tag));
            }
        }
    }
    candidates.sort_by_key(|c| !c.1);
    if candidates.is_empty() {
        return Ok(None);
    }
    let mut last_err = None;
    for (m, _is_lib, name_minor, tag) in &candidates {
        if tag.starts_with('2') {
            return Err(Error::UnsupportedPython { pid, found: format!("Python {tag}"), reason: "Python 2 is not supported".into() });
        }
        if tag.ends_with('t') {
            return Err(Error::UnsupportedPython { pid, found: format!("Python {tag} ({})", m.path), reason: "free-threaded builds are not supported yet".into() });
        }
        if tag.contains('d') {
            return Err(Error::UnsupportedPython { pid, found: format!("Python {tag} ({})", m.path), reason: "debug builds have other struct layouts".into() });
        }
        // Named for a minor Ember has no layout for (3.7, which has `_PyRuntime` but no readable
        // micro; 3.6, which has no `_PyRuntime` and would read as "not Python").
        if let Some(minor) = name_minor.filter(|&n| layout::for_minor(n).is_none()) {
            return Err(Error::UnsupportedPython { pid, found: format!("Python 3.{minor} ({})", m.path), reason: "this minor version is not supported".into() });
        }
        let file = process::mapped_file(pid, m);
        let elf = match elf::read(&file, pid) {
            Ok(e) => e,
            Err(_) if m.deleted => {
                last_err = Some(Error::Other(format!(
                    "PID {pid} runs Python from {}, which was deleted or replaced after the program started (an upgrade?). \
                     Ember reads the interpreter's symbols from that file, and only root (CAP_SYS_ADMIN) can open the old \
                     copy: restart the program, or run Ember with sudo",
                    m.path
                )));
                continue;
            }
            Err(e) => {
                last_err = Some(e);
                continue;
            }
        };
        let Some((runtime_sym, _)) = elf.symbol("_PyRuntime") else { continue };
        let bias = m.start.wrapping_sub(elf.min_vaddr);
        let runtime = runtime_sym.wrapping_add(bias);
        let reads = [Some(runtime), elf.symbol("Py_Version").map(|(a, _)| a.wrapping_add(bias))];
        for addr in reads.into_iter().flatten() {
            if !in_place(&maps, &m.path, &elf, bias, addr) {
                return Err(Error::NotMapped { pid, addr });
            }
        }
        let mem = Remote::new(pid);
        let version = read_version(pid, &mem, &elf, bias, runtime, *name_minor, &m.path)?;
        let layout = layout::for_minor(version.minor).ok_or_else(|| Error::UnsupportedPython {
            pid,
            found: format!("Python {version} ({})", m.path),
            reason: "this minor version is not supported".into(),
        })?;
        if version.minor >= 13 {
            check_debug_offsets(pid, &mem, runtime, layout, version)?;
        }
        let code_type = elf.symbol("PyCode_Type").map(|(a, _)| a.wrapping_add(bias));
        return Ok(Some(Interpreter { pid, version, layout, runtime, code_type, binary: m.path.clone() }));
    }
    // Python-named files without a runtime: a launcher whose libpython is not mapped yet, or
    // not CPython at all; the caller decides after waiting.
    match last_err {
        Some(e) => Err(e),
        None => Ok(None),
    }
}

/// Whether the byte at `addr` holds what the file says: the dynamic loader maps a library's
/// segments one after another, and until the data segment is in, the reservation under it is
/// unreadable or shows other bytes of the file (glibc maps the whole span from offset 0 first).
fn in_place(maps: &[process::Mapping], path: &str, elf: &elf::ElfInfo, bias: u64, addr: u64) -> bool {
    let Some(m) = maps.iter().find(|m| addr >= m.start && addr < m.end) else { return false };
    if !m.readable {
        return false;
    }
    match elf.file_offset(addr.wrapping_sub(bias)) {
        Some(off) => m.path == path && m.offset + (addr - m.start) == off,
        // Zero-filled: the loader's anonymous mapping, or the zeroed tail of the last file page.
        None => m.path.is_empty() || m.path == path,
    }
}

fn read_version(pid: u32, mem: &Remote, elf: &elf::ElfInfo, bias: u64, runtime: u64, name_minor: Option<u8>, path: &str) -> Result<PythonVersion, Error> {
    // 3.11+: the Py_Version constant (major<<24 | minor<<16 | micro<<8 | level<<4 | serial).
    if let Some((addr, _)) = elf.symbol("Py_Version") {
        let mut b = [0u8; 4];
        mem.read(addr.wrapping_add(bias), &mut b)?;
        let v = u32::from_le_bytes(b);
        return Ok(PythonVersion { major: (v >> 24) as u8, minor: (v >> 16) as u8, micro: (v >> 8) as u8 });
    }
    // 3.13+ would have had Py_Version; read the debug cookie anyway in case the symbol is gone.
    let mut head = [0u8; 16];
    if mem.read(runtime, &mut head).is_ok() && &head[..8] == b"xdebugpy" {
        let v = u64::from_le_bytes(head[8..16].try_into().unwrap());
        return Ok(PythonVersion { major: (v >> 24) as u8, minor: (v >> 16) as u8, micro: (v >> 8) as u8 });
    }
    // ≤3.10: the minor from the file name, the micro from PY_VERSION in .rodata ("\03.8.18\0").
    let Some(minor) = name_minor else {
        return Err(Error::UnsupportedPython { pid, found: path.to_string(), reason: "could not tell the Python version".into() });
    };
    let needle = format!("\u{0}3.{minor}.");
    let micro = find_micro(&elf.rodata, needle.as_bytes()).unwrap_or(0);
    Ok(PythonVersion { major: 3, minor, micro })
}

fn find_micro(data: &[u8], needle: &[u8]) -> Option<u8> {
    let mut i = 0;
    // Jump between NUL bytes rather than testing every window: .rodata is megabytes.
    while let Some(pos) = data[i..].iter().position(|&b| b == 0) {
        let at = i + pos;
        i = at + 1;
        if !data[at..].starts_with(needle) {
            continue;
        }
        let start = at + needle.len();
        let digits: Vec<u8> = data[start..].iter().take_while(|c| c.is_ascii_digit()).copied().collect();
        if !digits.is_empty() && data.get(start + digits.len()) == Some(&0) {
            return std::str::from_utf8(&digits).ok()?.parse().ok();
        }
        i = start;
    }
    None
}

/// 3.13+ publish `_Py_DebugOffsets` at the start of `_PyRuntime`. Ember's layouts for these
/// minors were measured from the headers; refuse to read a build whose table disagrees.
fn check_debug_offsets(pid: u32, mem: &Remote, runtime: u64, layout: &Layout, version: PythonVersion) -> Result<(), Error> {
    let mut b = [0u8; 48];
    mem.read(runtime, &mut b)?;
    let found = format!("Python {version}");
    if &b[..8] != b"xdebugpy" {
        return Err(Error::UnsupportedPython { pid, found, reason: "its _Py_DebugOffsets cookie is missing".into() });
    }
    let u = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap());
    if u(16) != 0 {
        return Err(Error::UnsupportedPython { pid, found, reason: "free-threaded builds are not supported yet".into() });
    }
    // runtime_state { size, finalizing, interpreters_head } follows cookie, version, free_threaded.
    if u(40) != layout.runtime_interpreters_head as u64 {
        return Err(Error::UnsupportedPython {
            pid,
            found,
            reason: format!("its debug offsets put interpreters.head at {} (Ember expects {})", u(40), layout.runtime_interpreters_head),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(python_name("/x/libpython3.11.so.1.0").map(|x| (x.0, x.1)), Some((true, Some(11))));
        assert_eq!(python_name("/usr/bin/python3.11").map(|x| (x.0, x.1, x.2)), Some((false, Some(11), "3.11".into())));
        assert_eq!(python_name("/x/libpython3.13t.so.1.0").unwrap().2, "3.13t");
        assert_eq!(python_name("/x/libpython3.8d.so.1.0").unwrap().2, "3.8d");
        assert_eq!(python_name("/usr/lib/x86_64-linux-gnu/libc.so.6"), None);
    }

    #[test]
    fn data_is_read_only_once_the_loader_has_mapped_it() {
        // A library with a read-only segment at 0 and its data at 0x5d90 (file offset 0x4d90).
        let elf = elf::ElfInfo { symbols: vec![], min_vaddr: 0, rodata: vec![], segments: vec![(0, 0, 0x3000), (0x5d90, 0x4d90, 0x300)] };
        let (bias, lib) = (0x7f00_0000_0000u64, "/x/libpython3.13.so.1.0");
        let map = |start: u64, end: u64, offset, readable, path: &str| process::Mapping { start: bias + start, end: bias + end, offset, readable, path: path.into(), deleted: false };
        let data = bias + 0x5e00;
        // glibc's first step: the whole span mapped from offset 0, so the data shows other bytes.
        assert!(!in_place(&[map(0, 0x7000, 0, true, lib)], lib, &elf, bias, data));
        // A loader that reserves the span inaccessible first.
        assert!(!in_place(&[map(0, 0x3000, 0, true, lib), map(0x3000, 0x7000, 0, false, "")], lib, &elf, bias, data));
        assert!(!in_place(&[map(0, 0x3000, 0, true, lib)], lib, &elf, bias, data));
        // Loaded: the data page mapped from its own offset.
        assert!(in_place(&[map(0, 0x3000, 0, true, lib), map(0x5000, 0x6000, 0x4000, true, lib)], lib, &elf, bias, data));
        // Past the file bytes: zero-filled memory counts wherever it is readable.
        assert!(in_place(&[map(0x5000, 0x6000, 0x4000, true, lib), map(0x6000, 0x7000, 0, true, "")], lib, &elf, bias, bias + 0x6100));
    }

    #[test]
    fn micro_from_rodata() {
        assert_eq!(find_micro(b"xx\x003.8.1x\x00\x003.8.18\x00", b"\x003.8."), Some(18));
    }
}
