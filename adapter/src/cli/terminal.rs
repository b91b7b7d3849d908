//! `ember run-in-terminal` (hidden): what the DAP server asks an editor's terminal to run for
//! `console: integratedTerminal`. It starts the program in the terminal's foreground (stdin,
//! Ctrl-C and all), tells the adapter the program's own PID, and, since the program is not
//! the adapter's child, reports its exit status through a file when it ends.

use nix::sys::signal::{signal, SigHandler, Signal};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

#[derive(clap::Args)]
pub struct Args {
    /// Written once the program runs: its PID, or "error: ..." if it could not start.
    #[arg(long)]
    pub pid_file: PathBuf,
    /// Written when the program ends: its exit code (128 + signal if a signal ended it).
    #[arg(long)]
    pub status_file: PathBuf,
    #[arg(trailing_var_arg = true, required = true, allow_hyphen_values = true)]
    pub command: Vec<std::ffi::OsString>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut child = match ember_sampler::default_signals(Command::new(&args.command[0]).args(&args.command[1..])).spawn() {
        Ok(c) => c,
        Err(e) => {
            let msg = format!("could not start {}: {e}", args.command[0].to_string_lossy());
            write_atomically(&args.pid_file, &format!("error: {msg}"))?;
            anyhow::bail!(msg);
        }
    };
    write_atomically(&args.pid_file, &child.id().to_string())?;
    // Ctrl-C in the terminal reaches the whole foreground group: the program handles it, and
    // this wrapper must outlive it to report its status. (Set after the spawn: an ignored
    // signal would be inherited.)
    // SAFETY: SigIgn installs no handler code.
    unsafe {
        let _ = signal(Signal::SIGINT, SigHandler::SigIgn);
        let _ = signal(Signal::SIGQUIT, SigHandler::SigIgn);
    }
    let status = child.wait()?;
    let code = status.code().or(status.signal().map(|s| 128 + s)).unwrap_or(1);
    write_atomically(&args.status_file, &code.to_string())?;
    Ok(ExitCode::from(code.clamp(0, 255) as u8))
}

/// The adapter polls these files: it must never read half a number.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}
