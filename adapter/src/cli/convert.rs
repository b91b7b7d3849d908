//! `ember convert IN -o OUT [--format F]`: reads any supported profile format (detected from
//! the content) and writes the chosen one (from --format, else from OUT's extension).

use crate::profile::formats::{self, Format};
use anyhow::bail;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The profile to read: .ember, collapsed stacks (Brendan Gregg, py-spy raw, CPython 3.15
    /// --collapsed), speedscope JSON, `perf script` text or Austin text.
    pub input: PathBuf,
    /// Where to write; `-` for standard output.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Output format; by default from the output's extension (.ember, .txt/.collapsed/.folded,
    /// .json, .svg, .pb.gz/.pprof).
    #[arg(short, long)]
    pub format: Option<Format>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let format = match args.format.or_else(|| Format::from_path(&args.output)) {
        Some(f) => f,
        None => bail!(
            "cannot tell the output format from {:?}; pass --format (one of: {}) or use an extension such as .ember, .txt, .json, .svg, .pb.gz",
            args.output.display().to_string(),
            formats::names()
        ),
    };
    let profile = formats::read(&args.input)?;
    formats::write(format, &profile, &args.output)?;
    eprintln!(
        "ember: wrote {} samples ({} thread{}) from {} to {} as {format}",
        profile.samples.len(),
        profile.threads.len(),
        if profile.threads.len() == 1 { "" } else { "s" },
        args.input.display(),
        formats::stream_name(&args.output)
    );
    Ok(ExitCode::SUCCESS)
}
