//! When to take the next sample: deadlines on a fixed grid, so neither late wake-ups nor the
//! cost of a sample move the sampling instants.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Waits shorter than this spin: a sleep's wake-up (a few µs even with a 1 ns timer slack)
/// would make high rates miss their deadlines.
const SPIN_BELOW: Duration = Duration::from_micros(100);
/// `--rate max`: a pass counts for at most this many times the average pass in the average.
const MAX_PASS_VS_AVERAGE: f64 = 4.0;
/// `--rate max`: the first passes learn each thread's addresses, names and code objects and can
/// take milliseconds; over these, the average follows each pass 32 times as fast.
const WARM_UP_PASSES: u32 = 64;
/// Long waits (slow rates) sleep in slices this long, so a stop is not held up by a period.
const STOP_CHECK_EVERY: Duration = Duration::from_millis(20);

pub struct Ticker {
    period: Option<Duration>,
    next: Instant,
    /// `--rate max`: average time a pass took, in ns (exponential average).
    busy_ns: f64,
    passes: u32,
    rng: u64,
    stop: Arc<AtomicBool>,
}

impl Ticker {
    /// `stop` cuts a wait short.
    pub fn new(period: Option<Duration>, stop: Arc<AtomicBool>) -> Ticker {
        // The default timer slack (50 µs) would cap sleeps at ~20k wake-ups/s and blur the
        // instants; ask for the precision the rate needs. Failure only costs precision.
        let _ = nix::sys::prctl::set_timerslack(1);
        let seed = Instant::now().elapsed().as_nanos() as u64 ^ u64::from(std::process::id()) << 32;
        Ticker { period, next: Instant::now(), busy_ns: 0.0, passes: 0, rng: seed | 1, stop }
    }

    /// Waits for the next deadline. If we fell more than a period behind, skips the missed
    /// ticks instead of bursting to catch up (a burst would sample the same instant twice).
    ///
    /// With no period (`--rate max`) the period is twice the average pass (`busy`), so the
    /// sampler rests half the time: every read pulls cache lines the target is writing, and
    /// reading back to back slowed a 3.11 target up to 6x here (docs/architecture.md). The
    /// period follows a long average and each interval is drawn at random around it: resting
    /// as long as *this* pass took would tie the next sampling instant to what the target was
    /// doing (reads are slower while it pushes frames), and a fixed interval can fall in step
    /// with a periodic workload.
    pub fn wait(&mut self, busy: Duration) {
        let period = match self.period {
            Some(p) => p,
            None => {
                let b = busy.as_nanos() as f64;
                self.passes = self.passes.saturating_add(1);
                self.busy_ns = if self.passes == 1 {
                    b
                } else if self.passes <= WARM_UP_PASSES {
                    // Seeded with a first pass of 5 ms, the average took ~2.5 s of sampling at
                    // a few hundred samples/s to come down at 1/256 a pass. (The shortest pass
                    // instead: too short, ≤3.10's quick torn reads kept it there, reading
                    // back to back.)
                    self.busy_ns + (b - self.busy_ns) / 8.0
                } else {
                    // A pass far longer than the average is an accident (preempted, or once a
                    // walk chasing freed memory for 20 ms), not what a pass costs: counted
                    // whole, a few of those per second held the rate down tenfold.
                    self.busy_ns + (b.min(MAX_PASS_VS_AVERAGE * self.busy_ns) - self.busy_ns) / 256.0
                };
                Duration::from_nanos((2.0 * self.busy_ns * self.jitter()) as u64)
            }
        };
        self.next += period;
        let now = Instant::now();
        if self.next > now {
            self.wait_until(self.next, now);
        } else if now - self.next > period {
            self.next = now;
        }
    }

    /// A factor uniform in [0.5, 1.5) (xorshift: statistical quality is all this needs).
    fn jitter(&mut self) -> f64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        0.5 + (self.rng >> 11) as f64 / (1u64 << 53) as f64
    }

    fn wait_until(&self, deadline: Instant, mut now: Instant) {
        while deadline - now > STOP_CHECK_EVERY {
            if self.stop.load(Ordering::Relaxed) {
                return;
            }
            std::thread::sleep(STOP_CHECK_EVERY);
            now = Instant::now();
        }
        let d = deadline.saturating_duration_since(now);
        if d >= SPIN_BELOW {
            std::thread::sleep(d);
            return;
        }
        while Instant::now() < deadline {
            std::hint::spin_loop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A slow first pass (learning addresses and names) must not hold the rate down.
    #[test]
    fn a_slow_first_pass_does_not_set_the_pace() {
        let mut t = Ticker::new(None, Arc::default());
        t.wait(Duration::from_millis(5));
        for _ in 0..100 {
            t.wait(Duration::from_micros(10));
        }
        assert!(t.busy_ns < 20_000.0, "average pass {} ns", t.busy_ns);
        // Past the warm-up, a long pass moves the average by a bounded step only.
        t.wait(Duration::from_millis(20));
        assert!(t.busy_ns < 20_000.0, "average pass {} ns", t.busy_ns);
    }

    #[test]
    fn jitter_is_uniform_around_one() {
        let mut t = Ticker::new(None, Arc::default());
        let draws: Vec<f64> = (0..100_000).map(|_| t.jitter()).collect();
        assert!(draws.iter().all(|&f| (0.5..1.5).contains(&f)));
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        assert!((mean - 1.0).abs() < 0.01, "mean {mean}");
        // Both halves of the range are used, not one value over and over.
        assert!(draws.iter().filter(|&&f| f < 0.75).count() > 20_000);
        assert!(draws.iter().filter(|&&f| f >= 1.25).count() > 20_000);
    }
}
