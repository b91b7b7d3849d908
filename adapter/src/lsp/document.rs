//! Open documents: their text, and for each current line the line it had when the profile was
//! recorded, kept up to date through edits so hints follow their lines and edited lines lose
//! theirs.

use lsp_types::{Position, TextDocumentContentChangeEvent};

#[derive(Clone)]
pub struct Document {
    lines: Vec<String>,
    /// Current line (0-based) → original line (1-based, as profiles count); 0 = edited.
    original: Vec<u32>,
}

impl Document {
    pub fn new(text: &str) -> Document {
        let lines = split_lines(text);
        let original = (1..=lines.len() as u32).collect();
        Document { lines, original }
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
            self.replace_all(&change.text);
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
        let new = split_lines(&text);
        // A new line keeps its origin only when its text is an old first or last line unchanged
        // (Enter at the end or start of a line, deleted lines); otherwise it counts as edited.
        let m = new.len();
        let mut origin = vec![0u32; m];
        if new[0] == self.lines[sl] {
            origin[0] = self.original[sl];
        } else if m == 1 && el > sl && new[0] == self.lines[el] {
            origin[0] = self.original[el];
        }
        if m > 1 && new[m - 1] == self.lines[el] && !(el == sl && origin[0] != 0) {
            origin[m - 1] = self.original[el];
        }
        self.lines.splice(sl..=el, new);
        self.original.splice(sl..=el, origin);
    }

    fn replace_all(&mut self, text: &str) {
        // Keep the lines of the unchanged head and tail.
        let new = split_lines(text);
        let head = self.lines.iter().zip(&new).take_while(|(a, b)| a == b).count();
        let max_tail = self.lines.len().min(new.len()) - head;
        let tail = self.lines.iter().rev().zip(new.iter().rev()).take(max_tail).take_while(|(a, b)| a == b).count();
        let mut original = vec![0u32; new.len()];
        original[..head].copy_from_slice(&self.original[..head]);
        let (n_old, n_new) = (self.lines.len(), new.len());
        original[n_new - tail..].copy_from_slice(&self.original[n_old - tail..]);
        self.lines = new;
        self.original = original;
    }
}

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
    fn out_of_range_edits_do_not_panic() {
        let mut d = Document::new("a");
        edit(&mut d, (5, 0), (9, 3), "new\nlines");
        assert_eq!(d.line_count(), 2);
        edit(&mut d, (0, 40), (0, 99), "!");
        assert_eq!(d.line_text(0), Some("anew!"));
    }
}
