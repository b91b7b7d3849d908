//! Open documents: their text, and for each current line the line it had when the profile was
//! recorded, kept up to date through edits so hints follow their lines and edited lines lose
//! theirs.

use lsp_types::{Position, TextDocumentContentChangeEvent};

#[derive(Clone)]
pub struct Document {
    lines: Vec<String>,
    /// Current line (0-based) → original line (1-based, as profiles count); 0 = edited.
    /// A line with an origin reads as that recorded line does.
    original: Vec<u32>,
    /// The text as it was recorded (as opened), to recognise a line that reads so again.
    recorded: Vec<String>,
}

impl Document {
    pub fn new(text: &str) -> Document {
        let lines = split_lines(text);
        let original = (1..=lines.len() as u32).collect();
        Document { recorded: lines.clone(), lines, original }
    }

    pub fn line_count(&self) -> u32 {
        self.lines.len() as u32
    }

    /// The profile's line number for current line `line` (0-based), if that line is unedited.
    pub fn original_line(&self, line: u32) -> Option<u32> {
        self.original.get(line as usize).copied().filter(|&o| o != 0)
    }

    /// The current line (0-based) of the profile's line `original`, if it is still there unedited.
    pub fn current_line(&self, original: u32) -> Option<u32> {
        if original == 0 {
            return None; // unknown line (and 0 marks edited lines)
        }
        // Unedited lines keep their order, so the non-zero entries are increasing.
        let guess = (original as usize).saturating_sub(1).min(self.original.len().saturating_sub(1));
        if self.original.get(guess) == Some(&original) {
            return Some(guess as u32);
        }
        self.original.iter().position(|&o| o == original).map(|i| i as u32)
    }

    /// Length of a line in UTF-16 code units (LSP's default position encoding).
    pub fn line_len_utf16(&self, line: u32) -> u32 {
        self.lines.get(line as usize).map_or(0, |l| l.encode_utf16().count() as u32)
    }

    pub fn line_text(&self, line: u32) -> Option<&str> {
        self.lines.get(line as usize).map(|s| s.as_str())
    }

    /// Applies one change from `textDocument/didChange`.
    pub fn apply(&mut self, change: &TextDocumentContentChangeEvent) {
        let Some(range) = change.range else {
            let last = self.lines.len() - 1;
            self.replace(0, last, split_lines(&change.text));
            return;
        };
        // Positions past the end mean the end of the document.
        let clamp = |p: Position| -> (usize, usize) {
            match self.lines.get(p.line as usize) {
                Some(l) => (p.line as usize, byte_index(l, p)),
                None => (self.lines.len() - 1, self.lines[self.lines.len() - 1].len()),
            }
        };
        let (sl, start) = clamp(range.start);
        let (el, end) = clamp(range.end);
        let (el, end) = if (el, end) < (sl, start) { (sl, start) } else { (el, end) };
        let mut text = String::with_capacity(change.text.len() + 80);
        text.push_str(&self.lines[sl][..start]);
        text.push_str(&change.text);
        text.push_str(&self.lines[el][end..]);
        self.replace(sl, el, split_lines(&text));
    }

    /// Replaces current lines `sl..=el` with `new`. Lines of the region the change left as they
    /// were (its common head and tail: Enter at either end of a line, whole lines deleted) keep
    /// their origin; the rest are then matched against the recorded text.
    fn replace(&mut self, sl: usize, el: usize, new: Vec<String>) {
        let old = &self.lines[sl..=el];
        let head = old.iter().zip(&new).take_while(|(a, b)| a == b).count();
        let room = old.len().min(new.len()) - head;
        let tail = old.iter().rev().zip(new.iter().rev()).take(room).take_while(|(a, b)| a == b).count();
        let (from, old_to) = (sl + head, el + 1 - tail);
        let middle = new[head..new.len() - tail].to_vec();
        let to = from + middle.len();
        self.original.splice(from..old_to, std::iter::repeat_n(0, middle.len()));
        self.lines.splice(from..old_to, middle);
        self.realign(from, to);
    }

