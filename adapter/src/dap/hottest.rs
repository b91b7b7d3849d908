//! "Hottest functions" and "Hottest lines" so far: total and self share of samples, which the
//! DAP `variables` view shows in every client.

use crate::profile::{FuncId, Profile, StackId, NO_PARENT};
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq)]
pub struct Hot {
    /// `qualname  file:line` for a function, `file:line  qualname` for a line.
    pub name: String,
    pub file: String,
    pub line: u32,
    /// Share of samples with it anywhere on the stack, 0–100.
    pub total: f64,
    /// Share of samples with it as the innermost frame, 0–100.
    pub self_: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Functions,
    Lines,
}

/// The `limit` hottest entries, by self share then total share.
pub fn hottest(p: &Profile, kind: Kind, limit: usize) -> Vec<Hot> {
    let n = p.samples.len();
    if n == 0 {
        return Vec::new();
    }
    // Count samples per stack first: each distinct stack is then walked once.
    let mut per_stack: HashMap<StackId, u64> = HashMap::new();
    for &s in &p.samples.stack {
        *per_stack.entry(s).or_default() += 1;
    }
    // Key: (function, line) for lines, (function, 0) for functions.
    let mut totals: HashMap<(FuncId, u32), (u64, u64)> = HashMap::new();
    let mut seen: Vec<(FuncId, u32)> = Vec::new();
    for (&stack, &count) in &per_stack {
        if stack == NO_PARENT {
            continue;
        }
        seen.clear();
        for (depth, frame) in p.stack_frames(stack).enumerate() {
            let f = p.frames[frame as usize];
            let key = match kind {
                Kind::Functions => (f.func, 0),
                Kind::Lines => (f.func, f.line),
            };
            let e = totals.entry(key).or_default();
            if depth == 0 {
                e.1 += count;
            }
            // Recursion: a function counts once per sample in its total.
            if !seen.contains(&key) {
                seen.push(key);
                e.0 += count;
            }
        }
    }
    let mut rows: Vec<Hot> = totals
        .into_iter()
        .map(|((func, line), (total, self_))| {
            let f = p.functions[func as usize];
            let file = p.str(f.file).to_string();
            let qual = p.str(f.name);
            let (name, line) = match kind {
                Kind::Functions => (format!("{qual}  {}:{}", short(&file), f.first_line), f.first_line),
                Kind::Lines => (format!("{}:{line}  {qual}", short(&file)), line),
            };
            Hot { name, file, line, total: 100.0 * total as f64 / n as f64, self_: 100.0 * self_ as f64 / n as f64 }
        })
        .collect();
    rows.sort_by(|a, b| {
        b.self_.total_cmp(&a.self_).then(b.total.total_cmp(&a.total)).then_with(|| a.name.cmp(&b.name))
    });
    rows.truncate(limit);
    rows
}

/// The file's last two path components: enough to recognise it in a narrow panel.
fn short(file: &str) -> &str {
    let mut idx = file.rmatch_indices('/').map(|(i, _)| i);
    match (idx.next(), idx.next()) {
        (Some(_), Some(i)) => &file[i + 1..],
        _ => file,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Meta;

    fn profile() -> Profile {
        let mut p = Profile::new(Meta::default());
        let main = p.intern_function("/src/app/main.py", "main", 1);
        let work = p.intern_function("/src/app/main.py", "work", 10);
        let m3 = p.intern_frame(main, 3);
        let m4 = p.intern_frame(main, 4);
        let w12 = p.intern_frame(work, 12);
        let w13 = p.intern_frame(work, 13);
        let t = p.thread(1, 1, Some("MainThread"));
        let a = p.intern_stack_path(&[m3, w12]).unwrap();
        let b = p.intern_stack_path(&[m3, w13]).unwrap();
        let c = p.intern_stack_path(&[m4]).unwrap();
        // recursion: work calls work
        let d = p.intern_stack_path(&[m3, w13, w12]).unwrap();
        for (i, s) in [a, a, a, b, c, d, a, b].iter().enumerate() {
            p.push_sample(i as u64, t, *s, 1);
        }
        p
    }

    #[test]
    fn functions_total_and_self() {
        let rows = hottest(&profile(), Kind::Functions, 10);
        assert_eq!(rows.len(), 2);
        assert!(rows[0].name.starts_with("work  app/main.py:10"), "{rows:?}");
        // work: in 7 of 8 samples (counted once in the recursive one), innermost in 7.
        assert_eq!((rows[0].total, rows[0].self_), (87.5, 87.5));
        assert_eq!((rows[1].total, rows[1].self_), (100.0, 12.5));
    }

    #[test]
    fn lines_total_and_self() {
        let rows = hottest(&profile(), Kind::Lines, 2);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].name, "app/main.py:12  work");
        assert_eq!((rows[0].total, rows[0].self_), (62.5, 62.5));
        assert_eq!(rows[1].name, "app/main.py:13  work");
        assert_eq!((rows[1].total, rows[1].self_), (37.5, 25.0));
    }

    #[test]
    fn empty_profile_has_no_rows() {
        assert!(hottest(&Profile::default(), Kind::Lines, 5).is_empty());
    }
}
