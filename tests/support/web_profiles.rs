#![allow(dead_code)]
// Profiles built in code for the web server's tests, the browser tests and bench/web.sh.
// Deterministic, with known totals the tests assert.

use ember::profile::{Meta, Profile, FLAG_GIL, FLAG_RUNNING};

fn meta(cmd: &str) -> Meta {
    Meta {
        source: "ember".into(),
        start_unix_ms: 1_763_700_000_000,
        duration_ns: 3_000_000_000,
        rate_hz: Some(1000.0),
        command_line: vec!["python".into(), cmd.into()],
        python_version: Some("3.12.7".into()),
        timed: true,
        interval_ns: 1_000_000,
        ..Default::default()
    }
}

/// Python source for `app.py` matching the demo profile's line numbers.
pub const DEMO_APP_PY: &str = "def main():\n    work()\n    fetch()\n\ndef work():\n    parse(a)\n    parse(b)\n\ndef idle():\n    pass\n\ndef worker_loop():\n    while True:\n        idle()\n";

/// 1600 samples on two threads over 3 s. MainThread: main>work>parse 400 (running, GIL),
/// main>work 100, main>fetch 300 (waiting: no flags), main>helper 100, main 100.
/// worker: worker_loop>idle 500 (no flags), worker_loop>work>parse 100 (running, GIL).
/// `scale_parse`/`with_fetch` vary it for the differential view.
pub fn demo_with(scale_parse: u32, with_fetch: bool) -> Profile {
    let mut p = Profile::new(meta("app.py"));
    let main = p.intern_function("app.py", "main", 1);
    let work = p.intern_function("app.py", "work", 5);
    let idle = p.intern_function("app.py", "idle", 9);
    let wl = p.intern_function("app.py", "worker_loop", 12);
    let parse = p.intern_function("/usr/lib/python3.12/json/decoder.py", "parse", 10);
    let fetch = p.intern_function("/venv/lib/python3.12/site-packages/requests/api.py", "fetch", 20);
    let helper = p.intern_function("<string>", "helper", 1);
    let f = |p: &mut Profile, func, line| p.intern_frame(func, line);
    let main2 = f(&mut p, main, 2);
    let main3 = f(&mut p, main, 3);
    let work6 = f(&mut p, work, 6);
    let work7 = f(&mut p, work, 7);
    let parse11 = f(&mut p, parse, 11);
    let fetch21 = f(&mut p, fetch, 21);
    let helper1 = f(&mut p, helper, 1);
    let wl14 = f(&mut p, wl, 14);
    let idle10 = f(&mut p, idle, 10);
    let main1 = f(&mut p, main, 1);
    let t_main = p.thread(100, 100, Some("MainThread"));
    let t_work = p.thread(100, 101, Some("worker"));
    let rg = FLAG_RUNNING | FLAG_GIL;
    // (thread, stack, flags, count)
    let mut plan: Vec<(u16, Vec<u32>, u8, u32)> = vec![
        (t_main, vec![main2, work6, parse11], rg, 200 * scale_parse),
        (t_main, vec![main2, work7, parse11], rg, 200 * scale_parse),
        (t_main, vec![main2, work6], rg, 100),
        (t_main, vec![main3, helper1], rg, 100),
        (t_main, vec![main1], rg, 100),
        (t_work, vec![wl14, idle10], 0, 500),
        (t_work, vec![wl14, work6, parse11], rg, 100),
    ];
    if with_fetch {
        plan.insert(3, (t_main, vec![main3, fetch21], 0, 300));
    }
    let mut samples = Vec::new();
    for (thread, path, flags, count) in plan {
        let stack = p.intern_stack_path(&path).unwrap();
        for _ in 0..count {
            samples.push((thread, stack, flags));
        }
    }
    // Spread each thread's samples evenly over 3 s, in plan order (phases over time).
    let per_thread = |t: u16| samples.iter().filter(|s| s.0 == t).count() as u64;
    let (n_main, n_work) = (per_thread(t_main), per_thread(t_work));
    let mut timed: Vec<(u64, u16, u32, u8)> = Vec::new();
    let (mut i_main, mut i_work) = (0u64, 0u64);
    for (thread, stack, flags) in samples {
        let (i, n) = if thread == t_main { (&mut i_main, n_main) } else { (&mut i_work, n_work) };
        timed.push((*i * 3_000_000_000 / n, thread, stack, flags));
        *i += 1;
    }
    timed.sort_by_key(|s| s.0);
    for (t, thread, stack, flags) in timed {
        p.push_sample(t, thread, stack, flags);
    }
    p
}

pub fn demo() -> Profile {
    demo_with(1, true)
}

