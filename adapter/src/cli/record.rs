//! `ember record`: sample a program or a running process and write the profile.
//!
//! Flags follow py-spy's where users know them (`--rate`, `--duration`, `--subprocesses`,
//! `--idle`, `--gil`, `--pid`, `-o`, `--format`). Ctrl-C (or SIGTERM/SIGHUP) ends the
//! recording and still writes the file; a target that exits mid-recording is not an error.
//! A program Ember started and that ended by itself gives Ember its exit status.

use crate::debuggee::{why_empty, Empty};
use crate::live::{Progress, Recording};
use crate::profile::formats::{self, Format};
use crate::profile::file::folder;
use crate::profile::journal::{self, Journal};
use crate::profile::{Meta, Profile};
use anyhow::Context;
use ember_sampler::{Config, Rate, Target};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(clap::Args)]
pub struct Args {
    /// Samples per second per thread, or `max` to sample as fast as possible.
    #[arg(short, long, default_value = "1000", value_parser = Rate::parse)]
    pub rate: Rate,
    /// Stop after this many seconds (default: until the program exits or Ctrl-C).
    #[arg(short, long, value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Also profile child Python processes (multiprocessing, subprocess).
    #[arg(short, long)]
    pub subprocesses: bool,
    /// Keep samples of idle threads (waiting on I/O, locks, sleep).
    #[arg(short, long)]
    pub idle: bool,
    /// Only keep samples of the thread holding the GIL.
    #[arg(short, long)]
    pub gil: bool,
    /// Pause the target's threads while reading each sample (ptrace), as py-spy does by
    /// default: exact stacks however fast they change, but the target runs slower. Use it when
    /// most samples are dropped as torn (CPython ≤3.10 with very short calls).
    #[arg(long)]
    pub blocking: bool,
    /// Read without pausing the target: Ember's default, accepted so py-spy's flag works.
    #[arg(long, conflicts_with = "blocking")]
    pub nonblocking: bool,
    /// Where to write the profile (default: ember-<UTC time>.<format extension>); `-` for
    /// standard output (with --format collapsed, say, to pipe it into another tool).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Output format (default: from -o's extension, else ember, which keeps everything).
    #[arg(short, long)]
    pub format: Option<Format>,
    /// Serve the live flamegraph on 127.0.0.1 while recording (and after, until Ctrl-C).
    #[arg(long)]
    pub serve: bool,
    /// Like --serve, and open it in the browser.
    #[arg(long)]
    pub open: bool,
    /// Port for --serve (default: a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Attach to this running process instead of starting one.
    #[arg(short, long, conflicts_with = "command")]
    pub pid: Option<u32>,
    /// The program to run, with its arguments (after `--`), passed on byte for byte (file
    /// names need not be UTF-8).
    #[arg(last = true, required_unless_present = "pid")]
    pub command: Vec<std::ffi::OsString>,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let secs = s.trim().parse::<f64>().map_err(|_| format!("`{s}` is not a number of seconds (e.g. 30)"))?;
    ember_sampler::duration_from_secs(secs)
}

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
/// The start's `Config::cancel`: Ctrl-C while Ember still waits for the interpreter.
static CANCEL_START: std::sync::OnceLock<std::sync::Arc<AtomicBool>> = std::sync::OnceLock::new();

extern "C" fn on_signal(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
    if let Some(c) = CANCEL_START.get() {
        c.store(true, Ordering::SeqCst);
    }
}

