//! The local web server and the flamegraph page (adapter/web/, embedded in the binary).
//!
//! Contract used by the CLI, the DAP server and the LSP server:
//! `WebServer::start(WebOptions, SharedProfile)` binds 127.0.0.1, returns the URL with its
//! random token, serves the page (live when the profile grows), and reports what the user does
//! in the page through `WebServer::events` (focus changes, clicks on a frame's source); the
//! editor's own focus command reaches open pages through `WebServer::clear_focus`.
//! `WebServer::start_many` serves several profiles (the page switches and compares them).

mod api;
mod assets;
mod encode;
pub mod origin;
mod security;

use crate::live::SharedProfile;
use crate::profile::{FrameId, FuncId, Profile, StackId, NO_PARENT};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::{mpsc, watch, Notify};

#[derive(Debug, Clone, Default)]
pub struct WebOptions {
    /// 0 picks a free port.
    pub port: u16,
}

/// What the user did in the page that an editor may want to follow.
#[derive(Debug, Clone, PartialEq)]
pub enum PageEvent {
    /// The flamegraph's zoom/focus changed. None = whole profile.
    Focus(Option<Focus>),
    /// Ctrl/Cmd-click on a frame: open this source location.
    OpenSource { file: String, line: u32 },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Focus {
    /// A call path from the root, root first: samples whose stack starts with it.
    Path(Vec<FrameId>),
    /// Every call of one function (merged, as "set as root").
    Function(FuncId),
    /// A call path from the root as functions, root first (the page merges the lines of a
    /// function into one frame, so its zoom is a function path): samples whose stack's
    /// functions start with it.
    FunctionPath(Vec<FuncId>),
}

impl Focus {
    /// Whether a sample with this stack falls inside the focus. Views that filter by focus
    /// (the LSP's inline timings) use this rather than matching the variants themselves.
    pub fn matches(&self, profile: &Profile, stack: StackId) -> bool {
        if stack == NO_PARENT {
            return false;
        }
        match self {
            Focus::Function(f) => {
                profile.stack_frames(stack).any(|fr| profile.frames[fr as usize].func == *f)
            }
            Focus::Path(path) => {
                let frames: Vec<FrameId> = profile.stack_frames(stack).collect();
                frames.len() >= path.len() && frames.iter().rev().zip(path).all(|(a, b)| a == b)
            }
            Focus::FunctionPath(path) => {
                let frames: Vec<FrameId> = profile.stack_frames(stack).collect();
                frames.len() >= path.len()
                    && frames.iter().rev().zip(path).all(|(a, b)| profile.frames[*a as usize].func == *b)
            }
        }
    }
}

pub struct WebServer {
    /// `http://127.0.0.1:PORT/?token=...`
    pub url: String,
    pub port: u16,
    pub events: mpsc::Receiver<PageEvent>,
    /// Counts the editor's "clear focus" commands; each open page resets its zoom when it moves.
    focus_cleared: watch::Sender<u64>,
    shutdown: Arc<Notify>,
}

/// One profile served by the page, with the name the page shows for it.
#[derive(Clone)]
pub struct Served {
    pub name: String,
    pub shared: SharedProfile,
}

impl WebServer {
    /// Serves one profile; relative source paths resolve against the current directory.
    pub async fn start(opts: WebOptions, profile: SharedProfile) -> anyhow::Result<WebServer> {
        Self::start_in(opts, profile, None).await
    }

    /// Serves one profile of the project at `root` (the workspace): relative source paths
    /// resolve against it and its files are coloured as "project". None = current directory.
    pub async fn start_in(opts: WebOptions, profile: SharedProfile, root: Option<PathBuf>) -> anyhow::Result<WebServer> {
        let name = profile.profile.read().unwrap().meta.command_line.join(" ");
        let name = if name.is_empty() { "profile".to_string() } else { name };
        Self::start_many(opts, vec![Served { name, shared: profile }], root).await
    }

    /// Serves several profiles; the page opens the first and can switch to or compare with
    /// the others (`?p=INDEX`).
    pub async fn start_many(opts: WebOptions, profiles: Vec<Served>, root: Option<PathBuf>) -> anyhow::Result<WebServer> {
        anyhow::ensure!(!profiles.is_empty(), "no profile to serve");
        let listener = tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, opts.port)))
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on 127.0.0.1:{}: {e} (pick another --port, or 0 for any free port)", opts.port))?;
        let port = listener.local_addr()?.port();
        let token = security::new_token()?;
        let root = match root {
            Some(r) => r,
            None => std::env::current_dir()?,
        };
        let (tx, events) = mpsc::channel(256);
        let (focus_cleared, cleared) = watch::channel(0);
        let state = Arc::new(api::State { token: token.clone(), port, root, profiles, events: tx, focus_cleared: cleared });
        let app = api::router(state);
        let shutdown = Arc::new(Notify::new());
        let stop = shutdown.clone();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).with_graceful_shutdown(async move { stop.notified().await }).await;
        });
        Ok(WebServer { url: format!("http://127.0.0.1:{port}/?token={token}"), port, events, focus_cleared, shutdown })
    }

    /// The editor cleared its focus (`ember.clearFocus`): open pages zoom out to the whole
    /// profile, so the page and the inline timings show the same samples again. Pages do not
    /// echo it back as a focus event; the editor already knows.
    pub fn clear_focus(&self) {
        self.focus_cleared.send_modify(|n| *n += 1);
    }

    /// The page's URL opened on one function ("function as root", or its sandwich of callers
    /// and callees): what an editor's code lens opens. `file` may be absolute or relative.
    pub fn url_for_function(&self, file: &str, name: &str, sandwich: bool) -> String {
        function_url(&self.url, file, name, sandwich)
    }

    /// The page's URL showing the first served profile (NEW) against served profile `base`
    /// (BASE) in the differential view: what `ember diff BASE NEW` opens.
    pub fn url_for_diff(&self, base: usize) -> String {
        format!("{}&base={base}", self.url)
    }

    /// Stops accepting connections (open SSE streams end with the runtime).
    pub fn stop(&self) {
        self.shutdown.notify_one();
    }
}

/// [`WebServer::url_for_function`] from the page's URL alone (a server not at hand yet).
pub fn function_url(page: &str, file: &str, name: &str, sandwich: bool) -> String {
    let mut url = format!("{page}&file={}&function={}", query_escape(file), query_escape(name));
    if sandwich {
        url.push_str("&view=sandwich");
    }
    url
}

/// Percent-encodes a query value (everything but unreserved characters).
fn query_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Opens `url` in the user's browser (`$BROWSER`, else the platform's opener) without
/// waiting for it; if none can be started, says so and asks the user to open it.
pub fn open_browser(url: &str) {
    let mut cmd = if let Ok(b) = std::env::var("BROWSER") {
        let mut c = std::process::Command::new(b);
        c.arg(url);
        c
    } else if cfg!(target_os = "macos") {
        let mut c = std::process::Command::new("open");
        c.arg(url);
        c
    } else if cfg!(windows) {
        let mut c = std::process::Command::new("cmd");
        c.args(["/C", "start", "", url]);
        c
    } else {
        let mut c = std::process::Command::new("xdg-open");
        c.arg(url);
        c
    };
    cmd.stdin(std::process::Stdio::null()).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
    if let Err(e) = cmd.spawn() {
        eprintln!("ember: could not open a browser ({:?}: {e}); open {url} yourself", cmd.get_program());
    }
}