/// A recursion `depth` frames deep (plus a shallow sibling), for the deep-stack test.
pub fn deep(depth: u32) -> Profile {
    let mut p = Profile::new(meta("deep.py"));
    let main = p.intern_function("deep.py", "main", 1);
    let rec = p.intern_function("deep.py", "recurse", 5);
    let leaf = p.intern_function("deep.py", "leaf", 9);
    let mut path = vec![p.intern_frame(main, 2)];
    let r = p.intern_frame(rec, 6);
    path.extend(std::iter::repeat_n(r, depth as usize));
    path.push(p.intern_frame(leaf, 10));
    let s = p.intern_stack_path(&path).unwrap();
    let shallow = p.intern_stack_path(&path[..1]).unwrap();
    let t = p.thread(1, 1, Some("MainThread"));
    for i in 0..1000u64 {
        p.push_sample(i * 1_000_000, t, if i % 10 == 0 { shallow } else { s }, FLAG_RUNNING | FLAG_GIL);
    }
    p
}

/// `samples` samples over `stacks` distinct stacks up to `max_depth` deep, on 4 threads,
/// from a pseudo-random call graph of a few thousand functions (for bench/web.sh).
pub fn big(samples: usize, stacks: usize, max_depth: usize) -> Profile {
    let mut p = Profile::new(meta("big.py"));
    let mut rng = 0x2545F4914F6CDD1Du64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let files = ["app/core.py", "/usr/lib/python3.12/json/decoder.py", "/venv/lib/python3.12/site-packages/numpy/core.py", "<string>"];
    let mut frames = Vec::new();
    for i in 0..3000u32 {
        let file = files[(i % 7).min(3) as usize];
        let func = p.intern_function(file, &format!("func_{i}"), i * 10 + 1);
        for l in 0..3 {
            frames.push(p.intern_frame(func, i * 10 + 2 + l));
        }
    }
    let threads: Vec<u16> = (0..4).map(|i| p.thread(1, 1 + i, Some(if i == 0 { "MainThread" } else { "worker" }))).collect();
    // Grow stacks as random walks from a few roots, each new leaf extends a known stack.
    let mut leaves: Vec<(u32, usize)> = Vec::with_capacity(stacks);
    let root = p.intern_stack(ember::profile::NO_PARENT, frames[0]);
    leaves.push((root, 1));
    while p.stacks.len() < stacks {
        let (mut s, mut d) = leaves[(next() % leaves.len() as u64) as usize];
        let extend = 1 + (next() % 20) as usize;
        for _ in 0..extend {
            if d >= max_depth {
                break;
            }
            let fr = frames[(next() % frames.len() as u64) as usize];
            s = p.intern_stack(s, fr);
            d += 1;
        }
        leaves.push((s, d));
    }
    // Make sure one stack reaches max_depth.
    let (mut s, mut d) = leaves[leaves.len() - 1];
    while d < max_depth {
        s = p.intern_stack(s, frames[d % frames.len()]);
        d += 1;
    }
    leaves.push((s, d));
    let n_stacks = p.stacks.len() as u64;
    for i in 0..samples as u64 {
        // Skewed: most samples on a few stacks, every stack id gets some.
        let st = if i < n_stacks { i } else { (next() % n_stacks).min(next() % n_stacks) };
        let flags = (next() % 4) as u8;
        p.push_sample(i * 10_000_000_000 / samples as u64, threads[(i % 4) as usize], st as u32, flags);
    }
    p.meta.duration_ns = 10_000_000_000;
    p
}

/// A program and its child process (`--subprocesses`): parent 200 (MainThread: main>work 300),
/// child 201 (MainThread: main>work>parse 200; pool: worker_loop>idle 100). 600 samples.
pub fn procs() -> Profile {
    let mut p = Profile::new(meta("app.py"));
    let main = p.intern_function("app.py", "main", 1);
    let work = p.intern_function("app.py", "work", 5);
    let parse = p.intern_function("/usr/lib/python3.12/json/decoder.py", "parse", 10);
    let wl = p.intern_function("app.py", "worker_loop", 12);
    let idle = p.intern_function("app.py", "idle", 9);
    let (main2, work6, parse11) = (p.intern_frame(main, 2), p.intern_frame(work, 6), p.intern_frame(parse, 11));
    let (wl14, idle10) = (p.intern_frame(wl, 14), p.intern_frame(idle, 10));
    let worked = p.intern_stack_path(&[main2, work6]).unwrap();
    let parsed = p.intern_stack_path(&[main2, work6, parse11]).unwrap();
    let idled = p.intern_stack_path(&[wl14, idle10]).unwrap();
    for (pid, parent, cmd) in [(200, None, "app.py"), (201, Some(200), "-c child")] {
        p.processes.push(ember::profile::Process {
            pid,
            parent,
            command_line: vec!["python".into(), cmd.into()],
            python_version: Some("3.12.7".into()),
            exit_code: Some(0),
        });
    }
    let plan = [(p.thread(200, 200, Some("MainThread")), worked, 300), (p.thread(201, 201, Some("MainThread")), parsed, 200), (p.thread(201, 202, Some("pool")), idled, 100)];
    for (thread, stack, count) in plan {
        for i in 0..count as u64 {
            p.push_sample(i * 10_000_000, thread, stack, FLAG_RUNNING | FLAG_GIL);
        }
    }
    p
}
