//! Turns a file's timings into what the editor shows: inlay hints, code lenses, hovers and
//! diagnostics. Lines are mapped through the open document so edits move or drop them.

use super::document::Document;
use super::settings::{Metric, Settings, Units};
use crate::profile::query::{CallStacks, FileStats, FuncStat, LineStat, View};
use crate::profile::Profile;
use lsp_types::{
    CodeLens, Command, Diagnostic, DiagnosticSeverity, InlayHint, InlayHintLabel, InlayHintTooltip, Position, Range,
};
use serde_json::json;

/// What every rendering needs: the timings of one file and how to show them.
pub struct Ctx<'a> {
    pub view: &'a View,
    pub file: &'a FileStats,
    pub settings: &'a Settings,
    pub sample_seconds: f64,
    /// The file changed on disk since the recording: lines may not match.
    pub stale: bool,
}

pub const STALE_NOTE: &str = "this file changed on disk after the profile was recorded; timings may be on the wrong lines";

impl Ctx<'_> {
    fn share(&self, samples: u64) -> f64 {
        if self.view.samples == 0 { 0.0 } else { 100.0 * samples as f64 / self.view.samples as f64 }
    }

    fn shown(&self, l: &LineStat) -> u64 {
        match self.settings.metric {
            Metric::Total => l.total,
            Metric::Self_ => l.self_,
        }
    }

    fn visible(&self, samples: u64) -> bool {
        samples > 0 && self.share(samples) >= self.settings.threshold
    }

    /// `12.4% 1.24s` in the configured units.
    pub fn amount(&self, samples: u64) -> String {
        let pct = format_pct(self.share(samples));
        let secs = samples as f64 * self.sample_seconds;
        match self.settings.units {
            Units::Percent => pct,
            Units::Samples => format!("{pct} {samples} samples"),
            Units::Seconds => format!("{pct} {secs:.2}s"),
            Units::Milliseconds => format!("{pct} {:.0}ms", secs * 1e3),
            Units::Auto => format!("{pct} {}", format_seconds(secs)),
        }
    }

    fn line_tooltip(&self, l: &LineStat) -> String {
        let mut s = format!(
            "ember: total {} · self {} · {} samples{}",
            self.amount(l.total),
            self.amount(l.self_),
            l.total,
            focus_note(self.view)
        );
        if self.stale {
            s.push_str("\n⚠ ");
            s.push_str(STALE_NOTE);
        }
        s
    }

    /// A hint at the end of each sampled line in `range` (0-based, inclusive lines).
    pub fn inlay_hints(&self, doc: &Document, range: Range) -> Vec<InlayHint> {
        let last = range.end.line.min(doc.line_count().saturating_sub(1));
        let mut hints = Vec::new();
        for cur in range.start.line..=last {
            let Some(orig) = doc.original_line(cur) else { continue };
            let Some(l) = self.file.line(orig) else { continue };
            let n = self.shown(l);
            if !self.visible(n) {
                continue;
            }
            hints.push(InlayHint {
                position: Position::new(cur, doc.line_len_utf16(cur)),
                label: InlayHintLabel::String(self.amount(n)),
                kind: None,
                text_edits: None,
                tooltip: Some(InlayHintTooltip::String(self.line_tooltip(l))),
                padding_left: Some(true),
                padding_right: None,
                data: None,
            });
        }
        hints
    }

    pub fn lens_title(&self, f: &FuncStat) -> String {
        let callers = match f.callers {
            1 => "1 caller".to_string(),
            n => format!("{n} callers"),
        };
        let mut t = format!("{} total · {} self · {callers}", format_pct(self.share(f.total)), format_pct(self.share(f.self_)));
        if self.stale {
            t.push_str(" · file changed since recording");
        }
        t
    }

    /// A lens above each sampled function whose definition line is unedited.
    pub fn code_lenses(&self, doc: &Document) -> Vec<CodeLens> {
        let mut lenses = Vec::new();
        for f in &self.file.functions {
            if !self.visible(f.total) {
                continue;
            }
            let Some(line) = doc.current_line(f.first_line) else { continue };
            let args = json!({ "function": f.func, "name": f.name, "file": self.file.path, "line": f.first_line });
            lenses.push(CodeLens {
                range: Range::new(Position::new(line, 0), Position::new(line, 0)),
                command: Some(Command {
                    title: self.lens_title(f),
                    command: "ember.openFlamegraph".into(),
                    arguments: Some(vec![args]),
                }),
                data: None,
            });
        }
        lenses
    }

    /// Hint-severity diagnostics on the hottest lines (by the configured metric).
    pub fn diagnostics(&self, doc: &Document) -> Vec<Diagnostic> {
        let mut lines: Vec<&LineStat> = self.file.lines.iter().filter(|l| self.visible(self.shown(l))).collect();
        lines.sort_by_key(|l| std::cmp::Reverse(self.shown(l)));
        lines
            .into_iter()
            .filter_map(|l| {
                let cur = doc.current_line(l.line)?;
                Some(Diagnostic {
                    range: Range::new(Position::new(cur, 0), Position::new(cur, doc.line_len_utf16(cur))),
                    severity: Some(DiagnosticSeverity::HINT),
                    source: Some("ember".into()),
                    message: format!("hot line: {}", self.amount(self.shown(l))),
                    ..Default::default()
                })
            })
            .take(self.settings.diagnostics_count)
            .collect()
    }

    /// Markdown for a hover on a line (and on the function defined there, if any).
    pub fn hover(&self, p: &Profile, line: Option<(&LineStat, CallStacks)>, func: Option<(&FuncStat, CallStacks)>) -> String {
        let mut md = String::new();
        if let Some((f, stacks)) = func {
            md.push_str(&format!(
                "**ember** · `{}`: total {} · self {} · {} samples{}\n\n",
                f.name,
                self.amount(f.total),
                self.amount(f.self_),
                f.total,
                focus_note(self.view)
            ));
            md.push_str(&self.stacks_md(p, &stacks, f.total, "Top call stacks into this function"));
        }
        if let Some((l, stacks)) = line {
            if !md.is_empty() {
                md.push_str("\n---\n\n");
            }
            md.push_str(&format!(
                "**ember** · line {}: total {} · self {} · {} samples{}\n\n",
                l.line,
                self.amount(l.total),
                self.amount(l.self_),
                l.total,
                focus_note(self.view)
            ));
            md.push_str(&self.stacks_md(p, &stacks, l.total, "Top call stacks into this line"));
        }
        if self.stale {
            md.push_str(&format!("\n⚠ {STALE_NOTE}\n"));
        }
        md
    }

    fn stacks_md(&self, p: &Profile, stacks: &CallStacks, of: u64, title: &str) -> String {
        let mut md = format!("{title}:\n\n");
        for (i, s) in stacks.top.iter().enumerate() {
            let share = if of == 0 { 0.0 } else { 100.0 * s.samples as f64 / of as f64 };
            md.push_str(&format!("{}. {} — `{}`\n", i + 1, format_pct(share), describe_stack(p, &s.frames)));
        }
        if stacks.others > 0 {
            let share = if of == 0 { 0.0 } else { 100.0 * stacks.others_samples as f64 / of as f64 };
            let noun = if stacks.others == 1 { "other stack" } else { "other stacks" };
            md.push_str(&format!("\n…and {} {noun} ({})\n", stacks.others, format_pct(share)));
        }
        md
    }
}

