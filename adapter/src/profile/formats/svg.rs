//! SVG flamegraphs through inferno, and differential flamegraphs of two profiles.

use super::collapsed;
use crate::profile::model::Profile;
use std::io::Write;

fn options(title: String) -> inferno::flamegraph::Options<'static> {
    let mut opt = inferno::flamegraph::Options::default();
    opt.title = title;
    opt.count_name = "samples".into();
    opt.colors = inferno::flamegraph::Palette::Basic(inferno::flamegraph::color::BasicPalette::Hot);
    opt
}

fn title(p: &Profile, what: &str) -> String {
    if p.meta.command_line.is_empty() { what.to_string() } else { format!("{what}: {}", p.meta.command_line.join(" ")) }
}

/// A flamegraph of `p` (Ember's collapsed stacks, so one tower per thread when there are several).
pub fn write<W: Write>(p: &Profile, w: W) -> anyhow::Result<()> {
    let lines = collapsed::lines(p);
    if lines.is_empty() {
        anyhow::bail!("the profile has no samples to draw");
    }
    let mut opt = options(title(p, "Ember flamegraph"));
    inferno::flamegraph::from_lines(&mut opt, lines.iter().map(String::as_str), w)?;
    Ok(())
}

/// A differential flamegraph: widths from `new`, red where a stack takes a larger share than in
/// `base`, blue where smaller. `base` is scaled to `new`'s total samples first. Threads are
/// left out so the same code in different runs lines up.
pub fn write_diff<W: Write>(base: &Profile, new: &Profile, w: W) -> anyhow::Result<()> {
    let a = collapsed::lines_without_context(base).join("\n");
    let b = collapsed::lines_without_context(new).join("\n");
    if b.is_empty() {
        anyhow::bail!("the NEW profile has no samples to draw");
    }
    let mut folded = Vec::new();
    let opts = inferno::differential::Options { normalize: true, strip_hex: false };
    inferno::differential::from_readers(opts, a.as_bytes(), b.as_bytes(), &mut folded)?;
    let mut opt = options(title(new, "Ember differential flamegraph"));
    opt.subtitle = Some("red: larger share than in BASE, blue: smaller; BASE normalised to NEW's total samples".into());
    inferno::flamegraph::from_reader(&mut opt, &folded[..], w)?;
    Ok(())
}
