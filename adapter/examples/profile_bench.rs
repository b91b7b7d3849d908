//! Figures for bench/profile.sh: file size per sample, load time, memory, call-tree build time.
//! Usage: profile_bench size|load FILE|... (see bench/profile.sh).
use ember::profile::{file, synth};
use std::time::Instant;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("size") => {
            let n: usize = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(1_000_000);
            let t = Instant::now();
            let p = synth::generate(&synth::Shape { samples: n, ..Default::default() });
            eprintln!("generated in {:?}", t.elapsed());
            let dir = tempfile::tempdir()?;
            let path = dir.path().join("p.ember");
            let t = Instant::now();
            file::save(&path, &p)?;
            let save = t.elapsed();
            let size = std::fs::metadata(&path)?.len();
            let t = Instant::now();
            let q = file::load(&path)?;
            let load = t.elapsed();
            assert_eq!(q.samples.len(), n);
            if std::env::var_os("KEEP").is_some() { std::fs::copy(&path, "/tmp/bench.ember")?; }
            println!("samples {n} bytes {size} bytes/sample {:.2} save {:?} load {:?}", size as f64 / n as f64, save, load);
        }
        _ => anyhow::bail!("usage: profile_bench size [N]"),
    }
    Ok(())
}
