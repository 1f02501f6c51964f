//! A fault-injecting HTTP proxy on loopback, in front of the S3 server: it forwards requests as
//! they are (so SigV4 signatures still check), logs every request with what it returned, and
//! fails chosen ones (by operation, path and count) with an error status, a reset connection, a
//! stalled body, or holds them until released, so a test can kill trailpq at an exact request.
//!
//! It also makes conditional PUTs (`If-Match`, `If-None-Match`) atomic: s3s-fs checks the
//! condition and then writes, so two requests at once could both succeed; real S3 never lets
//! them. The proxy forwards such requests one at a time.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// What a request does, as S3 sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    List,
    Get,
    Head,
    Put,
    /// A PUT with `x-amz-copy-source` (object_store's copy and rename).
    Copy,
    Delete,
    Post,
    Other,
}

/// What the proxy does to a matching request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status and an S3 error body; the request never reaches the server.
    Status(u16),
    /// Close the connection abruptly (TCP reset) before forwarding.
    Reset,
    /// Forward, then send the headers and half the body, and stall until the client gives up.
    StallBody,
    /// Forward the request, then drop the connection without answering: done, but unconfirmed.
    LoseAnswer,
    /// Hold the request until [`Proxy::release`] (then forward it).
    Hold,
}

/// Which requests a fault applies to.
#[derive(Debug, Clone)]
pub struct Rule {
    pub op: Option<Op>,
    /// A substring of the decoded path and query (`/bucket/key?prefix=…`).
    pub path_contains: Option<String>,
    /// Matching requests let through before the fault applies.
    pub skip: usize,
    /// Matching requests the fault applies to after those (`usize::MAX`: all).
    pub times: usize,
    pub fault: Fault,
    seen: usize,
}

impl Rule {
    pub fn new(op: Option<Op>, path_contains: Option<&str>, fault: Fault) -> Self {
        Rule {
            op,
            path_contains: path_contains.map(str::to_string),
            skip: 0,
            times: usize::MAX,
            fault,
            seen: 0,
        }
    }

    pub fn skip(mut self, n: usize) -> Self {
        self.skip = n;
        self
    }

    pub fn times(mut self, n: usize) -> Self {
        self.times = n;
        self
    }

    fn matches(&self, request: &Request) -> bool {
        self.op.is_none_or(|op| op == request.op)
            && self
                .path_contains
                .as_ref()
                .is_none_or(|p| request.target.contains(p.as_str()))
    }
}

/// A request seen by the proxy.
#[derive(Debug, Clone)]
pub struct Request {
    pub op: Op,
    /// Decoded path and query.
    pub target: String,
    /// The status returned, or 0 when the proxy returned none.
    pub status: u16,
    /// `<Key>` entries in a LIST response.
    pub keys: usize,
    pub fault: Option<Fault>,
}

#[derive(Default)]
struct State {
    rules: Vec<Rule>,
    log: Vec<Request>,
    held: usize,
    released: u64,
}

struct Shared {
    upstream: u16,
    state: Mutex<State>,
    changed: Condvar,
    conditional: Mutex<()>,
}

pub struct Proxy {
    pub port: u16,
    shared: Arc<Shared>,
}

impl Proxy {
    /// Starts a proxy in front of `127.0.0.1:upstream`.
    pub fn start(upstream: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared {
            upstream,
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            conditional: Mutex::new(()),
        });
        let accept = shared.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let shared = accept.clone();
                std::thread::spawn(move || {
                    let _ = serve(&shared, client);
                });
            }
        });
        Proxy { port, shared }
    }

    /// `env` (an S3 server's) with the endpoint moved to the proxy.
    pub fn env(&self, env: &[(String, String)]) -> Vec<(String, String)> {
        env.iter()
            .map(|(k, v)| match k.as_str() {
                "AWS_ENDPOINT_URL" => (k.clone(), format!("http://127.0.0.1:{}", self.port)),
                _ => (k.clone(), v.clone()),
            })
            .collect()
    }

    pub fn add(&self, rule: Rule) {
        self.shared.state.lock().unwrap().rules.push(rule);
    }

    /// Removes every rule (held requests stay held until released).
    pub fn clear(&self) {
        self.shared.state.lock().unwrap().rules.clear();
    }

    /// The requests seen so far, in order.
    pub fn requests(&self) -> Vec<Request> {
        self.shared.state.lock().unwrap().log.clone()
    }

    pub fn reset_log(&self) {
        self.shared.state.lock().unwrap().log.clear();
    }

    /// Waits until at least one request is held; false if none came within `timeout`.
    pub fn wait_held(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.state.lock().unwrap();
        while state.held == 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            state = self.shared.changed.wait_timeout(state, left).unwrap().0;
        }
        true
    }

    /// Lets every held request go on.
    /// Kills `child` (SIGKILL) as soon as a request is held, or waits for it to end well: whether
    /// it was killed. Then the rules go and the held request is let through, late, as a request
    /// in flight when its process died.
    pub fn kill_when_held(&self, child: &mut std::process::Child, round: u32) -> bool {
        let killed = loop {
            if self.wait_held(Duration::from_millis(50)) {
                child.kill().unwrap();
                child.wait().unwrap();
                break true;
            }
            if let Some(status) = child.try_wait().unwrap() {
                assert!(status.success(), "round {round}: {status}");
                break false;
            }
        };
        self.clear();
        self.release();
        killed
    }

    pub fn release(&self) {
        let mut state = self.shared.state.lock().unwrap();
        state.released += 1;
        self.shared.changed.notify_all();
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.release();
    }
}