    /// The edited lines around `from..to` (with their edited neighbours) against the recorded
    /// lines between the unedited lines on either side, by longest common subsequence: a line
    /// that reads as recorded again (an undo, a line retyped, a full-document change that
    /// touched two distant lines) gets its timings back, and origins stay in order.
    fn realign(&mut self, from: usize, to: usize) {
        let mut lo = from;
        while lo > 0 && self.original[lo - 1] == 0 {
            lo -= 1;
        }
        let mut hi = to;
        while hi < self.original.len() && self.original[hi] == 0 {
            hi += 1;
        }
        // Recorded lines (0-based) free for the gap: after the anchor above, before the one below.
        let first = if lo == 0 { 0 } else { self.original[lo - 1] as usize };
        let last = if hi == self.original.len() { self.recorded.len() } else { self.original[hi] as usize - 1 };
        let (cur, rec) = (&self.lines[lo..hi], &self.recorded[first.min(last)..last]);
        if cur.is_empty() || rec.is_empty() || cur.len() * rec.len() > REALIGN_CELLS {
            return;
        }
        // lcs[i][j]: longest common subsequence of cur[i..] and rec[j..].
        let w = rec.len() + 1;
        let mut lcs = vec![0u32; (cur.len() + 1) * w];
        for i in (0..cur.len()).rev() {
            for j in (0..rec.len()).rev() {
                lcs[i * w + j] = if cur[i] == rec[j] { lcs[(i + 1) * w + j + 1] + 1 } else { lcs[(i + 1) * w + j].max(lcs[i * w + j + 1]) };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < cur.len() && j < rec.len() {
            if cur[i] == rec[j] {
                self.original[lo + i] = (first + j + 1) as u32;
                i += 1;
                j += 1;
            } else if lcs[(i + 1) * w + j] >= lcs[i * w + j + 1] {
                i += 1;
            } else {
                j += 1;
            }
        }
    }
}

/// Past this many line pairs an edit does not look for recorded lines (a whole file pasted
/// over another): its lines simply count as edited.
const REALIGN_CELLS: usize = 2_000_000;

fn split_lines(text: &str) -> Vec<String> {
    text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l).to_string()).collect()
}