fn install_signal_handlers() {
    use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
    let action = SigAction::new(SigHandler::Handler(on_signal), SaFlags::SA_RESTART, SigSet::empty());
    for sig in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        // SAFETY: the handler only stores to an atomic.
        unsafe {
            let _ = sigaction(sig, &action);
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let format = args.format.or_else(|| args.output.as_deref().and_then(Format::from_path)).unwrap_or(Format::Ember);
    let output = args.output.clone().unwrap_or_else(|| default_output(format));
    formats::check_stream(format, &output)?;
    // Output to a stream (`-o -`, /dev/stdout, a pipe): the journal goes where a file would.
    let stream = formats::is_stream(&output);
    let journal_at = if stream { default_output(Format::Ember) } else { output.clone() };
    recover_beside(&journal_at);
    let journal = start_journal(&journal_at, !stream)?;

    let mut spawned = None;
    // Held to the end: dropping it ends the program if it still runs.
    let mut _watchdog = None;
    let (target, command_line) = match args.pid {
        Some(pid) => (Target::Pid(pid), std::fs::read(format!("/proc/{pid}/cmdline"))
            .map(|b| b.split(|&c| c == 0).filter(|s| !s.is_empty()).map(|s| String::from_utf8_lossy(s).into_owned()).collect())
            .unwrap_or_default()),
        None => {
            let mut cmd = std::process::Command::new(&args.command[0]);
            ember_sampler::default_signals(cmd.args(&args.command[1..]));
            if formats::is_own_stdout(&output) {
                // The profile goes to standard output: the program's output goes to standard
                // error instead of into the profile.
                cmd.stdout(std::io::stderr());
            }
            let (child, dog) = crate::watchdog::spawn_watched(&mut cmd)
                .with_context(|| format!("could not start `{}` (is it installed and on PATH?)", args.command[0].to_string_lossy()))?;
            spawned = Some(child.id());
            _watchdog = dog;
            (Target::Child(child), args.command.iter().map(|a| a.to_string_lossy().into_owned()).collect())
        }
    };
    let config = Config {
        rate: args.rate,
        duration: args.duration,
        subprocesses: args.subprocesses,
        idle: args.idle,
        gil: args.gil,
        blocking: args.blocking,
        ..Config::default()
    };
    let meta = Meta {
        source: "ember".into(),
        start_unix_ms: SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64),
        rate_hz: match args.rate { Rate::Hz(h) => Some(h), Rate::Max => None },
        command_line,
        timed: true,
        ..Meta::default()
    };
    let _ = CANCEL_START.set(config.cancel.clone());
    install_signal_handlers();
    let recording = Recording::start(target, config, meta, journal).map_err(|e| match spawned {
        // The sampler stops a program it was given to start but cannot profile.
        Some(p) if !matches!(e, ember_sampler::Error::ExitedEarly { .. }) => anyhow::anyhow!("{e} (the program, PID {p}, was stopped)"),
        _ => e.into(),
    })?;
    let pid = recording.pid;
    let serve = args.serve || args.open;
    let runtime = if serve { Some(tokio::runtime::Runtime::new()?) } else { None };
    let server = match &runtime {
        Some(rt) => Some(rt.block_on(crate::web::WebServer::start(crate::web::WebOptions { port: args.port }, recording.shared.clone()))?),
        None => None,
    };
    if let Some(s) = &server {
        eprintln!("ember: flamegraph at {}", s.url);
        if args.open {
            crate::web::open_browser(&s.url);
        }
    }

    let live = std::io::stderr().is_terminal();
    let mut updates = recording.shared.updates.clone();
    let mut interrupted = false;
    let mut warned = 0;
    loop {
        std::thread::sleep(Duration::from_millis(100));
        let p = updates.borrow_and_update().clone();
        for w in &p.warnings[warned..] {
            eprintln!("{}ember: warning: {w}", if live { "\r\x1b[K" } else { "" });
        }
        warned = p.warnings.len();
        if live {
            eprint!("\r\x1b[K{}", status_line(&p));
            let _ = std::io::stderr().flush();
        }
        if p.finished {
            break;
        }
        if INTERRUPTED.load(Ordering::SeqCst) && !interrupted {
            interrupted = true;
            recording.stop();
            // Like Ctrl-C in a terminal: the program we started is interrupted too.
            if let Some(pid) = spawned {
                let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), nix::sys::signal::Signal::SIGINT);
            }
        }
    }
    if live {
        eprint!("\r\x1b[K");
    }
    let (shared, journal) = recording.wait();
    let progress = shared.updates.borrow().clone();
    let profile = shared.profile.read().unwrap();
    if profile.processes.is_empty() {
        // Only with --subprocesses under a program that is not Python: nothing ran to record
        // (and the journal, empty, goes with its drop).
        drop(journal);
        anyhow::bail!(
            "PID {pid} ({}) is not Python, and no Python process ran under it while it was recorded; nothing was written",
            profile.meta.command_line.join(" ")
        );
    }
    if profile.samples.is_empty() && format == Format::Svg {
        // Nothing to draw, nothing worth keeping (the empty journal goes with its drop): say
        // why it is empty rather than fail on the drawing.
        drop(journal);
        let why = empty_hint(pid, why_empty(pid, 0, args.idle, args.gil)).map(|h| format!("\n{h}")).unwrap_or_default();
        anyhow::bail!("no samples were recorded, so no flamegraph was written to {}{why}", output.display());
    }
    if let Err(e) = write_output(&output, format, &profile) {
        return Err(match &journal {
            Some(j) if j.path().exists() => {
                let kept = j.path().display();
                e.context(format!("the recording is kept in {kept}: `ember convert {kept} -o FILE` writes it elsewhere"))
            }
            _ => e,
        });
    }
    if let Some(j) = journal {
        j.discard();
    }
    // The sampler ends on its own only when the duration is over or the target is gone.
    let duration_reached = args.duration.is_some() && std::path::Path::new(&format!("/proc/{pid}")).exists();
    eprintln!("{}", summary(pid, &profile, &progress, &output, interrupted, duration_reached));
    // A program we started is not left running on its own once its recording is over (as
    // py-spy does; a server started for a 10 s profile would otherwise outlive the terminal
    // session unseen). Asked to stop as Ctrl-C would, then more firmly.
    if let Some(child) = spawned.filter(|&c| duration_reached && crate::debuggee::alive(c)) {
        eprintln!("ember: stopping the program it started (PID {child})");
        // With the processes it started: they share our process group, so not by group.
        tokio::runtime::Builder::new_current_thread().enable_time().build()?.block_on(crate::debuggee::terminate_family(child));
    }
    if let Some(hint) = torn_hint(profile.meta.dropped.torn, profile.samples.len() as u64, args.blocking) {
        eprintln!("{hint}");
    }
    if let Some(hint) = empty_hint(pid, why_empty(pid, profile.samples.len(), args.idle, args.gil)) {
        eprintln!("{hint}");
    }
    drop(profile);
    // A program Ember started that ended by itself passes its status on, as `time` and
    // `coverage run` do: py-spy's 0 hides a failed job (benfred/py-spy#717). A recording Ember
    // ended (duration, Ctrl-C) or of an attached process exits 0 once written.
    let status = match (spawned, interrupted || duration_reached) {
        (Some(_), false) => progress.exit_code.or(progress.exit_signal.map(|s| 128 + s)).unwrap_or(0),
        _ => 0,
    };
    if let (Some(rt), Some(server)) = (runtime, server) {
        eprintln!("ember: still serving {} — press Ctrl-C to stop", server.url);
        INTERRUPTED.store(false, Ordering::SeqCst);
        while !INTERRUPTED.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(100));
        }
        drop(server);
        drop(rt);
    }
    Ok(ExitCode::from(status.clamp(0, 255) as u8))
}