/// One parsed HTTP/1.1 message: the head's lines and the body.
struct Message {
    head: Vec<String>,
    body: Vec<u8>,
}

impl Message {
    fn header(&self, name: &str) -> Option<&str> {
        self.head[1..].iter().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then_some(value.trim())
        })
    }

    fn bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for line in &self.head {
            out.extend_from_slice(line.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.body);
        out
    }

    /// The message with the body re-framed by Content-Length (chunked bodies are decoded).
    fn framed(mut self) -> Self {
        self.head.retain(|l| {
            let name = l.split(':').next().unwrap_or("").trim();
            !name.eq_ignore_ascii_case("transfer-encoding")
                && !name.eq_ignore_ascii_case("content-length")
        });
        self.head
            .push(format!("content-length: {}", self.body.len()));
        self
    }
}

/// The proxy's side of its connection to the server. s3s-fs does not set TCP_NODELAY, so a
/// response whose body follows its head in a second segment would wait for the proxy's delayed
/// ACK (40 ms on Linux) on every request; acknowledging at once (TCP_QUICKACK, which the kernel
/// clears after each ACK, so it is set before each read) keeps the tests fast.
struct QuickAck(TcpStream);

impl Read for QuickAck {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        use std::os::fd::AsRawFd;
        let on: libc::c_int = 1;
        // SAFETY: a valid socket and a correctly sized option value.
        unsafe {
            libc::setsockopt(
                self.0.as_raw_fd(),
                libc::IPPROTO_TCP,
                libc::TCP_QUICKACK,
                (&on as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
        self.0.read(buf)
    }
}

/// Reads one message; `None` at a clean end of the connection.
fn read_message<R: Read>(
    reader: &mut BufReader<R>,
    head_request: bool,
) -> std::io::Result<Option<Message>> {
    let mut head = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return match head.is_empty() {
                true => Ok(None),
                false => Err(std::io::ErrorKind::UnexpectedEof.into()),
            };
        }
        let line = line.trim_end_matches(['\r', '\n']).to_string();
        if line.is_empty() {
            if head.is_empty() {
                continue;
            }
            break;
        }
        head.push(line);
    }
    let mut message = Message {
        head,
        body: Vec::new(),
    };
    let status = message.head[0]
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok());
    let is_response = message.head[0].starts_with("HTTP/");
    let no_body = is_response && (head_request || matches!(status, Some(100..=199 | 204 | 304)));
    if no_body {
        return Ok(Some(message));
    }
    if let Some(length) = message.header("content-length") {
        let length: usize = length.parse().unwrap_or(0);
        message.body.resize(length, 0);
        reader.read_exact(&mut message.body)?;
    } else if message
        .header("transfer-encoding")
        .is_some_and(|t| t.eq_ignore_ascii_case("chunked"))
    {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size)?;
            let size = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16)
                .unwrap_or(0);
            let mut chunk = vec![0; size + 2];
            if size == 0 {
                // Trailers, then the empty line.
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
                        break;
                    }
                }
                break;
            }
            reader.read_exact(&mut chunk)?;
            message.body.extend_from_slice(&chunk[..size]);
        }
        message = message.framed();
    } else if is_response {
        reader.read_to_end(&mut message.body)?;
    }
    Ok(Some(message))
}

