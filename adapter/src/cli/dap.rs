//! `ember dap [--port N] [--log FILE]`: the Debug Adapter Protocol server an editor starts.
use crate::dap::{log::Log, server};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(clap::Args)]
pub struct Args {
    /// Serve TCP on 127.0.0.1:PORT (one session per connection) instead of stdio; 0 picks a
    /// free port and prints it.
    #[arg(long)]
    pub port: Option<u16>,
    /// Write every message and error to FILE (stdout carries nothing but the protocol).
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let log = match &args.log {
        Some(p) => Log::to_file(p).map_err(|e| anyhow::anyhow!("cannot open the log file {}: {e}", p.display()))?,
        None => Log::none(),
    };
    log.line("--", &format!("ember dap {} started (pid {})", env!("CARGO_PKG_VERSION"), std::process::id()));
    let rt = tokio::runtime::Runtime::new()?;
    let result = rt.block_on(async {
        match args.port {
            None => server::serve_stdio(log.clone()).await,
            Some(port) => {
                server::serve_tcp(port, log.clone(), |p| {
                    let mut out = std::io::stdout();
                    let _ = writeln!(out, "Ember DAP server listening on 127.0.0.1:{p}");
                    let _ = out.flush();
                })
                .await
            }
        }
    });
    // The blocking stdin reader never returns on its own: do not wait for it.
    rt.shutdown_timeout(Duration::from_millis(200));
    log.line("--", "ember dap exiting");
    result.map_err(|e| {
        log.error(&e.to_string());
        anyhow::anyhow!("ember dap: {e}")
    })?;
    Ok(ExitCode::SUCCESS)
}
