//! A drift-free periodic timer: deadlines are start + k·period, so late wake-ups do not add up.

use std::time::{Duration, Instant};

pub struct Ticker {
    period: Option<Duration>,
    next: Instant,
}

impl Ticker {
    pub fn new(period: Option<Duration>) -> Ticker {
        Ticker { period, next: Instant::now() }
    }

    /// Sleeps until the next deadline. If we fell more than a period behind, skips the missed
    /// ticks instead of bursting to catch up (a burst would sample the same instant twice).
    /// With no period (`--rate max`) it rests as long as the pass took (`busy`): every read
    /// pulls the cache lines the target is writing, and reading back to back slowed a 3.11
    /// target up to 6x here, a 3.15 one up to 2.5x; resting half the time keeps it to tens of
    /// percent at most (bench/sampler.sh, README).
    pub fn wait(&mut self, busy: Duration) {
        let Some(p) = self.period else {
            rest(busy);
            return;
        };
        self.next += p;
        let now = Instant::now();
        if self.next > now {
            std::thread::sleep(self.next - now);
        } else if now - self.next > p {
            self.next = now;
        }
    }
}

/// Waits `d`: spinning for short rests, whose precision a sleep would not keep.
fn rest(d: Duration) {
    if d >= Duration::from_micros(200) {
        std::thread::sleep(d);
        return;
    }
    let t = Instant::now();
    while t.elapsed() < d {
        std::hint::spin_loop();
    }
}
