//! Synthetic profiles of a chosen size, for benchmarks and tests of views at scale. Deterministic
//! for a given seed.

use super::model::*;

/// The shape of a synthetic profile.
#[derive(Debug, Clone)]
pub struct Shape {
    pub samples: usize,
    /// Distinct stacks to create (most appear at least once when samples ≫ stacks).
    pub stacks: usize,
    pub max_depth: usize,
    pub threads: usize,
    pub rate_hz: f64,
    pub seed: u64,
}

impl Default for Shape {
    fn default() -> Shape {
        Shape { samples: 1_000_000, stacks: 100_000, max_depth: 500, threads: 4, rate_hz: 1000.0, seed: 1 }
    }
}

/// splitmix64: small, fast, good enough to shape test data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in 0..n (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * n as f64) as usize
    }
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
}

/// Builds a profile that looks like a recording of a real program: a project, the standard
/// library and site-packages; call paths that share prefixes; hot stacks; threads sampled
/// together at each tick with timer jitter; running/GIL flags.
pub fn generate(shape: &Shape) -> Profile {
    let mut rng = Rng::new(shape.seed);
    let mut p = Profile::new(Meta {
        source: "synthetic".into(),
        start_unix_ms: 1_700_000_000_000,
        rate_hz: Some(shape.rate_hz),
        command_line: vec!["python3".into(), "app.py".into()],
        python_version: Some("3.12.4".into()),
        timed: true,
        ..Default::default()
    });
    p.processes.push(Process {
        pid: 4242,
        parent: None,
        command_line: vec!["python3".into(), "app.py".into()],
        python_version: Some("3.12.4".into()),
        exit_code: Some(0),
    });
    let threads: Vec<ThreadIdx> = (0..shape.threads.max(1))
        .map(|i| {
            let name = if i == 0 { "MainThread".to_string() } else { format!("worker-{i}") };
            p.thread(4242, 4242 + i as u32, Some(&name))
        })
        .collect();

    // ~2000 functions over ~200 files, each with a handful of call-site lines.
    let roots = ["/home/dev/app/src/app", "/usr/lib/python3.12", "/home/dev/app/.venv/lib/python3.12/site-packages/lib"];
    let mut frames = Vec::new();
    for f in 0..2000u32 {
        let file = format!("{}/mod{}.py", roots[(f % 3) as usize], f / 10);
        let first = 1 + (f % 10) * 40;
        let func = p.intern_function(&file, &format!("Class{}.method_{f}", f % 37), first);
        for l in 0..4 {
            frames.push(p.intern_frame(func, first + 1 + l * 3));
        }
    }
    let main_frame = {
        let f = p.intern_function("/home/dev/app/app.py", "<module>", 1);
        p.intern_frame(f, 10)
    };

    // Stacks: each new one extends a prefix of an existing one, so paths share prefixes as in
    // a real call tree; now and then a deep recursion.
    let mut leaves: Vec<StackId> = Vec::with_capacity(shape.stacks);
    let mut depth_of: Vec<u32> = Vec::new();
    let root = p.intern_stack(NO_PARENT, main_frame);
    let mut path: Vec<StackId> = Vec::new();
    while leaves.len() < shape.stacks {
        path.clear();
        let base = if leaves.is_empty() { root } else { leaves[rng.below(leaves.len())] };
        let mut s = base;
        while s != NO_PARENT {
            path.push(s);
            s = p.stacks[s as usize].parent;
        }
        path.reverse();
        let keep = 1 + rng.below(path.len());
        let mut top = path[keep - 1];
        let mut depth = keep;
        let grow = if rng.chance(0.002) { 100 + rng.below(shape.max_depth) } else { 1 + rng.below(8) };
        let recursive = frames[rng.below(frames.len())];
        for _ in 0..grow {
            if depth >= shape.max_depth {
                break;
            }
            let fr = if grow > 50 { recursive } else { frames[rng.below(frames.len())] };
            top = p.intern_stack(top, fr);
            depth += 1;
        }
        if top as usize >= depth_of.len() {
            depth_of.resize(top as usize + 1, 0);
        }
        if depth_of[top as usize] == 0 {
            depth_of[top as usize] = depth as u32;
            leaves.push(top);
        }
    }

    // Samples: one per thread per tick, a few µs apart; a thread often stays in one stack for
    // a while; a quarter of the picks go to a small set of hot stacks.
    let interval = (1e9 / shape.rate_hz) as u64;
    let hot: Vec<StackId> = (0..64).map(|_| leaves[rng.below(leaves.len())]).collect();
    let mut current: Vec<StackId> = threads.iter().map(|_| leaves[rng.below(leaves.len())]).collect();
    p.samples.time_ns.reserve_exact(shape.samples);
    p.samples.thread.reserve_exact(shape.samples);
    p.samples.stack.reserve_exact(shape.samples);
    p.samples.flags.reserve_exact(shape.samples);
    let mut tick = 0u64;
    'outer: loop {
        tick += 1;
        let base = tick * interval + rng.below(20_000) as u64;
        for (k, &t) in threads.iter().enumerate() {
            if p.samples.len() >= shape.samples {
                break 'outer;
            }
            if !rng.chance(0.3) {
                current[k] = if rng.chance(0.25) { hot[rng.below(hot.len())] } else { leaves[rng.below(leaves.len())] };
            }
            let flags = if k == 0 || rng.chance(0.3) { FLAG_RUNNING | FLAG_GIL } else if rng.chance(0.5) { FLAG_RUNNING } else { 0 };
            p.push_sample(base + k as u64 * 3_000 + rng.below(2_000) as u64, t, current[k], flags);
        }
    }
    p.meta.duration_ns = p.samples.time_ns.last().copied().unwrap_or(0);
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn has_the_requested_shape() {
        let shape = Shape { samples: 20_000, stacks: 2_000, max_depth: 300, threads: 3, ..Default::default() };
        let p = generate(&shape);
        assert_eq!(p.samples.len(), 20_000);
        let mut distinct: Vec<StackId> = p.samples.stack.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert!(distinct.len() > 1_500, "{} distinct stacks", distinct.len());
        let deepest = (0..p.stacks.len() as StackId).map(|s| p.stack_frames(s).count()).max().unwrap();
        assert!(deepest <= 300 && deepest > 20, "deepest {deepest}");
        assert_eq!(p.threads.len(), 3);
        assert_eq!(generate(&shape).samples, p.samples, "deterministic for a seed");
    }
}
