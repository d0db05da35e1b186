//! The engine's HTTP seam. Every call the engine makes to the central service goes through
//! one [`Transport::send`], so a test can put a [`FaultyTransport`] in front of the real
//! [`HttpTransport`] and drop requests, drop responses after the server committed, or send
//! a request twice, against the real server.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rapport_domain::sync::{PROTOCOL_HEADER, PROTOCOL_VERSION};

/// A boxed future, so transports can be used as `dyn Transport`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Delete,
}

/// One request to the service: a path with its query (`/v1/sync/pull?cursor=...`), an
/// optional bearer token and an optional JSON body.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    pub method: Method,
    pub path: String,
    pub token: Option<String>,
    pub body: Option<Vec<u8>>,
}

#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub body: Vec<u8>,
}

/// The request never got an answer: the network is down, the server is not there, or
/// the answer was lost. The engine treats every such failure as "offline, retry later".
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct TransportError(pub String);

pub trait Transport: Send + Sync {
    fn send(&self, req: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, TransportError>>;
}

/// The real transport: reqwest over HTTP to `base_url` (e.g. `http://127.0.0.1:8080`).
#[derive(Debug, Clone)]
pub struct HttpTransport {
    client: reqwest::Client,
    base_url: String,
}

impl HttpTransport {
    pub fn new(base_url: &str) -> Result<Self, TransportError> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| TransportError(format!("HTTP client: {e}")))?;
        Ok(HttpTransport {
            client,
            base_url: base_url.trim_end_matches('/').to_owned(),
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Opens the server's event stream (`GET /v1/sync/events`); see [`EventStream`]. Not
    /// part of [`Transport`]: events only ever trigger a pull, which goes through it.
    pub async fn events(&self, token: &str) -> Result<EventStream, TransportError> {
        let resp = self
            .client
            .get(format!("{}/v1/sync/events", self.base_url))
            .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
            .bearer_auth(token)
            .timeout(Duration::from_secs(60 * 60 * 24 * 365))
            .send()
            .await
            .map_err(|e| TransportError(describe(&e)))?;
        if !resp.status().is_success() {
            return Err(TransportError(format!(
                "event stream answered {}",
                resp.status()
            )));
        }
        Ok(EventStream {
            resp,
            buf: String::new(),
        })
    }
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_connect() {
        "the server cannot be reached".to_owned()
    } else if e.is_timeout() {
        "the server did not answer in time".to_owned()
    } else {
        // reqwest's Display names the URL, never headers: the token is not in it.
        format!("network error: {e}")
    }
}

impl Transport for HttpTransport {
    fn send(&self, req: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, TransportError>> {
        Box::pin(async move {
            let url = format!("{}{}", self.base_url, req.path);
            let mut b = match req.method {
                Method::Get => self.client.get(url),
                Method::Post => self.client.post(url),
                Method::Delete => self.client.delete(url),
            }
            .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string());
            if let Some(t) = &req.token {
                b = b.bearer_auth(t);
            }
            if let Some(body) = req.body {
                b = b.header("content-type", "application/json").body(body);
            }
            let resp = b.send().await.map_err(|e| TransportError(describe(&e)))?;
            let status = resp.status().as_u16();
            let body = resp
                .bytes()
                .await
                .map_err(|e| TransportError(describe(&e)))?
                .to_vec();
            Ok(HttpResponse { status, body })
        })
    }
}

/// The server's event stream: [`EventStream::next`] yields each event's name (`ready`,
/// `changes`); `None` when the stream ended.
pub struct EventStream {
    resp: reqwest::Response,
    buf: String,
}

impl EventStream {
    pub async fn next(&mut self) -> Option<String> {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let name = block
                    .lines()
                    .find_map(|l| l.strip_prefix("event:"))
                    .map(|n| n.trim().to_owned());
                match name {
                    Some(n) => return Some(n),
                    None => continue, // a keep-alive comment
                }
            }
            match self.resp.chunk().await {
                Ok(Some(bytes)) => self
                    .buf
                    .push_str(&String::from_utf8_lossy(&bytes).replace("\r\n", "\n")),
                Ok(None) | Err(_) => return None,
            }
        }
    }
}

/// What a [`FaultyTransport`] does with the next request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Deliver it and its answer.
    None,
    /// The request never reaches the server.
    DropRequest,
    /// The server handles it (and commits), but the answer is lost.
    DropResponse,
    /// The request is delivered twice; the client sees the second answer.
    Duplicate,
}

/// A transport that injects the next faults of a script (then delivers normally), for
/// tests against the real server.
pub struct FaultyTransport {
    inner: Arc<dyn Transport>,
    script: Mutex<std::collections::VecDeque<Fault>>,
}

impl FaultyTransport {
    pub fn new(inner: Arc<dyn Transport>) -> Self {
        FaultyTransport {
            inner,
            script: Mutex::new(std::collections::VecDeque::new()),
        }
    }

    /// Queues faults for the next requests, one per request, in order.
    pub fn inject(&self, faults: impl IntoIterator<Item = Fault>) {
        if let Ok(mut s) = self.script.lock() {
            s.extend(faults);
        }
    }

    /// Forgets the faults not used yet.
    pub fn clear(&self) {
        if let Ok(mut s) = self.script.lock() {
            s.clear();
        }
    }

    fn next_fault(&self) -> Fault {
        self.script
            .lock()
            .ok()
            .and_then(|mut s| s.pop_front())
            .unwrap_or(Fault::None)
    }
}

impl Transport for FaultyTransport {
    fn send(&self, req: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, TransportError>> {
        Box::pin(async move {
            match self.next_fault() {
                Fault::None => self.inner.send(req).await,
                Fault::DropRequest => Err(TransportError("injected: request dropped".into())),
                Fault::DropResponse => {
                    let _ = self.inner.send(req).await;
                    Err(TransportError("injected: response dropped".into()))
                }
                Fault::Duplicate => {
                    let _ = self.inner.send(req.clone()).await;
                    self.inner.send(req).await
                }
            }
        })
    }
}
