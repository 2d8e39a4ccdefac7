//! An HTTP receiver that records every request it gets: a stand-in for a
//! Slack incoming webhook, a generic webhook, or a Prometheus Pushgateway.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};

/// One request as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub content_type: Option<String>,
    pub body: String,
}

#[derive(Default)]
struct Shared {
    received: Vec<Received>,
    /// Statuses to answer with before answering 200 again.
    failures: Vec<u16>,
    /// When set, every request is answered 307 to this URL.
    redirect_to: Option<String>,
}

/// A running receiver; stops when dropped.
pub struct Receiver {
    addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

async fn record(
    State(shared): State<Arc<Mutex<Shared>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut s = shared.lock().unwrap();
    s.received.push(Received {
        method: method.to_string(),
        path: uri.path().to_string(),
        content_type: headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(String::from),
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    if let Some(to) = &s.redirect_to {
        return (StatusCode::TEMPORARY_REDIRECT, [("location", to.clone())]).into_response();
    }
    if s.failures.is_empty() {
        StatusCode::OK.into_response()
    } else {
        StatusCode::from_u16(s.failures.remove(0))
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            .into_response()
    }
}

impl Receiver {
    pub fn start() -> Receiver {
        let shared = Arc::new(Mutex::new(Shared::default()));
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (shutdown, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
        let state = shared.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                let app = Router::new().fallback(record).with_state(state);
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = shutdown_rx.await;
                    })
                    .await
                    .unwrap();
            });
        });
        let addr = addr_rx.recv().expect("receiver started");
        Receiver {
            addr,
            shared,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT` followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.lock().unwrap().received.clone()
    }

    /// Requests received at `path`.
    pub fn at(&self, path: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }

    /// Answers every request from now on with a 307 to `url`, as a
    /// hijacked or misconfigured endpoint might.
    pub fn redirect_all_to(&self, url: &str) {
        self.shared.lock().unwrap().redirect_to = Some(url.to_string());
    }

    /// Answers the next requests with these statuses, in order, then 200 again.
    pub fn fail_next(&self, statuses: &[u16]) {
        self.shared
            .lock()
            .unwrap()
            .failures
            .extend_from_slice(statuses);
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