/// `main → work → inner (util.py:20)`, keeping the innermost frames of deep stacks.
fn describe_stack(p: &Profile, frames: &[u32]) -> String {
    const KEEP: usize = 6;
    let name = |f: u32| {
        let fr = p.frames[f as usize];
        p.str(p.functions[fr.func as usize].name).to_string()
    };
    let mut parts: Vec<String> = Vec::new();
    if frames.len() > KEEP {
        parts.push("…".into());
    }
    parts.extend(frames[frames.len().saturating_sub(KEEP)..].iter().map(|&f| name(f)));
    let mut s = parts.join(" → ");
    if let Some(&last) = frames.last() {
        let fr = p.frames[last as usize];
        let file = p.str(p.functions[fr.func as usize].file);
        let short = file.rsplit(['/', '\\']).next().unwrap_or(file);
        s.push_str(&format!(" ({short}:{})", fr.line));
    }
    s
}

fn focus_note(view: &View) -> &'static str {
    if view.focus.is_some() { " (in the flamegraph's focus)" } else { "" }
}

pub fn format_pct(p: f64) -> String {
    if p >= 10.0 || p == 0.0 { format!("{p:.1}%") } else { format!("{p:.2}%") }
}

pub fn format_seconds(s: f64) -> String {
    if s >= 10.0 {
        format!("{s:.1}s")
    } else if s >= 1.0 {
        format!("{s:.2}s")
    } else if s >= 0.001 {
        format!("{:.0}ms", s * 1e3)
    } else {
        format!("{:.2}ms", s * 1e3)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_shares_and_times() {
        assert_eq!(format_pct(12.4), "12.4%");
        assert_eq!(format_pct(3.14659), "3.15%");
        assert_eq!(format_seconds(1.24), "1.24s");
        assert_eq!(format_seconds(12.44), "12.4s");
        assert_eq!(format_seconds(0.124), "124ms");
    }
}
