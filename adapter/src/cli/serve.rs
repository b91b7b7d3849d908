//! `ember serve FILE...`: the interactive flamegraph of saved profiles on 127.0.0.1.
//! The first file is shown; the page switches to the others or compares with them.
//! The page's events (open a source line, focus) are printed as JSON lines on stdout so a
//! script or an editor without the LSP server can follow them.

use crate::live::SharedProfile;
use crate::profile::formats;
use crate::web::{self, PageEvent, Served, WebOptions, WebServer};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Profile files: .ember, or any format `ember convert` reads (collapsed, speedscope,
    /// perf script, Austin). The first is shown; the page can switch to or compare with the others.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Open the page in the browser.
    #[arg(long)]
    pub open: bool,
    /// Project folder: relative source paths resolve against it, and its files are coloured
    /// as "project" (default: the current directory).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut served = Vec::new();
    for path in &args.files {
        let profile = formats::read(path)?;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string());
        served.push(Served { name, shared: SharedProfile::fixed(profile).0 });
    }
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    rt.block_on(async move {
        let mut server = WebServer::start_many(WebOptions { port: args.port }, served, args.root).await?;
        println!("{}", server.url);
        eprintln!("ember: serving {} profile(s) at {} (Ctrl-C to stop)", args.files.len(), server.url);
        std::io::stdout().flush()?;
        if args.open {
            web::open_browser(&server.url);
        }
        loop {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => break,
                ev = server.events.recv() => match ev {
                    Some(ev) => print_event(&ev)?,
                    None => break,
                },
            }
        }
        server.stop();
        Ok(ExitCode::SUCCESS)
    })
}

fn print_event(ev: &PageEvent) -> anyhow::Result<()> {
    let line = match ev {
        PageEvent::OpenSource { file, line } => serde_json::json!({ "open": { "file": file, "line": line } }),
        PageEvent::Focus(f) => serde_json::json!({ "focus": format!("{f:?}") }),
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()?;
    Ok(())
}
