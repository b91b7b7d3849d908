//! `ember dump PID`: every thread's current Python stack, innermost last like a traceback.

use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The process to read.
    pub pid: u32,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let threads = ember_sampler::dump(args.pid)?;
    print!("{}", format_dump(args.pid, &threads));
    Ok(ExitCode::SUCCESS)
}

pub fn format_dump(pid: u32, threads: &[ember_sampler::ThreadStack]) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(s, "Process {pid}: {}", ember_sampler_cmdline(pid));
    for t in threads {
        let status = if t.running { "running" } else { "idle" };
        let gil = if t.gil { ", holds the GIL" } else { "" };
        let name = if t.name.is_empty() { String::new() } else { format!(" \"{}\"", t.name) };
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