/// Profiles of recordings a killed Ember left as journals beside `output` are saved (never
/// onto `output` itself, which this run will write).
fn recover_beside(output: &Path) {
    for r in journal::recover(folder(output), &[output.to_path_buf()]) {
        match r {
            Ok(journal::Recovered { saved: Some(path), samples, torn_tail, .. }) => eprintln!(
                "ember: an earlier recording was interrupted (Ember was killed); its {samples} samples{} are saved in {}",
                if torn_tail { " (all but the last second)" } else { "" },
                path.display()
            ),
            Ok(_) => {}
            Err(e) => eprintln!("ember: warning: {e}"),
        }
    }
}

/// The journal that keeps the recording if Ember is killed. When the profile goes `beside` it,
/// a folder that cannot be written is an error now rather than after the recording.
fn start_journal(output: &Path, beside: bool) -> anyhow::Result<Option<Journal>> {
    use std::io::ErrorKind::*;
    match Journal::create(output) {
        Ok(j) => Ok(Some(j)),
        Err(e) if beside && matches!(e.kind(), NotFound | PermissionDenied | ReadOnlyFilesystem) => {
            anyhow::bail!("cannot write the profile to {} ({e} in {}): choose another -o", output.display(), folder(output).display())
        }
        Err(e) => {
            eprintln!("ember: warning: no journal beside {} ({e}): if Ember is killed, this recording is lost", output.display());
            Ok(None)
        }
    }
}

