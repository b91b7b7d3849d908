//! The local web server and the flamegraph page (adapter/web/, embedded in the binary).
//!
//! Contract used by the CLI, the DAP server and the LSP server:
//! `WebServer::start(WebOptions, SharedProfile)` binds 127.0.0.1, returns the URL with its
//! random token, serves the page (live when the profile grows), and reports what the user does
//! in the page through `WebServer::events` (focus changes, clicks on a frame's source).

use crate::live::SharedProfile;
use crate::profile::{FrameId, FuncId};
use tokio::sync::mpsc;

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
}

pub struct WebServer {
    /// `http://127.0.0.1:PORT/?token=...`
    pub url: String,
    pub port: u16,
    pub events: mpsc::Receiver<PageEvent>,
}

impl WebServer {
    pub async fn start(_opts: WebOptions, _profile: SharedProfile) -> anyhow::Result<WebServer> {
        anyhow::bail!("the web server is not built yet")
    }
}

/// Opens `url` in the user's browser (xdg-open), without waiting for it.
pub fn open_browser(url: &str) {
    if let Err(e) = std::process::Command::new("xdg-open").arg(url).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).spawn() {
        eprintln!("ember: could not open a browser ({e}); open {url} yourself");
    }
}