/// Byte offset in `line` of a UTF-16 position, clamped to the line.
fn byte_index(line: &str, pos: Position) -> usize {
    let mut units = 0u32;
    for (i, c) in line.char_indices() {
        if units >= pos.character {
            return i;
        }
        units += c.len_utf16() as u32;
    }
    line.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use lsp_types::Range;

    fn edit(doc: &mut Document, (sl, sc): (u32, u32), (el, ec): (u32, u32), text: &str) {
        doc.apply(&TextDocumentContentChangeEvent {
            range: Some(Range { start: Position::new(sl, sc), end: Position::new(el, ec) }),
            range_length: None,
            text: text.to_string(),
        });
    }

    fn origins(doc: &Document) -> Vec<u32> {
        doc.original.clone()
    }

    #[test]
    fn enter_at_end_of_line_shifts_the_lines_below() {
        let mut d = Document::new("a\nb\nc\n");
        edit(&mut d, (0, 1), (0, 1), "\n");
        assert_eq!(origins(&d), vec![1, 0, 2, 3, 4]);
        assert_eq!(d.current_line(3), Some(3));
        assert_eq!(d.original_line(1), None);
    }

    #[test]
    fn enter_at_start_of_line_keeps_it_on_the_moved_line() {
        let mut d = Document::new("a\nb\nc");
        edit(&mut d, (1, 0), (1, 0), "x\n");
        assert_eq!(origins(&d), vec![1, 0, 2, 3]);
        assert_eq!(d.line_text(2), Some("b"));
    }

    #[test]
    fn typing_in_a_line_drops_its_origin() {
        let mut d = Document::new("a\nb\nc");
        edit(&mut d, (1, 1), (1, 1), "z");
        assert_eq!(origins(&d), vec![1, 0, 3]);
        assert_eq!(d.line_text(1), Some("bz"));
        assert_eq!(d.current_line(0), None);
        assert_eq!(d.current_line(2), None);
    }

    #[test]
    fn deleting_lines_shifts_up() {
        let mut d = Document::new("a\nb\nc\nd");
        edit(&mut d, (0, 1), (2, 1), "");
        assert_eq!(origins(&d), vec![1, 4]);
        assert_eq!(d.line_text(1), Some("d"));
        // Deleting a whole line from its start.
        let mut d = Document::new("a\nb\nc\nd");
        edit(&mut d, (1, 0), (2, 0), "");
        assert_eq!(origins(&d), vec![1, 3, 4]);
    }

    #[test]
    fn utf16_columns_and_full_replacements() {
        let mut d = Document::new("x = '😀'\ny");
        assert_eq!(d.line_len_utf16(0), 8);
        edit(&mut d, (0, 7), (0, 8), "");
        assert_eq!(d.line_text(0), Some("x = '😀"));
        let mut d = Document::new("a\nb\nc\nd");
        d.apply(&TextDocumentContentChangeEvent { range: None, range_length: None, text: "a\nB\nc\nd".into() });
        assert_eq!(origins(&d), vec![1, 0, 3, 4]);
    }

    #[test]
    fn an_undone_edit_gets_its_timings_back() {
        let mut d = Document::new("a\nb\nc");
        edit(&mut d, (1, 1), (1, 1), "z");
        assert_eq!(origins(&d), vec![1, 0, 3]);
        edit(&mut d, (1, 1), (1, 2), "");
        assert_eq!(origins(&d), vec![1, 2, 3], "undo restores line 2");
        // Retyped over several edits, with a line inserted and removed in between.
        edit(&mut d, (1, 0), (1, 1), "x");
        edit(&mut d, (1, 1), (1, 1), "\nnew");
        assert_eq!(origins(&d), vec![1, 0, 0, 3]);
        edit(&mut d, (1, 0), (2, 3), "b");
        assert_eq!(origins(&d), vec![1, 2, 3]);
    }

    #[test]
    fn a_duplicated_line_and_its_undo() {
        for (at, dup) in [((1, 0), "b\n"), ((1, 1), "\nb"), ((2, 0), "b\n")] {
            let mut d = Document::new("a\nb\nc");
            edit(&mut d, at, at, dup);
            assert_eq!(d.line_count(), 4);
            assert_eq!(origins(&d).iter().filter(|&&o| o == 2).count(), 1, "one copy keeps line 2: {:?}", origins(&d));
            // Undo, whichever copy the editor removes.
            for (s, e) in [((1, 0), (2, 0)), ((2, 0), (3, 0)), ((1, 1), (2, 1))] {
                let mut u = d.clone();
                edit(&mut u, s, e, "");
                assert_eq!(origins(&u), vec![1, 2, 3], "dup at {at:?}, undo {s:?}..{e:?}");
            }
        }
    }

    #[test]
    fn a_full_document_change_keeps_the_lines_between_two_edits() {
        let text: String = (1..=10).map(|i| format!("line {i}\n")).collect();
        let mut d = Document::new(&text);
        let changed = text.replace("line 2\n", "line two\n").replace("line 9\n", "line nine\n");
        d.apply(&TextDocumentContentChangeEvent { range: None, range_length: None, text: changed });
        assert_eq!(origins(&d), vec![1, 0, 3, 4, 5, 6, 7, 8, 0, 10, 11]);
        // A line moved down is found at its new place; the lines it passed keep theirs.
        let moved = text.replace("line 3\n", "").replace("line 6\n", "line 6\nline 3\n");
        let mut d = Document::new(&text);
        d.apply(&TextDocumentContentChangeEvent { range: None, range_length: None, text: moved });
        assert_eq!(d.line_text(5), Some("line 3"));
        assert_eq!(d.current_line(4), Some(2));
        assert_eq!(origins(&d).iter().filter(|&&o| o != 0).count(), 10, "{:?}", origins(&d));
    }

    #[test]
    fn out_of_range_edits_do_not_panic() {
        let mut d = Document::new("a");
        edit(&mut d, (5, 0), (9, 3), "new\nlines");
        assert_eq!(d.line_count(), 2);
        edit(&mut d, (0, 40), (0, 99), "!");
        assert_eq!(d.line_text(0), Some("anew!"));
    }
}
