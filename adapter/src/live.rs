//! A recording in progress: a sampler session feeding a shared profile, with progress that
//! views (CLI status line, DAP progress events, the web page's live updates) can watch.

use crate::profile::journal::Journal;
use crate::profile::{Meta, Profile, Recorder};
use ember_sampler::{Config, Event, Session, Target};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// A profile that may still be growing, and a channel that ticks when it changes.
#[derive(Clone)]
pub struct SharedProfile {
    pub profile: Arc<RwLock<Profile>>,
    pub updates: watch::Receiver<Progress>,
}

impl SharedProfile {
    /// A finished profile that will not change (files loaded from disk).
    pub fn fixed(profile: Profile) -> (SharedProfile, watch::Sender<Progress>) {
        let progress = Progress {
            samples: profile.samples.len() as u64,
            finished: true,
            generation: 1,
            ..Default::default()
        };
        let (tx, rx) = watch::channel(progress);
        (SharedProfile { profile: Arc::new(RwLock::new(profile)), updates: rx }, tx)
    }

    /// Replaces the whole profile (the LSP server loading a newer file) and tells watchers.
    pub fn replace(&self, tx: &watch::Sender<Progress>, profile: Profile) {
        let samples = profile.samples.len() as u64;
        *self.profile.write().unwrap() = profile;
        tx.send_modify(|p| {
            p.samples = samples;
            p.generation += 1;
            p.finished = true;
        });
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Progress {
    pub samples: u64,
    pub elapsed: Duration,
    /// Samples per second over the last update interval.
    pub rate: f64,
    pub torn: u64,
    pub overflow: u64,
    /// Bumped on every change; views compare it to know whether to redraw.
    pub generation: u64,
    pub finished: bool,
    /// Exit code of the spawned target once it ended.
    pub exit_code: Option<i32>,
    pub exit_signal: Option<i32>,
    /// Warnings from the sampler, newest last.
    pub warnings: Vec<String>,
}

/// A running recording. The consumer thread applies events to the shared profile in batches
/// and publishes [`Progress`] about five times a second.
pub struct Recording {
    pub shared: SharedProfile,
    pub pid: u32,
    stop: Arc<AtomicBool>,
    /// Gives back the journal once everything recorded is in it.
    thread: Option<std::thread::JoinHandle<Option<Journal>>>,
}

const PUBLISH_EVERY: Duration = Duration::from_millis(200);
/// How often what is new goes to the journal: at most this much is lost if Ember is killed.
const JOURNAL_EVERY: Duration = Duration::from_secs(1);

impl Recording {
    /// `journal`, when given, gets what is recorded as it comes (profile/journal.rs).
    pub fn start(target: Target, config: Config, meta: Meta, journal: Option<Journal>) -> Result<Recording, ember_sampler::Error> {
        // On failure the journal, empty, goes with its drop.
        let session = Session::start(target, config)?;
        let pid = session.pid;
        let (tx, rx) = watch::channel(Progress::default());
        let profile = Arc::new(RwLock::new(Profile::new(meta)));
        let stop = session.stopper();
        let thread = {
            let profile = profile.clone();
            std::thread::Builder::new()
                .name("ember-recorder".into())
                .spawn(move || consume(session, profile, tx, journal))
                .expect("spawn recorder thread")
        };
        Ok(Recording {
            shared: SharedProfile { profile, updates: rx },
            pid,
            stop,
            thread: Some(thread),
        })
    }

    /// Ends sampling; the profile keeps everything recorded so far.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    /// A handle that stops the recording from anywhere (signal handler, protocol request).
    pub fn stopper(&self) -> Arc<AtomicBool> {
        self.stop.clone()
    }

    /// Waits until the sampler has finished (target exited, duration over, or stopped). The
    /// journal holds the whole recording: discard it once the profile is saved.
    pub fn wait(mut self) -> (SharedProfile, Option<Journal>) {
        let journal = self.thread.take().and_then(|t| t.join().ok().flatten());
        (self.shared.clone(), journal)
    }

    pub fn is_finished(&self) -> bool {
        self.shared.updates.borrow().finished
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        if let Some(t) = self.thread.take() {
            self.stop();
            let _ = t.join();
        }
    }
}

fn consume(session: Session, profile: Arc<RwLock<Profile>>, tx: watch::Sender<Progress>, mut journal: Option<Journal>) -> Option<Journal> {
    let mut recorder = Recorder::new();
    let started = Instant::now();
    let mut last_publish = Instant::now();
    let mut last_samples = 0u64;
    let mut pending: Vec<Event> = Vec::new();
    let publish = |profile: &Arc<RwLock<Profile>>, pending: &mut Vec<Event>, recorder: &mut Recorder, finished: bool, last_samples: &mut u64, last_publish: &mut Instant| {
        let mut exits = Vec::new();
        let mut warnings = Vec::new();
        let samples = {
            let mut p = profile.write().unwrap();
            for ev in pending.drain(..) {
                recorder.apply(&mut p, &session.frames, &ev);
                match ev {
                    Event::ProcessExited { pid, exit_code, signal } if pid == session.pid => exits.push((exit_code, signal)),
                    Event::Warning(w) => warnings.push(w),
                    Event::Samples(b) => session.recycle(b),
                    _ => {}
                }
            }
            let st = session.stats.snapshot();
            p.meta.dropped.torn = st.torn;
            p.meta.dropped.overflow = st.overflow;
            p.meta.dropped.errors = st.errors;
            p.samples.len() as u64
        };
        let st = session.stats.snapshot();
        let dt = last_publish.elapsed().as_secs_f64().max(1e-3);
        tx.send_modify(|pr| {
            pr.rate = (samples - *last_samples) as f64 / dt;
            pr.samples = samples;
            pr.elapsed = started.elapsed();
            pr.torn = st.torn;
            pr.overflow = st.overflow;
            pr.generation += 1;
            pr.finished = finished;
            for (code, sig) in exits {
                pr.exit_code = code;
                pr.exit_signal = sig;
            }
            pr.warnings.extend(warnings);
        });
        *last_samples = samples;
        *last_publish = Instant::now();
    };
    let mut last_journal = Instant::now();
    loop {
        match session.events.recv_timeout(PUBLISH_EVERY) {
            Ok(ev) => pending.push(ev),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
        }
        if last_publish.elapsed() >= PUBLISH_EVERY {
            publish(&profile, &mut pending, &mut recorder, false, &mut last_samples, &mut last_publish);
        }
        if last_journal.elapsed() >= JOURNAL_EVERY {
            append(&mut journal, &profile, false, &tx);
            last_journal = Instant::now();
        }
    }
    publish(&profile, &mut pending, &mut recorder, true, &mut last_samples, &mut last_publish);
    // Whoever saves the profile gets the journal from `Recording::wait`, after this.
    append(&mut journal, &profile, true, &tx);
    journal
}

/// Appends to the journal; on failure (disk full) drops it and says so: the recording goes on
/// in memory and is saved at the end as usual.
fn append(journal: &mut Option<Journal>, profile: &RwLock<Profile>, last: bool, tx: &watch::Sender<Progress>) {
    let Some(j) = journal else { return };
    let result = j.append(&profile.read().unwrap(), last);
    if let Err(e) = result {
        let j = journal.take().expect("checked above");
        let msg = format!("cannot write the journal {} ({e}); the recording goes on, kept in memory only until it is saved", j.path().display());
        j.discard();
        tx.send_modify(|pr| pr.warnings.push(msg));
    }
}
