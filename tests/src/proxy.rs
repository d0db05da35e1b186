//! A fault proxy: a TCP proxy between a real client and the real server that breaks HTTP/1.1
//! exchanges *inside* a connection, driven by a seeded RNG (or a script).
//!
//! The client keeps its connections alive as usual; for each request it sends, the proxy
//! reads the whole request (head and `Content-Length` body), opens a fresh connection to the
//! server, and then, by [`ProxyFault`]:
//! - [`ProxyFault::None`]: relays the request and its answer;
//! - [`ProxyFault::Drop`]: closes the client's connection; the server never sees the request;
//! - [`ProxyFault::DropResponse`]: the server handles it (and commits), the answer is lost;
//! - [`ProxyFault::Truncate`]: the answer's head and part of its body (part of the head
//!   when it has no body), then a clean close;
//! - [`ProxyFault::Reset`]: the same cut, then a TCP reset;
//! - [`ProxyFault::Duplicate`]: the request goes to the server twice, concurrently; the
//!   client gets one of the answers;
//! - [`ProxyFault::BadGateway`]: `502` instead of the server's answer, the request having
//!   been delivered or not (the RNG decides; a script delivers it).
//!
//! Faults come first from [`FaultProxy::script`], then at random with the probability set
//! by [`FaultProxy::set_rate`] (0 by default). [`FaultProxy::seen`] counts what happened.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, bail};
use rand::{Rng, SeedableRng, rngs::StdRng};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy does with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProxyFault {
    None,
    Drop,
    DropResponse,
    Truncate,
    Reset,
    Duplicate,
    BadGateway,
}

impl ProxyFault {
    /// Every fault (not [`ProxyFault::None`]).
    pub const FAULTS: [ProxyFault; 6] = [
        ProxyFault::Drop,
        ProxyFault::DropResponse,
        ProxyFault::Truncate,
        ProxyFault::Reset,
        ProxyFault::Duplicate,
        ProxyFault::BadGateway,
    ];
}

struct Control {
    rng: StdRng,
    /// Probability of a random fault per request, in per mille.
    rate: u32,
    script: VecDeque<ProxyFault>,
    seen: BTreeMap<ProxyFault, u64>,
}

impl Control {
    /// The next request's fault, and a coin for the fault's variant.
    fn next(&mut self) -> (ProxyFault, bool, f64) {
        let (fault, scripted) = match self.script.pop_front() {
            Some(f) => (f, true),
            None if self.rate > 0 && self.rng.random_range(0..1000) < self.rate => {
                let i = self.rng.random_range(0..ProxyFault::FAULTS.len());
                (ProxyFault::FAULTS[i], false)
            }
            None => (ProxyFault::None, false),
        };
        // A scripted 502 is always sent after delivering (the server committed).
        let coin = scripted || self.rng.random_bool(0.5);
        let cut = self.rng.random_range(0.0..1.0);
        *self.seen.entry(fault).or_default() += 1;
        (fault, coin, cut)
    }
}

