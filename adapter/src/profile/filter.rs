//! Which samples a view counts: a time range, a set of threads, and wall / CPU / GIL mode.

use super::model::*;
use serde::{Deserialize, Serialize};

/// What a sample must be to count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Every sample (wall-clock time).
    #[default]
    Wall,
    /// Only samples of a thread running on a CPU ([`FLAG_RUNNING`]).
    Cpu,
    /// Only samples of a thread holding the GIL ([`FLAG_GIL`]).
    Gil,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Filter {
    /// Half-open range of sample times, nanoseconds since the start: `[start, end)`.
    pub time_ns: Option<(u64, u64)>,
    /// Thread indexes to keep; None keeps all.
    pub threads: Option<Vec<ThreadIdx>>,
    pub mode: Mode,
}

impl Filter {
    pub fn all() -> Filter {
        Filter::default()
    }

    pub fn is_all(&self) -> bool {
        self.time_ns.is_none() && self.threads.is_none() && self.mode == Mode::Wall
    }

    /// A per-thread lookup table, so the sample loop does no search.
    fn thread_mask(&self, p: &Profile) -> Option<Vec<bool>> {
        self.threads.as_ref().map(|set| {
            let mut m = vec![false; p.threads.len().max(1)];
            for &t in set {
                if let Some(x) = m.get_mut(t as usize) {
                    *x = true;
                }
            }
            m
        })
    }

    /// Calls `f(i)` for each selected sample index.
    pub fn for_each(&self, p: &Profile, mut f: impl FnMut(usize)) {
        let s = &p.samples;
        if self.is_all() {
            (0..s.len()).for_each(f);
            return;
        }
        let mask = self.thread_mask(p);
        let need = match self.mode {
            Mode::Wall => 0,
            Mode::Cpu => FLAG_RUNNING,
            Mode::Gil => FLAG_GIL,
        };
        let (lo, hi) = self.time_ns.unwrap_or((0, u64::MAX));
        for i in 0..s.len() {
            if s.flags[i] & need != need {
                continue;
            }
            let t = s.time_ns[i];
            if t < lo || t >= hi {
                continue;
            }
            if let Some(m) = &mask {
                if !m.get(s.thread[i] as usize).copied().unwrap_or(false) {
                    continue;
                }
            }
            f(i);
        }
    }

    /// Number of selected samples per stack id (the leaf node of each sample).
    pub fn stack_counts(&self, p: &Profile) -> Vec<u32> {
        let mut counts = vec![0u32; p.stacks.len()];
        let stacks = &p.samples.stack;
        self.for_each(p, |i| counts[stacks[i] as usize] += 1);
        counts
    }

    /// Number of selected samples.
    pub fn count(&self, p: &Profile) -> u64 {
        let mut n = 0;
        self.for_each(p, |_| n += 1);
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile() -> Profile {
        let mut p = Profile::default();
        let f = p.intern_function("a.py", "f", 1);
        let fr = p.intern_frame(f, 2);
        let s = p.intern_stack_path(&[fr]).unwrap();
        let g = p.intern_function("a.py", "g", 5);
        let gr = p.intern_frame(g, 6);
        let s2 = p.intern_stack_path(&[fr, gr]).unwrap();
        let a = p.thread(1, 1, Some("main"));
        let b = p.thread(1, 2, Some("worker"));
        p.push_sample(0, a, s, FLAG_RUNNING | FLAG_GIL);
        p.push_sample(10, b, s2, FLAG_RUNNING);
        p.push_sample(20, a, s2, 0);
        p.push_sample(30, b, s, FLAG_GIL);
        p
    }

    fn selected(f: &Filter, p: &Profile) -> Vec<usize> {
        let mut v = Vec::new();
        f.for_each(p, |i| v.push(i));
        v
    }

    #[test]
    fn modes_threads_and_ranges() {
        let p = profile();
        assert_eq!(selected(&Filter::all(), &p), [0, 1, 2, 3]);
        assert_eq!(selected(&Filter { mode: Mode::Cpu, ..Default::default() }, &p), [0, 1]);
        assert_eq!(selected(&Filter { mode: Mode::Gil, ..Default::default() }, &p), [0, 3]);
        assert_eq!(selected(&Filter { threads: Some(vec![1]), ..Default::default() }, &p), [1, 3]);
        assert_eq!(selected(&Filter { time_ns: Some((10, 30)), ..Default::default() }, &p), [1, 2]);
        let f = Filter { time_ns: Some((0, 25)), threads: Some(vec![0]), mode: Mode::Gil };
        assert_eq!(selected(&f, &p), [0]);
        // An unknown thread index selects nothing rather than panicking.
        assert_eq!(selected(&Filter { threads: Some(vec![7]), ..Default::default() }, &p), Vec::<usize>::new());
        assert_eq!(Filter::all().stack_counts(&p), vec![2, 2]);
        assert_eq!(Filter { mode: Mode::Cpu, ..Default::default() }.count(&p), 2);
    }
}
