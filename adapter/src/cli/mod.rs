//! The `ember` command line: one module per subcommand, each with its `Args` and `run`.

pub mod convert;
pub mod dap;
pub mod diff;
pub mod dump;
pub mod lsp;
pub mod record;
pub mod serve;
pub mod terminal;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "ember", version, about = "Profile Python from any editor: sampler, flamegraph, DAP and LSP server")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Record a profile of a Python program or a running process.
    Record(record::Args),
    /// Print every thread's current Python stack.
    Dump(dump::Args),
    /// Convert between profile formats.
    Convert(convert::Args),
    /// Compare two profiles (differential flamegraph).
    Diff(diff::Args),
    /// Serve profiles as an interactive flamegraph on 127.0.0.1.
    Serve(serve::Args),
    /// Run the Debug Adapter Protocol server (what an editor starts).
    Dap(dap::Args),
    /// Run the Language Server Protocol server (inline timings).
    Lsp(lsp::Args),
    /// Run a program in an editor's terminal for the DAP server, reporting its PID and exit
    /// status (what `console: integratedTerminal` asks the editor to run).
    #[command(hide = true)]
    RunInTerminal(terminal::Args),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Record(a) => record::run(a),
        Command::Dump(a) => dump::run(a),
        Command::Convert(a) => convert::run(a),
        Command::Diff(a) => diff::run(a),
        Command::Serve(a) => serve::run(a),
        Command::Dap(a) => dap::run(a),
        Command::Lsp(a) => lsp::run(a),
        Command::RunInTerminal(a) => terminal::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("ember: error: {e:#}");
            ExitCode::from(1)
        }
    }
}