fn default_output(format: Format) -> PathBuf {
    PathBuf::from(format!("ember-{}.{}", crate::profile::store::utc_stamp(SystemTime::now()), format.extension()))
}

fn write_output(path: &Path, format: Format, p: &Profile) -> anyhow::Result<()> {
    formats::write(format, p, path).with_context(|| format!("writing {}", path.display()))
}

fn status_line(p: &Progress) -> String {
    format!(
        "ember: {:.1}s · {} samples · {:.0}/s · dropped {}",
        p.elapsed.as_secs_f64(),
        p.samples,
        p.rate,
        p.torn + p.overflow
    )
}

/// Advice when most reads were dropped: the stacks changed faster than they could be read
/// whole without pausing the target (CPython ≤3.10 with very short calls).
fn torn_hint(torn: u64, kept: u64, blocking: bool) -> Option<String> {
    (!blocking && torn > kept).then(|| {
        format!(
            "ember: most reads were dropped ({torn} torn, {kept} kept): the program's stacks changed faster than \
             they can be read consistently without pausing it. Record again with --blocking to pause it for \
             each sample (exact, but the program runs slower)"
        )
    })
}

/// Why a recording has no samples, in the CLI's words.
fn empty_hint(pid: u32, why: Option<Empty>) -> Option<String> {
    Some(match why? {
        Empty::Stopped => format!("ember: no samples: PID {pid} is stopped (SIGSTOP, Ctrl-Z or a debugger), so its threads never ran. Resume it (`kill -CONT {pid}`), or add --idle to record where it stands"),
        Empty::GilOnly => "ember: no samples: no thread held the GIL while running Python. Record again without --gil".into(),
        Empty::AllIdle => "ember: no samples: every thread was idle (sleeping, waiting on I/O or a lock) the whole time. Add --idle to record idle threads too".into(),
    })
}

fn summary(pid: u32, p: &Profile, progress: &Progress, out: &Path, interrupted: bool, duration_reached: bool) -> String {
    let secs = progress.elapsed.as_secs_f64().max(1e-9);
    let n = p.samples.len();
    let threads = p.threads.len();
    let procs = p.processes.len().max(1);
    let ended = if interrupted {
        "stopped by signal; the recording so far is saved".to_string()
    } else if let Some(code) = progress.exit_code {
        format!("target exited with code {code}")
    } else if let Some(sig) = progress.exit_signal {
        format!("target killed by signal {sig}")
    } else if duration_reached {
        "duration reached".to_string()
    } else {
        "target exited".to_string()
    };
    format!(
        "ember: {n} samples in {secs:.2}s ({:.0}/s) from {threads} thread(s) in {procs} process(es), PID {pid}; {ended}; dropped: {} torn, {} overflow; wrote {}",
        n as f64 / secs,
        p.meta.dropped.torn,
        p.meta.dropped.overflow,
        formats::stream_name(out)
    )
}

#[cfg(test)]
mod tests {
    use super::{empty_hint, torn_hint, why_empty, Empty};

    #[test]
    fn an_empty_recording_says_why() {
        assert_eq!(empty_hint(7, None), None);
        assert!(empty_hint(7, Some(Empty::Stopped)).is_some_and(|h| h.contains("PID 7 is stopped") && h.contains("kill -CONT 7")));
        assert!(empty_hint(7, Some(Empty::GilOnly)).is_some_and(|h| h.contains("without --gil")));
        assert!(empty_hint(7, Some(Empty::AllIdle)).is_some_and(|h| h.contains("--idle")));
        let me = std::process::id();
        assert_eq!(why_empty(me, 3, false, false), None);
        assert_eq!(why_empty(me, 0, false, true), Some(Empty::GilOnly));
        assert_eq!(why_empty(me, 0, false, false), Some(Empty::AllIdle));
        assert_eq!(why_empty(me, 0, true, false), None, "idle threads were kept: nothing ran at all");
    }

    #[test]
    fn the_torn_hint_names_blocking_when_most_reads_were_dropped() {
        assert!(torn_hint(101, 100, false).is_some_and(|h| h.contains("101 torn, 100 kept") && h.contains("--blocking")));
        assert_eq!(torn_hint(100, 100, false), None);
        assert_eq!(torn_hint(500, 10, true), None, "already blocking");
    }
}
