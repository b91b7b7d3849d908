//! `ember dump PID` (or `--pid PID`, py-spy's spelling): every thread's current Python stack,
//! innermost last like a traceback; `--json` for scripts.

use serde_json::json;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The process to read.
    #[arg(required_unless_present = "pid_flag", value_name = "PID")]
    pub pid: Option<u32>,
    /// The process to read, as py-spy spells it.
    #[arg(short = 'p', long = "pid", value_name = "PID", conflicts_with = "pid")]
    pub pid_flag: Option<u32>,
    /// Print JSON instead: the process, then each thread with its status and frames
    /// (innermost last).
    #[arg(short, long)]
    pub json: bool,
    /// Pause the process's threads while reading them (ptrace), as py-spy does by default:
    /// needed when a stack changes too fast to be read whole (CPython ≤3.10, very short calls).
    #[arg(long)]
    pub blocking: bool,
    /// Read without pausing: the default, accepted so py-spy's flag works.
    #[arg(long, conflicts_with = "blocking")]
    pub nonblocking: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let pid = args.pid.or(args.pid_flag).expect("clap requires one");
    let threads = ember_sampler::dump(pid, args.blocking)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&dump_json(pid, &threads))?);
    } else {
        print!("{}", format_dump(pid, &threads));
    }
    Ok(ExitCode::SUCCESS)
}

/// `--json`: a thread whose stack could not be read has `"read": false` and no frames.
pub fn dump_json(pid: u32, threads: &[ember_sampler::ThreadStack]) -> serde_json::Value {
    let threads: Vec<_> = threads
        .iter()
        .map(|t| {
            let frames: Vec<_> = t.frames.iter().map(|f| json!({"file": &*f.file, "name": &*f.qualname, "line": f.line, "firstLine": f.first_line})).collect();
            json!({"pid": t.pid, "tid": t.tid, "name": t.name, "read": t.read, "running": t.read && t.running, "gil": t.read && t.gil, "frames": frames})
        })
        .collect();
    json!({"pid": pid, "commandLine": ember_sampler_cmdline(pid), "threads": threads})
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
