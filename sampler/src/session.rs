//! A sampling session: attach to a PID or own a spawned child, sample until stopped.

use crate::error::Error;
use crate::event::{Batch, Event};
use crate::frames::FrameTable;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::Arc;
use std::time::Duration;

/// What to sample.
pub enum Target {
    /// A running process. If its interpreter is still starting, the session waits for it.
    Pid(u32),
    /// A child the caller spawned (stdio set up as it likes); the session reaps it and reports
    /// its exit status in [`Event::ProcessExited`].
    Child(std::process::Child),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rate {
    /// Samples per second, within [`Rate::MIN_HZ`]..=[`Rate::MAX_HZ`] (see [`Rate::hz`]).
    Hz(f64),
    /// As fast as the sampler can go while resting half the time (docs/architecture.md).
    Max,
}

impl Rate {
    /// Below one a second, a stop would wait out a whole period; nobody profiles that slowly.
    pub const MIN_HZ: f64 = 1.0;
    /// A microsecond apart; above it the sampler only reads back to back (which `max` avoids).
    pub const MAX_HZ: f64 = 1_000_000.0;

    /// A rate in samples per second, or an error saying what is accepted.
    pub fn hz(hz: f64) -> Result<Rate, String> {
        if (Self::MIN_HZ..=Self::MAX_HZ).contains(&hz) {
            Ok(Rate::Hz(hz))
        } else {
            Err(format!("a rate of {hz} samples per second is out of range: give a number from 1 to 1000000, or `max` for as fast as the sampler can go without crowding the program"))
        }
    }

    /// `max` or a number of samples per second, as typed on a command line or in a setting.
    pub fn parse(s: &str) -> Result<Rate, String> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("max") {
            return Ok(Rate::Max);
        }
        match s.parse::<f64>() {
            Ok(hz) => Rate::hz(hz),
            Err(_) => Err(format!("`{s}` is not a rate: give samples per second (e.g. 1000) or `max`")),
        }
    }
}

/// A recording length in seconds, or an error saying what is accepted: positive, finite, and
/// at most a year (beyond that `Duration` overflows; leave the duration out to record until the
/// program ends).
pub fn duration_from_secs(secs: f64) -> Result<Duration, String> {
    const YEAR: f64 = 365.0 * 24.0 * 3600.0;
    if secs > 0.0 && secs <= YEAR {
        Ok(Duration::from_secs_f64(secs))
    } else {
        Err(format!("a duration of {secs} seconds is out of range: give a positive number of seconds, or leave it out to record until the program ends"))
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub rate: Rate,
    pub duration: Option<Duration>,
    /// Also sample child Python processes (py-spy's `--subprocesses`).
    pub subprocesses: bool,
    /// Keep samples of idle threads (py-spy's `--idle`); by default only running threads count.
    pub idle: bool,
    /// Only keep samples of the thread holding the GIL (py-spy's `--gil`).
    pub gil: bool,
    /// Stop the target's threads while reading them (ptrace), as py-spy does by default:
    /// exact stacks however fast they change, at a cost to the target.
    pub blocking: bool,
    /// How many batches may wait for the consumer before new ones are dropped.
    pub channel_batches: usize,
    /// How long to wait for a spawned program's interpreter to come up.
    pub start_timeout: Duration,
    /// Set from another thread to give up waiting for the interpreter: `start` then returns
    /// [`Error::Cancelled`] (and stops a program it was given to start). An editor that ends a
    /// session while its launch still waits should not wait out `start_timeout`.
    pub cancel: Arc<AtomicBool>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            rate: Rate::Hz(1000.0),
            duration: None,
            subprocesses: false,
            idle: false,
            gil: false,
            blocking: false,
            channel_batches: 256,
            start_timeout: Duration::from_secs(20),
            cancel: Arc::default(),
        }
    }
}

/// Counters shared with the consumer; read them any time.
#[derive(Debug, Default)]
pub struct Stats {
    pub samples: AtomicU64,
    /// Stacks read while the target changed them, detected and dropped.
    pub torn: AtomicU64,
    /// Samples dropped because the consumer fell behind.
    pub overflow: AtomicU64,
    /// Sampling passes (one pass reads every thread once).
    pub passes: AtomicU64,
    /// Reads that failed for another reason (thread gone mid-read, ...).
    pub errors: AtomicU64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    pub samples: u64,
    pub torn: u64,
    pub overflow: u64,
    pub passes: u64,
    pub errors: u64,
}

impl Stats {
    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            samples: self.samples.load(Ordering::Relaxed),
            torn: self.torn.load(Ordering::Relaxed),
            overflow: self.overflow.load(Ordering::Relaxed),
            passes: self.passes.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
        }
    }
}

/// A running session. Drop or [`Session::stop`] ends it; the event channel closes after the
/// last event.
pub struct Session {
    pub events: Receiver<Event>,
    pub frames: Arc<FrameTable>,
    pub stats: Arc<Stats>,
    /// The process sampled first (the spawned child or the attached PID).
    pub pid: u32,
    stop: Arc<AtomicBool>,
    recycle: SyncSender<Batch>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Session {
    /// Starts sampling. Returns once the target's interpreter has been found and read once, so
    /// errors (no such process, not Python, unsupported version, permission) come back here.
    pub fn start(target: Target, config: Config) -> Result<Session, Error> {
        crate::sampling::start(target, config)
    }

    pub(crate) fn from_parts(
        events: Receiver<Event>,
        frames: Arc<FrameTable>,
        stats: Arc<Stats>,
        pid: u32,
        stop: Arc<AtomicBool>,
        recycle: SyncSender<Batch>,
        thread: std::thread::JoinHandle<()>,
    ) -> Session {
        Session { events, frames, stats, pid, stop, recycle, thread: Some(thread) }
    }

    /// Asks the sampling thread to finish; events already sent stay readable.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    /// A handle that stops the session from another thread (a signal handler, a DAP request).
    pub fn stopper(&self) -> Arc<AtomicBool> {
        self.stop.clone()
    }

    /// Gives a batch's buffers back to the sampler so it allocates nothing per sample.
    pub fn recycle(&self, mut batch: Batch) {
        batch.clear();
        let _ = self.recycle.try_send(batch);
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.stop();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
