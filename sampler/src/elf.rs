//! Finds symbols in the interpreter's ELF file and where the file is loaded in the target.

use crate::error::Error;
use object::{Object, ObjectSection, ObjectSegment, ObjectSymbol};

pub struct ElfInfo {
    /// Symbol name → address in the file (add the load bias for the target address).
    pub symbols: Vec<(String, u64, u64)>,
    /// Lowest PT_LOAD virtual address, page aligned.
    pub min_vaddr: u64,
    /// The .rodata section's bytes, for string searches (the version string of ≤3.10).
    pub rodata: Vec<u8>,
    /// PT_LOAD segments: (virtual address, file offset, bytes from the file).
    pub segments: Vec<(u64, u64, u64)>,
}

const WANTED: &[&str] = &["_PyRuntime", "Py_Version", "PyCode_Type"];

pub fn read(path: &std::path::Path, pid: u32) -> Result<ElfInfo, Error> {
    let data = std::fs::read(path).map_err(|e| Error::from_errno(pid, &format!("{}", path.display()), e))?;
    let file = object::File::parse(&*data)
        .map_err(|e| Error::Other(format!("{} is not a readable ELF file: {e}", path.display())))?;
    let mut symbols: Vec<(String, u64, u64)> = Vec::new();
    // .dynsym has what we need in every supported build; the (large) .symtab only if not.
    for table in [true, false] {
        if !table && symbols.iter().any(|s| s.0 == "_PyRuntime") {
            break;
        }
        let syms: Box<dyn Iterator<Item = object::Symbol>> = if table { Box::new(file.dynamic_symbols()) } else { Box::new(file.symbols()) };
        for sym in syms {
            if let Ok(name) = sym.name() {
                if WANTED.contains(&name) && !symbols.iter().any(|s| s.0 == name) {
                    symbols.push((name.to_string(), sym.address(), sym.size()));
                }
            }
        }
    }
    let min_vaddr = file.segments().map(|s| s.address()).min().unwrap_or(0) & !0xfff;
    let rodata = file.section_by_name(".rodata").and_then(|s| s.data().ok()).map(<[u8]>::to_vec).unwrap_or_default();
    let segments = file.segments().map(|s| {
        let (offset, size) = s.file_range();
        (s.address(), offset, size)
    }).collect();
    Ok(ElfInfo { symbols, min_vaddr, rodata, segments })
}

impl ElfInfo {
    pub fn symbol(&self, name: &str) -> Option<(u64, u64)> {
        self.symbols.iter().find(|s| s.0 == name).map(|s| (s.1, s.2))
    }

    /// Where the byte at file virtual address `vaddr` lies in the file; None past a segment's
    /// file bytes (zero-filled .bss) or outside every segment.
    pub fn file_offset(&self, vaddr: u64) -> Option<u64> {
        self.segments.iter().find(|&&(va, _, size)| vaddr >= va && vaddr < va + size).map(|&(va, off, _)| off + (vaddr - va))
    }
}
