//! `ember diff BASE NEW -o OUT.svg`: a differential flamegraph (inferno) of two profiles in any
//! supported format. Widths come from NEW; red where a stack's share of samples grew, blue
//! where it shrank; BASE is normalised to NEW's total.

use crate::profile::formats::{self, svg};
use anyhow::{bail, Context};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The baseline profile (any format `ember convert` reads).
    pub base: PathBuf,
    /// The profile to compare with the baseline.
    pub new: PathBuf,
    /// The SVG to write.
    #[arg(short, long)]
    pub output: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if !args.output.to_string_lossy().to_ascii_lowercase().ends_with(".svg") {
        bail!("`ember diff` writes an SVG: give an output path ending in .svg (got {})", args.output.display());
    }
    let base = formats::read(&args.base)?;
    let new = formats::read(&args.new)?;
    if new.samples.is_empty() {
        bail!("{} has no samples to compare", args.new.display());
    }
    let dir = crate::profile::file::folder(&args.output);
    let fail = || format!("cannot write {}", args.output.display());
    let tmp = tempfile::Builder::new().prefix(".ember-").suffix(".tmp").tempfile_in(dir).with_context(fail)?;
    {
        let mut w = std::io::BufWriter::new(tmp.as_file());
        svg::write_diff(&base, &new, &mut w).with_context(fail)?;
        std::io::Write::flush(&mut w).with_context(fail)?;
    }
    tmp.persist(&args.output).map_err(|e| e.error).with_context(fail)?;
    eprintln!(
        "ember: wrote the differential flamegraph of {} ({} samples) against {} ({} samples) to {}",
        args.new.display(),
        new.samples.len(),
        args.base.display(),
        base.samples.len(),
        args.output.display()
    );
    Ok(ExitCode::SUCCESS)
}
