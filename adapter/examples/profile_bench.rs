//! Figures for bench/profile.sh. Each mode runs in its own process so peak RSS is its own.
//!
//!   profile_bench write N FILE    synthetic profile of N samples (100k distinct stacks) → FILE,
//!                                 plus FILE.txt (collapsed) and FILE.speedscope.json
//!   profile_bench load FILE       load time, samples, peak RSS
//!   profile_bench tree N          call-tree / inverted-tree build time on N samples
use ember::profile::{call_tree, file, formats, inverted_tree, synth, Filter, Focus, Mode, ViewOptions};
use std::path::Path;
use std::time::{Duration, Instant};

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

fn shape(n: usize) -> synth::Shape {
    synth::Shape { samples: n, stacks: 100_000, max_depth: 500, ..Default::default() }
}

fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        let r = f();
        best = best.min(t.elapsed());
        last = Some(r);
    }
    (best, last.unwrap())
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize| args.get(i).cloned().unwrap_or_default();
    match arg(1).as_str() {
        "write" => {
            let n: usize = arg(2).parse()?;
            let path = Path::new(&args[3]);
            let p = synth::generate(&shape(n));
            let mut distinct = p.samples.stack.clone();
            distinct.sort_unstable();
            distinct.dedup();
            let t = Instant::now();
            file::save(path, &p)?;
            let save = t.elapsed();
            let size = std::fs::metadata(path)?.len();
            println!("samples={n} distinct_stacks={} stack_nodes={} threads={}", distinct.len(), p.stacks.len(), p.threads.len());
            println!("ember_bytes={size} ember_bytes_per_sample={:.2} save_s={:.3}", size as f64 / n as f64, save.as_secs_f64());
            if args.get(4).map(String::as_str) != Some("--no-others") {
                for (fmt, ext) in [(formats::Format::Collapsed, "txt"), (formats::Format::Speedscope, "speedscope.json")] {
                    let out = path.with_extension(ext);
                    formats::write(fmt, &p, &out)?;
                    let size = std::fs::metadata(&out)?.len();
                    println!("{}_bytes={size} {}_bytes_per_sample={:.2}", fmt.name(), fmt.name(), size as f64 / n as f64);
                }
            }
        }
        "load" => {
            let path = Path::new(&args[2]);
            let t = Instant::now();
            let p = file::load(path)?;
            let load = t.elapsed();
            println!("samples={} load_s={:.3} peak_rss_mb={:.1}", p.samples.len(), load.as_secs_f64(), peak_rss_mb());
        }
        "hold" => {
            // Building in memory (no file): what a live recording of N samples holds.
            let n: usize = arg(2).parse()?;
            let p = synth::generate(&shape(n));
            println!("samples={} peak_rss_mb={:.1}", p.samples.len(), peak_rss_mb());
        }
        "tree" => {
            let n: usize = arg(2).parse()?;
            let p = synth::generate(&shape(n));
            let all = ViewOptions::default();
            let (t_tree, tree) = best_of(5, || call_tree(&p, &all));
            println!("samples={n} call_tree_ms={:.1} nodes={}", t_tree.as_secs_f64() * 1e3, tree.nodes.len());
            let (t_inv, inv) = best_of(3, || inverted_tree(&p, &all));
            println!("inverted_tree_ms={:.1} nodes={}", t_inv.as_secs_f64() * 1e3, inv.nodes.len());
            let cpu = ViewOptions { filter: Filter { mode: Mode::Cpu, threads: Some(vec![0, 1]), time_ns: Some((0, u64::MAX / 2)) }, ..Default::default() };
            let (t_f, _) = best_of(5, || call_tree(&p, &cpu));
            println!("filtered_call_tree_ms={:.1}", t_f.as_secs_f64() * 1e3);
            let hot = tree.children_by_total(tree.children_by_total(0)[0])[0];
            let func = tree.node(hot).func;
            let focus = ViewOptions { focus: Some(Focus::Function(func)), ..Default::default() };
            let (t_focus, ft) = best_of(5, || call_tree(&p, &focus));
            println!("function_focus_call_tree_ms={:.1} focused_samples={}", t_focus.as_secs_f64() * 1e3, ft.total());
        }
        _ => anyhow::bail!("usage: profile_bench write N FILE | load FILE | hold N | tree N"),
    }
    Ok(())
}