/// The proxy, listening on 127.0.0.1 until dropped.
pub struct FaultProxy {
    /// `http://127.0.0.1:<port>`: give this to the client instead of the server's URL.
    pub url: String,
    control: Arc<Mutex<Control>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultProxy {
    /// A proxy to `upstream` (`http://host:port`), its random faults seeded by `seed`.
    pub async fn start(upstream: &str, seed: u64) -> Result<FaultProxy> {
        let upstream: SocketAddr = upstream
            .strip_prefix("http://")
            .context("the upstream is http://host:port")?
            .trim_end_matches('/')
            .parse()
            .context("the upstream is http://host:port")?;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let control = Arc::new(Mutex::new(Control {
            rng: StdRng::seed_from_u64(seed),
            rate: 0,
            script: VecDeque::new(),
            seen: BTreeMap::new(),
        }));
        let c = control.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let c = c.clone();
                tokio::spawn(async move {
                    // A connection ends when either side closes it or a fault ends it.
                    let _ended = serve(client, upstream, &c).await;
                });
            }
        });
        Ok(FaultProxy { url, control, task })
    }

    /// Random faults from now on: `per_mille` of requests (0 stops them).
    pub fn set_rate(&self, per_mille: u32) {
        self.lock().rate = per_mille.min(1000);
    }

    /// These faults for the next requests, in order, before any random ones.
    pub fn script(&self, faults: impl IntoIterator<Item = ProxyFault>) {
        self.lock().script.extend(faults);
    }

    /// Drops what is left of the script.
    pub fn clear_script(&self) {
        self.lock().script.clear();
    }

    /// How many requests met each fault (and [`ProxyFault::None`]) so far.
    pub fn seen(&self) -> BTreeMap<ProxyFault, u64> {
        self.lock().seen.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Control> {
        // A panicking test thread cannot leave the counters half-written.
        self.control
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// One HTTP/1.1 message as read off a socket: head (with its blank line) and body.
struct Message {
    head: Vec<u8>,
    /// A chunked body is kept in its raw chunked encoding and relayed as is.
    body: Vec<u8>,
    /// The message said `Connection: close`.
    close: bool,
}

async fn serve(
    mut client: TcpStream,
    upstream: SocketAddr,
    control: &Mutex<Control>,
) -> Result<()> {
    let mut buf = Vec::new();
    loop {
        let Some(req) = read_message(&mut client, &mut buf, true).await? else {
            return Ok(());
        };
        let (fault, coin, cut) = control
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .next();
        let resp = match fault {
            ProxyFault::Drop => return Ok(()),
            ProxyFault::BadGateway if !coin => None,
            ProxyFault::Duplicate => {
                let first = tokio::spawn(exchange(upstream, req.head.clone(), req.body.clone()));
                let second = exchange(upstream, req.head.clone(), req.body.clone()).await;
                let first = first.await?;
                // The client gets whichever answer it would have got last.
                Some(second.or(first)?)
            }
            _ => Some(exchange(upstream, req.head.clone(), req.body.clone()).await?),
        };
        match fault {
            ProxyFault::None | ProxyFault::Duplicate => {
                let resp = resp.context("delivered")?;
                client.write_all(&resp.head).await?;
                client.write_all(&resp.body).await?;
                if resp.close || req.close {
                    return Ok(());
                }
            }
            ProxyFault::Drop | ProxyFault::DropResponse => return Ok(()),
            ProxyFault::BadGateway => {
                client
                    .write_all(
                        b"HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/plain\r\n\
                          content-length: 11\r\nconnection: close\r\n\r\nBad Gateway",
                    )
                    .await?;
                return Ok(());
            }
            ProxyFault::Truncate | ProxyFault::Reset => {
                let resp = resp.context("delivered")?;
                // Some of the body, never all of it; an empty body is cut inside the head.
                if resp.body.is_empty() {
                    let n = (resp.head.len() as f64 * cut) as usize;
                    client
                        .write_all(&resp.head[..n.min(resp.head.len() - 1)])
                        .await?;
                } else {
                    client.write_all(&resp.head).await?;
                    let n = (resp.body.len() as f64 * cut) as usize;
                    client
                        .write_all(&resp.body[..n.min(resp.body.len() - 1)])
                        .await?;
                }
                client.flush().await?;
                if fault == ProxyFault::Reset {
                    reset(client);
                }
                return Ok(());
            }
        }
    }
}

/// Closes with a TCP reset (RST) instead of a FIN.
fn reset(stream: TcpStream) {
    // Without the zero linger the close would be a FIN; either way the connection ends.
    let _zero = stream.set_zero_linger();
    drop(stream);
}

/// Sends one request on a fresh connection to the server and reads its whole answer.
async fn exchange(upstream: SocketAddr, head: Vec<u8>, body: Vec<u8>) -> Result<Message> {
    let mut s = TcpStream::connect(upstream).await?;
    s.write_all(&head).await?;
    s.write_all(&body).await?;
    let mut buf = Vec::new();
    match read_message(&mut s, &mut buf, false).await? {
        Some(m) => Ok(m),
        None => bail!("the server closed the connection without answering"),
    }
}

/// Reads one message; `None` when the peer closed before sending anything. `buf` keeps
/// what was read past the message (a pipelined next request).
async fn read_message<S: AsyncRead + Unpin>(
    s: &mut S,
    buf: &mut Vec<u8>,
    request: bool,
) -> Result<Option<Message>> {
    let head_end = loop {
        if let Some(i) = find(buf, b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > 64 * 1024 {
            bail!("a head of over 64 KiB");
        }
        if !fill(s, buf).await? {
            if buf.is_empty() {
                return Ok(None);
            }
            bail!("the connection closed inside a head");
        }
    };
    let head: Vec<u8> = buf.drain(..head_end).collect();
    let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
    let header = |name: &str| {
        text.lines()
            .skip(1)
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
            .map(|v| v.trim().to_owned())
    };
    let close = header("connection").is_some_and(|v| v == "close");
    let chunked = header("transfer-encoding").is_some_and(|v| v.contains("chunked"));
    let status_has_no_body = !request
        && text
            .split_whitespace()
            .nth(1)
            .is_some_and(|s| s.starts_with('1') || s == "204" || s == "304");
    let body = if status_has_no_body {
        Vec::new()
    } else if chunked {
        read_chunked(s, buf).await?
    } else if let Some(len) = header("content-length") {
        let len: usize = len.parse().context("a bad content-length")?;
        while buf.len() < len {
            if !fill(s, buf).await? {
                bail!("the connection closed inside a body");
            }
        }
        buf.drain(..len).collect()
    } else if request {
        Vec::new()
    } else {
        // An answer without a length ends with its connection.
        while fill(s, buf).await? {}
        std::mem::take(buf)
    };
    Ok(Some(Message { head, body, close }))
}

/// The raw chunked body, up to and including the last chunk and its trailer.
async fn read_chunked<S: AsyncRead + Unpin>(s: &mut S, buf: &mut Vec<u8>) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = loop {
            if let Some(i) = find(buf, b"\r\n") {
                break i + 2;
            }
            if !fill(s, buf).await? {
                bail!("the connection closed inside a chunk");
            }
        };
        let line: Vec<u8> = buf.drain(..line_end).collect();
        let size_text = String::from_utf8_lossy(&line);
        let size =
            usize::from_str_radix(size_text.trim().split(';').next().unwrap_or("").trim(), 16)
                .context("a bad chunk size")?;
        out.extend_from_slice(&line);
        if size == 0 {
            // Trailers, up to the blank line.
            loop {
                let end = loop {
                    if let Some(i) = find(buf, b"\r\n") {
                        break i + 2;
                    }
                    if !fill(s, buf).await? {
                        bail!("the connection closed inside a trailer");
                    }
                };
                let l: Vec<u8> = buf.drain(..end).collect();
                out.extend_from_slice(&l);
                if l == b"\r\n" {
                    return Ok(out);
                }
            }
        }
        while buf.len() < size + 2 {
            if !fill(s, buf).await? {
                bail!("the connection closed inside a chunk");
            }
        }
        out.extend(buf.drain(..size + 2));
    }
}

/// Reads more into `buf`; false at the end of the stream.
async fn fill<S: AsyncRead + Unpin>(s: &mut S, buf: &mut Vec<u8>) -> Result<bool> {
    let mut chunk = [0u8; 16 * 1024];
    let n = s.read(&mut chunk).await?;
    buf.extend_from_slice(&chunk[..n]);
    Ok(n > 0)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
