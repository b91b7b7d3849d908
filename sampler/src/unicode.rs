//! Decodes a remote `str` object.

use crate::layout::{Layout, UNICODE_LENGTH, UNICODE_STATE};
use crate::memory::{Bytes, Remote};

const MAX_LEN: u64 = 4096;

pub fn read_str(mem: &Remote, layout: &Layout, addr: u64) -> Option<String> {
    if addr == 0 {
        return None;
    }
    let mut head = [0u8; 80];
    mem.read(addr, &mut head[..layout.unicode_compact_size + 8]).ok()?;
    let len = head.u64_at(UNICODE_LENGTH);
    let state = head.u32_at(UNICODE_STATE);
    let kind = ((state >> 2) & 7) as u64;
    let compact = state & 0x20 != 0;
    let ascii = state & 0x40 != 0;
    if len > MAX_LEN || !(1..=4).contains(&kind) || kind == 3 {
        return None;
    }
    let data = if compact && ascii {
        addr + layout.unicode_ascii_size as u64
    } else if compact {
        addr + layout.unicode_compact_size as u64
    } else {
        head.u64_at(layout.unicode_compact_size)
    };
    let raw = mem.read_vec(data, (len * kind) as usize).ok()?;
    Some(match kind {
        1 => raw.iter().map(|&b| b as char).collect(),
        2 => char::decode_utf16(raw.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])))
            .map(|r| r.unwrap_or('\u{fffd}'))
            .collect(),
        _ => raw
            .chunks_exact(4)
            .map(|c| char::from_u32(u32::from_le_bytes([c[0], c[1], c[2], c[3]])).unwrap_or('\u{fffd}'))
            .collect(),
    })
}

/// Reads a `bytes` object's contents (line tables).
pub fn read_bytes(mem: &Remote, addr: u64) -> Option<Vec<u8>> {
    use crate::layout::{BYTES_DATA, BYTES_SIZE};
    let mut head = [0u8; 24];
    mem.read(addr, &mut head).ok()?;
    let size = head.u64_at(BYTES_SIZE);
    if size > 1 << 24 {
        return None;
    }
    mem.read_vec(addr + BYTES_DATA as u64, size as usize).ok()
}
