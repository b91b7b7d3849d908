//! Transports: one session on stdio, or one session per TCP connection on 127.0.0.1. SIGTERM
//! (nvim-dap sends it as soon as a session closes) asks every session to save and stop.

use super::log::Log;
use super::session;
use std::time::Duration;
use tokio::sync::watch;

/// Turns SIGTERM and SIGINT into a `true` on the returned channel.
fn on_signals(log: Log) -> std::io::Result<watch::Receiver<bool>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        tokio::select! {
            _ = term.recv() => log.line("--", "SIGTERM"),
            _ = int.recv() => log.line("--", "SIGINT"),
        }
        let _ = tx.send(true);
        // Keep the sender alive so sessions still see `true`.
        std::future::pending::<()>().await;
    });
    Ok(rx)
}

pub async fn serve_stdio(log: Log) -> std::io::Result<()> {
    let shutdown = on_signals(log.clone())?;
    session::serve(tokio::io::stdin(), tokio::io::stdout(), log, shutdown).await;
    Ok(())
}

/// Serves TCP until SIGTERM; `announce` gets the bound port (for `--port 0`).
pub async fn serve_tcp(port: u16, log: Log, announce: impl FnOnce(u16)) -> std::io::Result<()> {
    let mut shutdown = on_signals(log.clone())?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    announce(listener.local_addr()?.port());
    let mut sessions = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    log.line("--", &format!("connection from {peer}"));
                    let (r, w) = stream.into_split();
                    sessions.spawn(session::serve(r, w, log.clone(), shutdown.clone()));
                }
                Err(e) => log.error(&format!("accept: {e}")),
            },
            Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
            _ = shutdown.changed() => break,
        }
    }
    // Every session saves its profile on shutdown; give them time to.
    let _ = tokio::time::timeout(Duration::from_secs(10), async { while sessions.join_next().await.is_some() {} }).await;
    Ok(())
}
