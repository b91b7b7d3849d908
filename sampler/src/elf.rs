//! Finds symbols in the interpreter's ELF file and where the file is loaded in the target.

use crate::error::Error;
use object::{Object, ObjectSegment, ObjectSymbol};

pub struct ElfInfo {
    /// Symbol name → address in the file (add the load bias for the target address).
    pub symbols: Vec<(String, u64, u64)>,
    /// Lowest PT_LOAD virtual address, page aligned.
    pub min_vaddr: u64,
    /// Whole-file bytes, kept for string searches (the version string of ≤3.10).
    pub data: Vec<u8>,
}

const WANTED: &[&str] = &["_PyRuntime", "Py_Version", "PyCode_Type", "_PyAsyncioDebug", "AsyncioDebug"];

pub fn read(path: &std::path::Path, pid: u32) -> Result<ElfInfo, Error> {
    let data = std::fs::read(path).map_err(|e| Error::from_errno(pid, &format!("{}", path.display()), e))?;
    let file = object::File::parse(&*data)
        .map_err(|e| Error::Other(format!("{} is not a readable ELF file: {e}", path.display())))?;
    let mut symbols = Vec::new();
    for sym in file.dynamic_symbols().chain(file.symbols()) {
        if let Ok(name) = sym.name() {
            if WANTED.contains(&name) && !symbols.iter().any(|(n, _, _): &(String, u64, u64)| n == name) {
                symbols.push((name.to_string(), sym.address(), sym.size()));
            }
        }
    }
    let min_vaddr = file.segments().map(|s| s.address()).min().unwrap_or(0) & !0xfff;
    Ok(ElfInfo { symbols, min_vaddr, data })
}

impl ElfInfo {
    pub fn symbol(&self, name: &str) -> Option<(u64, u64)> {
        self.symbols.iter().find(|s| s.0 == name).map(|s| (s.1, s.2))
    }
}
