//! `ember dump PID`: every thread's current Python stack, innermost last like a traceback.

use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The process to read.
    pub pid: u32,
    /// Pause the process's threads while reading them (ptrace), as py-spy does by default:
    /// needed when a stack changes too fast to be read whole (CPython ≤3.10, very short calls).
    #[arg(long)]
    pub blocking: bool,
    /// Read without pausing: the default, accepted so py-spy's flag works.
    #[arg(long, conflicts_with = "blocking")]
    pub nonblocking: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let threads = ember_sampler::dump(args.pid, args.blocking)?;
    print!("{}", format_dump(args.pid, &threads));
    Ok(ExitCode::SUCCESS)
}

pub fn format_dump(pid: u32, threads: &[ember_sampler::ThreadStack]) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(s, "Process {pid}: {}", ember_sampler_cmdline(pid));
    for t in threads {
        let name = if t.name.is_empty() { String::new() } else { format!(" \"{}\"", t.name) };
        if !t.read {
            let _ = writeln!(s, "\nThread {}{name}", t.tid);
            let _ = writeln!(s, "  (stack not read: it changed during every try; `ember dump --blocking {pid}` pauses the process to read it)");
            continue;
        }
        let status = if t.running { "running" } else { "idle" };
        let gil = if t.gil { ", holds the GIL" } else { "" };
        let _ = writeln!(s, "\nThread {}{name} ({status}{gil})", t.tid);
        if t.frames.is_empty() {
            let _ = writeln!(s, "  (no Python frames)");
        }
        for f in &t.frames {
            let _ = writeln!(s, "  File \"{}\", line {}, in {}", f.file, f.line, f.qualname);
        }
    }
    s
}

fn ember_sampler_cmdline(pid: u32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| String::from_utf8_lossy(&b).replace('\0', " ").trim_end().to_string())
        .unwrap_or_default()
}
