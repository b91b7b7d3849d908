//! The Language Server Protocol server: inline timings (inlay hints, code lenses, hovers,
//! optional diagnostics) from the workspace's latest profile, linked with the flamegraph page.

pub mod document;
pub mod render;
pub mod server;
pub mod settings;
pub mod workspace;

use async_lsp::client_monitor::ClientProcessMonitorLayer;
use async_lsp::concurrency::ConcurrencyLayer;
use async_lsp::panic::CatchUnwindLayer;
use async_lsp::server::LifecycleLayer;
use tower::ServiceBuilder;

/// Serves one client on stdin/stdout until it sends `exit` or closes the pipe.
pub async fn serve_stdio(web_port: u16) -> anyhow::Result<()> {
    let (main_loop, _) = async_lsp::MainLoop::new_server(|client| {
        ServiceBuilder::new()
            .layer(LifecycleLayer::default())
            .layer(CatchUnwindLayer::default())
            .layer(ConcurrencyLayer::default())
            .layer(ClientProcessMonitorLayer::new(client.clone()))
            .service(server::router(client, web_port))
    });
    // Pipes (what editors give) are read without blocking a thread; anything else (a file, a
    // terminal, /dev/null) through tokio's blocking stdio.
    // (The locks of a half success are released before the fallback takes stdio.)
    let pipes = match (async_lsp::stdio::PipeStdin::lock_tokio(), async_lsp::stdio::PipeStdout::lock_tokio()) {
        (Ok(stdin), Ok(stdout)) => Some((stdin, stdout)),
        _ => None,
    };
    let result = match pipes {
        Some((stdin, stdout)) => main_loop.run_buffered(stdin, stdout).await,
        None => {
            use tokio_util::compat::{TokioAsyncReadCompatExt, TokioAsyncWriteCompatExt};
            main_loop.run_buffered(tokio::io::stdin().compat(), tokio::io::stdout().compat_write()).await
        }
    };
    match result {
        // The editor closed the pipe without `exit`: it is gone, nothing to report.
        Err(async_lsp::Error::Eof) | Ok(()) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