fn classify(request: &Message) -> (String, Op, String) {
    let mut parts = request.head[0].split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let target = decode(parts.next().unwrap_or(""));
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let bucket_only = path.trim_matches('/').split('/').count() <= 1;
    let op = match method.as_str() {
        "GET" if query.contains("list-type") || bucket_only => Op::List,
        "GET" => Op::Get,
        "HEAD" => Op::Head,
        "PUT" if request.header("x-amz-copy-source").is_some() => Op::Copy,
        "PUT" => Op::Put,
        "DELETE" => Op::Delete,
        "POST" => Op::Post,
        _ => Op::Other,
    };
    (method, op, target)
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&text[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// An abrupt close: SO_LINGER 0 makes the kernel send RST.
fn reset(stream: &TcpStream) {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid socket and a correctly sized option value.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
    let _ = stream.shutdown(Shutdown::Both);
}

fn error_response(status: u16) -> Vec<u8> {
    let (reason, code) = match status {
        500 => ("Internal Server Error", "InternalError"),
        503 => ("Service Unavailable", "SlowDown"),
        403 => ("Forbidden", "AccessDenied"),
        _ => ("Error", "InjectedFault"),
    };
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>injected by the test proxy</Message></Error>"
    );
    format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/xml\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn serve(shared: &Shared, client: TcpStream) -> std::io::Result<()> {
    let mut from_client = BufReader::new(client.try_clone()?);
    let mut to_client = client;
    let mut upstream: Option<(TcpStream, BufReader<QuickAck>)> = None;
    to_client.set_nodelay(true)?;
    while let Some(request) = read_message(&mut from_client, false)? {
        let (method, op, target) = classify(&request);
        let mut seen = Request {
            op,
            target,
            status: 0,
            keys: 0,
            fault: None,
        };
        let fault = {
            let mut state = shared.state.lock().unwrap();
            let mut fault = None;
            for rule in state.rules.iter_mut() {
                if rule.matches(&seen) {
                    rule.seen += 1;
                    if fault.is_none()
                        && rule.seen > rule.skip
                        && rule.seen - rule.skip <= rule.times
                    {
                        fault = Some(rule.fault);
                    }
                }
            }
            fault
        };
        seen.fault = fault;
        let log = |seen: Request| shared.state.lock().unwrap().log.push(seen);
        match fault {
            Some(Fault::Status(status)) => {
                seen.status = status;
                log(seen);
                to_client.write_all(&error_response(status))?;
                continue;
            }
            Some(Fault::Reset) => {
                log(seen);
                reset(&to_client);
                return Ok(());
            }
            Some(Fault::Hold) => {
                let mut state = shared.state.lock().unwrap();
                let generation = state.released;
                state.held += 1;
                shared.changed.notify_all();
                while state.released == generation {
                    state = shared.changed.wait(state).unwrap();
                }
                state.held -= 1;
            }
            _ => {}
        }
        let conditional = method == "PUT"
            && (request.header("if-match").is_some() || request.header("if-none-match").is_some());
        let _serial = conditional.then(|| shared.conditional.lock().unwrap());
        let response = forward(shared, &mut upstream, &request, method == "HEAD");
        let Ok(response) = response else {
            log(seen);
            reset(&to_client);
            return Ok(());
        };
        drop(_serial);
        seen.status = response.head[0]
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        if op == Op::List {
            seen.keys = String::from_utf8_lossy(&response.body)
                .matches("<Key>")
                .count();
        }
        log(seen);
        match fault {
            Some(Fault::LoseAnswer) => {
                reset(&to_client);
                return Ok(());
            }
            Some(Fault::StallBody) => {
                let bytes = response.bytes();
                let cut = bytes.len() - response.body.len() / 2;
                to_client.write_all(&bytes[..cut])?;
                to_client.flush()?;
                // Wait for the client to give up (it closes the connection).
                to_client.set_read_timeout(Some(Duration::from_secs(120)))?;
                let mut sink = [0u8; 1024];
                while let Ok(n) = from_client.get_mut().read(&mut sink) {
                    if n == 0 {
                        break;
                    }
                }
                return Ok(());
            }
            _ => to_client.write_all(&response.bytes())?,
        }
    }
    Ok(())
}

/// Sends a request upstream (reconnecting if the kept-alive connection went away) and reads
/// the response.
fn forward(
    shared: &Shared,
    upstream: &mut Option<(TcpStream, BufReader<QuickAck>)>,
    request: &Message,
    head_request: bool,
) -> std::io::Result<Message> {
    for attempt in 0..2 {
        if upstream.is_none() {
            let stream = TcpStream::connect(("127.0.0.1", shared.upstream))?;
            stream.set_nodelay(true)?;
            let reader = BufReader::new(QuickAck(stream.try_clone()?));
            *upstream = Some((stream, reader));
        }
        let (stream, reader) = upstream.as_mut().unwrap();
        let sent = stream.write_all(&request.bytes());
        let response = sent.and_then(|()| read_message(reader, head_request));
        match response {
            Ok(Some(response)) => {
                if response
                    .header("connection")
                    .is_some_and(|c| c.eq_ignore_ascii_case("close"))
                {
                    *upstream = None;
                }
                return Ok(response);
            }
            _ if attempt == 0 => *upstream = None,
            Ok(None) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            Err(e) => return Err(e),
        }
    }
    unreachable!()
}
