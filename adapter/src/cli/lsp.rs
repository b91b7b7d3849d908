//! `ember lsp`: the language server on stdin/stdout, started by an editor.
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Accepted for editors that pass it; stdio is the only transport.
    #[arg(long)]
    pub stdio: bool,
    /// Port of the flamegraph page on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    rt.block_on(crate::lsp::serve_stdio(args.port))?;
    Ok(ExitCode::SUCCESS)
}
