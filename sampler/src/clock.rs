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
    pub fn wait(&mut self) {
        let Some(p) = self.period else { return };
        self.next += p;
        let now = Instant::now();
        if self.next > now {
            std::thread::sleep(self.next - now);
        } else if now - self.next > p {
            self.next = now;
        }
    }
}
