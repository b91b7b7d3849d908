//! Line numbers from a code object's line table, decoded once per code object into sorted
//! ranges so each sample costs a binary search.

use crate::layout::LineTable;

/// Sorted, non-overlapping ranges: (start, end) in the unit the frame's position uses
/// (bytes for lnotab, code units otherwise) → line (0 = none).
#[derive(Debug, Clone, Default)]
pub struct Lines {
    starts: Vec<u32>,
    ends: Vec<u32>,
    lines: Vec<u32>,
    first_line: u32,
    /// lnotab semantics: a position past the last range keeps the last line.
    open_ended: bool,
}

impl Lines {
    pub fn decode(kind: LineTable, table: &[u8], first_line: u32) -> Lines {
        match kind {
            LineTable::Lnotab => lnotab(table, first_line),
            LineTable::Linetable310 => linetable310(table, first_line),
            LineTable::Locations => locations(table, first_line),
        }
    }

    /// The line at `pos`; a negative position (before the first instruction) is the first line.
    pub fn line(&self, pos: i64) -> u32 {
        if pos < 0 {
            return self.first_line;
        }
        let pos = pos as u32;
        let i = self.starts.partition_point(|&s| s <= pos);
        if i == 0 {
            return self.first_line;
        }
        let i = i - 1;
        if pos < self.ends[i] || self.open_ended {
            self.lines[i]
        } else {
            0
        }
    }
}

fn lnotab(t: &[u8], first: u32) -> Lines {
    let mut out = Lines { first_line: first, open_ended: true, ..Default::default() };
    let (mut addr, mut line) = (0u32, first as i64);
    out.starts.push(0);
    out.ends.push(u32::MAX);
    out.lines.push(first);
    for pair in t.chunks_exact(2) {
        addr += pair[0] as u32;
        line += pair[1] as i8 as i64;
        if out.starts.last() == Some(&addr) {
            *out.lines.last_mut().unwrap() = line.max(0) as u32;
        } else {
            out.starts.push(addr);
            out.ends.push(u32::MAX);
            out.lines.push(line.max(0) as u32);
        }
    }
    out
}

/// 3.10: (sdelta u8, ldelta i8) pairs over byte offsets; ldelta -128 means "no line".
fn linetable310(t: &[u8], first: u32) -> Lines {
    let mut out = Lines { first_line: first, ..Default::default() };
    let (mut start, mut line) = (0u32, first as i64);
    for pair in t.chunks_exact(2) {
        let end = start + pair[0] as u32;
        let d = pair[1] as i8;
        if d != -128 {
            line += d as i64;
        }
        if end > start {
            // Positions are kept in code units (f_lasti); the table counts bytes.
            out.starts.push(start / 2);
            out.ends.push(end / 2);
            out.lines.push(if d == -128 { 0 } else { line.max(0) as u32 });
        }
        start = end;
    }
    out
}

fn varint(t: &[u8], i: &mut usize) -> u32 {
    let mut v = 0u32;
    let mut shift = 0;
    while *i < t.len() {
        let b = t[*i];
        *i += 1;
        v |= ((b & 63) as u32) << shift;
        shift += 6;
        if b & 64 == 0 || shift > 30 {
            break;
        }
    }
    v
}

fn svarint(t: &[u8], i: &mut usize) -> i64 {
    let v = varint(t, i);
    if v & 1 != 0 { -((v >> 1) as i64) } else { (v >> 1) as i64 }
}

/// 3.11+ location table; positions in code units.
fn locations(t: &[u8], first: u32) -> Lines {
    let mut out = Lines { first_line: first, ..Default::default() };
    let (mut i, mut start, mut line) = (0usize, 0u32, first as i64);
    while i < t.len() {
        let b = t[i];
        i += 1;
        if b & 0x80 == 0 {
            continue; // not an entry start: resynchronise
        }
        let code = (b >> 3) & 15;
        let len = (b & 7) as u32 + 1;
        let this = match code {
            15 => None,
            14 => {
                line += svarint(t, &mut i);
                varint(t, &mut i);
                varint(t, &mut i);
                varint(t, &mut i);
                Some(line)
            }
            13 => {
                line += svarint(t, &mut i);
                Some(line)
            }
            10..=12 => {
                line += (code - 10) as i64;
                i += 2;
                Some(line)
            }
            _ => {
                i += 1;
                Some(line)
            }
        };
        out.starts.push(start);
        out.ends.push(start + len);
        out.lines.push(this.map_or(0, |l| l.max(0) as u32));
        start += len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lnotab_steps() {
        // line 10 at 0; +6 bytes → line 11; +4 bytes → line 13
        let l = Lines::decode(LineTable::Lnotab, &[6, 1, 4, 2], 10);
        assert_eq!(l.line(-1), 10);
        assert_eq!(l.line(0), 10);
        assert_eq!(l.line(5), 10);
        assert_eq!(l.line(6), 11);
        assert_eq!(l.line(10), 13);
        assert_eq!(l.line(400), 13);
    }

    #[test]
    fn locations_forms() {
        // entry 1: code 13 (no column), 2 units, line +1; entry 2: code 11 (one-line, delta 1), 1 unit
        let t = [0x80 | (13 << 3) | 1, 2, 0x80 | (11 << 3), 5, 9, 0x80 | (15 << 3)];
        let l = Lines::decode(LineTable::Locations, &t, 5);
        assert_eq!(l.line(0), 6);
        assert_eq!(l.line(1), 6);
        assert_eq!(l.line(2), 7);
        assert_eq!(l.line(3), 0);
        assert_eq!(l.line(-1), 5);
    }

    #[test]
    fn linetable_310() {
        // bytes 0..4 line +1, 4..8 no line, 8..10 line +2 (from 11 → 13)
        let t = [4, 1, 4, 0x80, 2, 2];
        let l = Lines::decode(LineTable::Linetable310, &t, 10);
        assert_eq!(l.line(0), 11);
        assert_eq!(l.line(1), 11);
        assert_eq!(l.line(2), 0);
        assert_eq!(l.line(4), 13);
    }
}
