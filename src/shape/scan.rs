//! A streaming structural scanner: finds the records in a JSON log file without holding the file.
//!
//! Input arrives in chunks of any size. The scanner understands just enough JSON to find *items*:
//! the elements of a top-level `{"Records": [...]}` or `{"Events": [...]}` wrapper, the elements of
//! a top-level array, and top-level values themselves (one object, NDJSON, concatenated JSON). Each
//! item is handed out as one contiguous byte slice, borrowed from the chunk when it lies inside one.
//! Items are not validated here; the flattener parses each one fully. The scanner validates the
//! structure around items (commas, brackets, the wrapper) and enforces the size and depth limits,
//! so no input can make it hold more than one item or recurse at all.

use std::ops::ControlFlow;

use super::json::is_ws;

/// What items are elements of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    /// `{"Records": [...]}`: the CloudTrail S3 delivery format.
    Records,
    /// `{"Events": [...]}`: the output of `aws cloudtrail lookup-events`.
    Events,
    /// A top-level JSON array.
    Array,
    /// Top-level values: a single record, NDJSON, or concatenated JSON.
    Stream,
}

/// Why an item was not handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// Larger than [`Limits::max_item_bytes`]; `bytes` is its full size.
    TooLarge { bytes: u64 },
    /// Nested deeper than [`Limits::max_depth`].
    TooDeep,
}

#[derive(Debug)]
pub enum Event<'a> {
    /// A wrapper or a top-level array opened; its elements follow as items.
    Open(Container),
    /// One complete item.
    Item {
        container: Container,
        bytes: &'a [u8],
        /// The wrapper keys among the item's own keys.
        markers: Markers,
    },
    /// An item that broke a limit; its bytes were skipped.
    Rejected { why: Rejection },
    /// Members that followed the array inside a wrapper, as a JSON object (`{"NextToken": …}`);
    /// empty when they were too large to keep.
    Tail(&'a [u8]),
}

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_item_bytes: usize,
    pub max_depth: usize,
}

/// A structural error, with the byte offset in the (decompressed) input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanError {
    pub offset: u64,
    pub message: String,
}

impl std::fmt::Display for ScanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid JSON at byte {}: {}", self.offset, self.message)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between top-level values.
    Top,
    /// After a top-level `{`, before its first key.
    FirstKey,
    /// Inside the first key of a top-level object.
    InFirstKey,
    /// After the first key, before `:`.
    FirstColon,
    /// After `"key":`, before the value.
    FirstValue,
    /// After `[` (or `,` when `after_comma`), before an element.
    Element { after_comma: bool },
    /// After an element, before `,` or `]`.
    AfterElement,
    /// After a wrapper's array, before `}` or `,`.
    WrapperEnd,
    /// Inside an item.
    Item,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ItemKind {
    /// An object or array: ends when its brackets balance.
    Nested,
    /// A string: ends at its closing quote.
    Str,
    /// A number or literal: ends at the next delimiter.
    Bare,
}

/// What the item being scanned is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ItemRole {
    Element,
    Tail,
}

/// Which keys that mark a wrapper an item's object has among its own keys (not in nested
/// values): found while scanning, so that the plain records, nearly all of them, need no parse
/// and no search to be told from wrappers. A mark may also come from a value of the object
/// spelled like a key, or a key cut by the end of a chunk: marks say "parse to know".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Markers(u8);

impl Markers {
    pub const NONE: Markers = Markers(0);
    /// `detail-type` (EventBridge) or `CloudTrailEvent` (event history).
    pub const WRAPPED: u8 = 1;
    pub const DIGEST: u8 = 2;
    /// `Records`, which belongs only at the top of a file.
    pub const NESTED: u8 = 4;
    /// `messageType` (CloudWatch Logs).
    pub const SUBSCRIPTION: u8 = 8;
    const ALL: Markers = Markers(15);

    const NAMES: [(&'static [u8], u8); 5] = [
        (b"detail-type\"", Self::WRAPPED),
        (b"CloudTrailEvent\"", Self::WRAPPED),
        (b"digestStartTime\"", Self::DIGEST),
        (b"Records\"", Self::NESTED),
        (b"messageType\"", Self::SUBSCRIPTION),
    ];

    /// The mark of a string whose text starts at `rest` (just after its opening quote).
    fn at(rest: &[u8]) -> Markers {
        let Some(first) = rest.first() else {
            return Self::ALL; // the chunk ends here: cannot tell
        };
        if !matches!(first, b'd' | b'C' | b'R' | b'm') {
            return Self::NONE;
        }
        for (name, mark) in Self::NAMES {
            let n = name.len().min(rest.len());
            if rest[..n] == name[..n] {
                return if n == name.len() {
                    Markers(mark)
                } else {
                    Self::ALL
                };
            }
        }
        Self::NONE
    }

    pub fn has(self, mark: u8) -> bool {
        self.0 & mark != 0
    }

    pub fn any(self) -> bool {
        self.0 != 0
    }
}

impl std::ops::BitOrAssign for Markers {
    fn bitor_assign(&mut self, other: Markers) {
        self.0 |= other.0;
    }
}

#[derive(Debug)]
pub struct Scanner {
    limits: Limits,
    state: State,
    /// Bytes consumed before the current chunk.
    offset: u64,
    container: Container,
    /// Whether the open container is a wrapper object (needs its closing `}`).
    in_wrapper: bool,
    at_start: bool,
    bom_seen: usize,

    // The item being scanned.
    role: ItemRole,
    kind: ItemKind,
    in_string: bool,
    escape: bool,
    stack: Vec<u8>,
    overflow: u64,
    too_deep: bool,
    size: u64,
    /// Bytes of the item from earlier chunks (empty when it began in this chunk).
    pending: Vec<u8>,
    /// Where the item began in the current chunk, if it did.
    start: Option<usize>,
    /// The first key of a top-level object, while it is read.
    key: Vec<u8>,
    /// The wrapper keys met so far among the item's own keys.
    markers: Markers,
}

const RECORDS: &[u8] = b"Records";
const BOM: &[u8] = b"\xEF\xBB\xBF";
const EVENTS: &[u8] = b"Events";

impl Scanner {
    pub fn new(limits: Limits) -> Self {
        Scanner {
            limits,
            state: State::Top,
            offset: 0,
            container: Container::Stream,
            in_wrapper: false,
            at_start: true,
            bom_seen: 0,
            role: ItemRole::Element,
            kind: ItemKind::Bare,
            in_string: false,
            escape: false,
            stack: Vec::new(),
            overflow: 0,
            too_deep: false,
            size: 0,
            pending: Vec::new(),
            start: None,
            key: Vec::new(),
            markers: Markers::NONE,
        }
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> u64 {
        self.offset
    }

    /// Feeds the next chunk. `sink` sees every event; returning `Break` stops the scan early.
    pub fn feed<F>(&mut self, mut buf: &[u8], sink: &mut F) -> Result<ControlFlow<()>, ScanError>
    where
        F: FnMut(Event<'_>) -> ControlFlow<()>,
    {
        if self.at_start {
            // Skip a UTF-8 byte-order mark, which may arrive split over chunks.
            let n = (BOM.len() - self.bom_seen).min(buf.len());
            if buf[..n] == BOM[self.bom_seen..self.bom_seen + n] {
                self.bom_seen += n;
                self.offset += n as u64;
                buf = &buf[n..];
                if self.bom_seen < BOM.len() {
                    return Ok(ControlFlow::Continue(()));
                }
            } else if self.bom_seen > 0 {
                return Err(self.error(0, "incomplete byte-order mark"));
            }
            self.at_start = false;
        }
        if self.state_has_item() {
            self.start = Some(0);
        }
        let flow = self.run(buf, sink);
        // Keep the unfinished item's bytes for the next chunk.
        if let Some(start) = self.start.take() {
            self.keep(&buf[start..]);
        }
        self.offset += buf.len() as u64;
        flow
    }

    /// Ends the input; fails if it ended inside a value.
    pub fn finish<F>(&mut self, sink: &mut F) -> Result<ControlFlow<()>, ScanError>
    where
        F: FnMut(Event<'_>) -> ControlFlow<()>,
    {
        if self.state == State::Item && self.kind == ItemKind::Bare {
            // A number or literal at the very end of the input.
            let flow = self.complete_item(&[], 0, sink);
            if flow.is_break() {
                return Ok(flow);
            }
        }
        let inside = match self.state {
            State::Top => return Ok(ControlFlow::Continue(())),
            State::Item if self.in_string => "inside a string",
            State::Item => "inside a value",
            State::FirstKey | State::InFirstKey | State::FirstColon | State::FirstValue => {
                "inside an object"
            }
            State::Element { .. } | State::AfterElement => "inside an array",
            State::WrapperEnd => "before the closing '}'",
        };
        Err(self.error(0, format!("unexpected end of input {inside}")))
    }

    fn state_has_item(&self) -> bool {
        matches!(
            self.state,
            State::Item
                | State::FirstKey
                | State::InFirstKey
                | State::FirstColon
                | State::FirstValue
        )
    }

    fn error(&self, at: usize, message: impl Into<String>) -> ScanError {
        ScanError {
            offset: self.offset + at as u64,
            message: message.into(),
        }
    }

    fn keep(&mut self, bytes: &[u8]) {
        self.size += bytes.len() as u64;
        if self.size > self.limits.max_item_bytes as u64 {
            self.pending = Vec::new();
        } else {
            self.pending.extend_from_slice(bytes);
        }
    }

    fn begin_item(&mut self, at: usize, kind: ItemKind, role: ItemRole) {
        self.state = State::Item;
        self.kind = kind;
        self.role = role;
        self.in_string = false;
        self.escape = false;
        self.stack.clear();
        self.overflow = 0;
        self.too_deep = false;
        self.size = 0;
        self.pending.clear();
        self.start = Some(at);
        self.markers = Markers::NONE;
    }

    /// Scans `buf` from the current state. Each state has its handler, which looks at the byte at
    /// `i` and says where scanning goes on ([`Step`]); items themselves are scanned in bulk by
    /// [`Scanner::item`], so this loop runs per structural byte, not per byte of a record.
    fn run<F>(&mut self, buf: &[u8], sink: &mut F) -> Result<ControlFlow<()>, ScanError>
    where
        F: FnMut(Event<'_>) -> ControlFlow<()>,
    {
        let mut i = 0;
        while i < buf.len() {
            let c = buf[i];
            let step = match self.state {
                State::Item => self.item(buf, i, sink)?,
                State::InFirstKey => self.in_first_key(c, i),
                // Every other state is between tokens, where whitespace means nothing.
                _ if is_ws(c) => Step::Continue(i + 1),
                State::Top => self.top(c, i, sink)?,
                State::FirstKey => self.first_key(buf, c, i),
                State::FirstColon => self.first_colon(c, i),
                State::FirstValue => self.first_value(c, i, sink),
                State::Element { after_comma } => self.element(c, i, after_comma)?,
                State::AfterElement => self.after_element(c, i)?,
                State::WrapperEnd => self.wrapper_end(c, i)?,
            };
            match step {
                Step::Continue(next) => i = next,
                Step::Break(()) => return Ok(ControlFlow::Break(())),
            }
        }
        Ok(ControlFlow::Continue(()))
    }

    /// Between top-level values: a value starts here.
    fn top<F>(&mut self, c: u8, i: usize, sink: &mut F) -> Result<Step, ScanError>
    where
        F: FnMut(Event<'_>) -> ControlFlow<()>,
    {
        self.container = Container::Stream;
        self.in_wrapper = false;
        match c {
            b'{' => {
                // Maybe a wrapper: its first key decides (see `first_value`).
                self.begin_item(i, ItemKind::Nested, ItemRole::Element);
                self.stack.push(b'{');
                self.state = State::FirstKey;
            }
            b'[' => {
                self.container = Container::Array;
                self.state = State::Element { after_comma: false };
                return Ok(open(sink, Container::Array, i + 1));
            }
            b'"' => {
                self.begin_item(i, ItemKind::Str, ItemRole::Element);
                self.in_string = true;
            }
            b'-' | b'0'..=b'9' | b't' | b'f' | b'n' => {
                self.begin_item(i, ItemKind::Bare, ItemRole::Element);
                return Ok(Step::Continue(i)); // the byte is part of the value
            }
            _ => return Err(self.error(i, unexpected(c, "a JSON value"))),
        }
        Ok(Step::Continue(i + 1))
    }

    /// After a top-level `{`: a first key may make it a wrapper.
    fn first_key(&mut self, buf: &[u8], c: u8, i: usize) -> Step {
        if c == b'"' {
            self.key.clear();
            self.markers |= Markers::at(&buf[i + 1..]);
            self.in_string = true;
            self.state = State::InFirstKey;
            Step::Continue(i + 1)
        } else {
            // `{}` or invalid JSON: scan it as an ordinary item.
            self.state = State::Item;
            Step::Continue(i)
        }
    }

    /// Inside the first key.
    fn in_first_key(&mut self, c: u8, i: usize) -> Step {
        if c == b'"' && !self.escape {
            self.in_string = false;
            self.state = State::FirstColon;
        } else {
            self.escape = !self.escape && c == b'\\';
            // Escapes are kept as written, so an escaped key never equals a wrapper key. A key
            // longer than `Records`, the longer wrapper key, matches neither: the rest is not kept.
            if self.key.len() <= RECORDS.len() {
                self.key.push(c);
            }
        }
        Step::Continue(i + 1)
    }

    /// After the first key: a `:` leads to the value that decides; anything else is left for the
    /// item scan to judge.
    fn first_colon(&mut self, c: u8, i: usize) -> Step {
        if c == b':' {
            self.state = State::FirstValue;
            Step::Continue(i + 1)
        } else {
            self.state = State::Item;
            Step::Continue(i)
        }
    }

    /// After `"key":`: a `Records` or `Events` array makes the object a wrapper; anything else
    /// leaves it an ordinary item, scanned on from here.
    fn first_value<F>(&mut self, c: u8, i: usize, sink: &mut F) -> Step
    where
        F: FnMut(Event<'_>) -> ControlFlow<()>,
    {
        let wrapper = match self.key.as_slice() {
            RECORDS => Some(Container::Records),
            EVENTS => Some(Container::Events),
            _ => None,
        };
        let Some(container) = wrapper.filter(|_| c == b'[') else {
            self.state = State::Item;
            return Step::Continue(i);
        };
        // Not an item after all: a wrapper whose elements are the items.
        self.start = None;
        self.pending.clear();
        self.container = container;
        self.in_wrapper = true;
        self.state = State::Element { after_comma: false };
        open(sink, container, i + 1)
    }

    /// Before an array element (or the `]` of an empty array).
    fn element(&mut self, c: u8, i: usize, after_comma: bool) -> Result<Step, ScanError> {
        match c {
            b']' if !after_comma => {
                self.close_array();
                Ok(Step::Continue(i + 1))
            }
            b'{' | b'[' => {
                // The bracket is the item's first byte: `scan_item` counts it.
                self.begin_item(i, ItemKind::Nested, ItemRole::Element);
                Ok(Step::Continue(i))
            }
            b'"' => {
                self.begin_item(i, ItemKind::Str, ItemRole::Element);
                self.in_string = true;
                Ok(Step::Continue(i + 1))
            }
            b'-' | b'0'..=b'9' | b't' | b'f' | b'n' => {
                self.begin_item(i, ItemKind::Bare, ItemRole::Element);
                Ok(Step::Continue(i))
            }
            _ => Err(self.error(i, unexpected(c, "an array element"))),
        }
    }

    fn after_element(&mut self, c: u8, i: usize) -> Result<Step, ScanError> {
        match c {
            b',' => self.state = State::Element { after_comma: true },
            b']' => self.close_array(),
            _ => {
                return Err(self.error(i, unexpected(c, "',' or ']' after an array element")));
            }
        }
        Ok(Step::Continue(i + 1))
    }

    /// After a wrapper's array: its closing `}`, or more members.
    fn wrapper_end(&mut self, c: u8, i: usize) -> Result<Step, ScanError> {
        match c {
            b'}' => self.state = State::Top,
            b',' => {
                // More members: collect them as an object for the caller to judge.
                self.begin_item(i + 1, ItemKind::Nested, ItemRole::Tail);
                self.stack.push(b'{');
                self.pending.push(b'{');
            }
            _ => return Err(self.error(i, unexpected(c, "'}' after the array"))),
        }
        Ok(Step::Continue(i + 1))
    }

    /// Inside an item: scans on to its end, then hands it out.
    fn item<F>(&mut self, buf: &[u8], i: usize, sink: &mut F) -> Result<Step, ScanError>
    where
        F: FnMut(Event<'_>) -> ControlFlow<()>,
    {
        Ok(match self.scan_item(buf, i)? {
            Some(end) => self.complete_item(buf, end, sink).map_continue(|()| end),
            None => Step::Continue(buf.len()),
        })
    }

    fn close_array(&mut self) {
        self.state = if self.in_wrapper {
            State::WrapperEnd
        } else {
            State::Top
        };
    }

    /// Scans item bytes from `buf[i..]`; returns the end (exclusive) when the item ends here.
    /// This is where a converter spends its scanning time: strings, most of a record's bytes, are
    /// skipped with `memchr`, and nothing here allocates but the bracket stack's first growth.
    fn scan_item(&mut self, buf: &[u8], mut i: usize) -> Result<Option<usize>, ScanError> {
        while i < buf.len() {
            if self.in_string {
                let Some(next) = self.skip_in_string(buf, i) else {
                    return Ok(None);
                };
                i = next;
                if !self.in_string && self.kind == ItemKind::Str {
                    return Ok(Some(i));
                }
                continue;
            }
            let c = buf[i];
            if self.kind == ItemKind::Bare {
                if is_ws(c) || matches!(c, b',' | b']' | b'}') {
                    return Ok(Some(i));
                }
                i += 1;
                continue;
            }
            i += 1;
            match c {
                b'"' => {
                    self.in_string = true;
                    // A string directly inside the item's object: a key or a value of its own.
                    if self.stack.len() == 1 && self.stack[0] == b'{' {
                        self.markers |= Markers::at(&buf[i..]);
                    }
                }
                b'{' | b'[' => self.open_bracket(c),
                b'}' | b']' if self.close_bracket(c, i - 1)? => return Ok(Some(i)),
                _ => {}
            }
        }
        Ok(None)
    }

    /// Inside a string: moves past the escaped byte, or to just after the next `"` or `\`
    /// (leaving the string at a `"`). `None` when the chunk ends first.
    fn skip_in_string(&mut self, buf: &[u8], i: usize) -> Option<usize> {
        if self.escape {
            self.escape = false;
            return Some(i + 1);
        }
        let k = memchr::memchr2(b'"', b'\\', &buf[i..])?;
        if buf[i + k] == b'\\' {
            self.escape = true;
        } else {
            self.in_string = false;
        }
        Some(i + k + 1)
    }

    /// An opening bracket inside an item. Past the depth limit brackets are only counted, so
    /// that the stack stays bounded and the item can still be skipped to its end.
    fn open_bracket(&mut self, c: u8) {
        if self.stack.len() < self.limits.max_depth {
            self.stack.push(c);
        } else {
            self.overflow += 1;
            self.too_deep = true;
        }
    }

    /// A closing bracket at `at` inside an item; true when it closes the item.
    fn close_bracket(&mut self, c: u8, at: usize) -> Result<bool, ScanError> {
        if self.overflow > 0 {
            self.overflow -= 1;
            return Ok(false);
        }
        let open = if c == b'}' { b'{' } else { b'[' };
        match self.stack.pop() {
            Some(o) if o == open => Ok(self.stack.is_empty()),
            _ => Err(self.error(at, format!("unmatched '{}'", c as char))),
        }
    }

    /// The item ended at `buf[..end]`: hand it out and move on.
    fn complete_item<F>(&mut self, buf: &[u8], end: usize, sink: &mut F) -> ControlFlow<()>
    where
        F: FnMut(Event<'_>) -> ControlFlow<()>,
    {
        let start = self.start.take().unwrap_or(0);
        let tail = &buf[start..end];
        let total = self.size + tail.len() as u64;
        let role = self.role;
        self.state = match (role, self.container) {
            (ItemRole::Tail, _) | (_, Container::Stream) => State::Top,
            _ => State::AfterElement,
        };
        let too_large = total > self.limits.max_item_bytes as u64;
        let event = if role == ItemRole::Tail {
            if too_large {
                Event::Tail(&[])
            } else {
                self.pending.extend_from_slice(tail);
                Event::Tail(&self.pending)
            }
        } else {
            let container = self.container;
            if too_large {
                Event::Rejected {
                    why: Rejection::TooLarge { bytes: total },
                }
            } else if self.too_deep {
                Event::Rejected {
                    why: Rejection::TooDeep,
                }
            } else if self.pending.is_empty() {
                Event::Item {
                    container,
                    bytes: tail,
                    markers: self.markers,
                }
            } else {
                self.pending.extend_from_slice(tail);
                Event::Item {
                    container,
                    bytes: &self.pending,
                    markers: self.markers,
                }
            }
        };
        let flow = sink(event);
        self.pending.clear();
        self.size = 0;
        flow
    }
}

/// What a state's handler did with a byte: where scanning goes on, or that the sink stopped it.
type Step = ControlFlow<(), usize>;

/// Tells the sink a container opened; scanning goes on at `next` unless the sink stops it.
fn open<F>(sink: &mut F, container: Container, next: usize) -> Step
where
    F: FnMut(Event<'_>) -> ControlFlow<()>,
{
    sink(Event::Open(container)).map_continue(|()| next)
}

fn unexpected(c: u8, expected: &str) -> String {
    if c.is_ascii_graphic() {
        format!("found '{}' where {expected} was expected", c as char)
    } else {
        format!("found byte 0x{c:02x} where {expected} was expected")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        max_item_bytes: 64,
        max_depth: 4,
    };

    /// Scans `input` fed in chunks of `chunk` bytes; returns the events as strings.
    fn scan(input: &str, chunk: usize, limits: Limits) -> Result<Vec<String>, ScanError> {
        let mut scanner = Scanner::new(limits);
        let mut out = Vec::new();
        // Items and rejections are numbered in order, as a reader of the events counts them.
        let mut index = 0u64;
        let mut sink = |e: Event<'_>| {
            out.push(match e {
                Event::Open(c) => format!("open {c:?}"),
                Event::Item {
                    container, bytes, ..
                } => {
                    index += 1;
                    format!(
                        "{} {container:?} {}",
                        index - 1,
                        String::from_utf8_lossy(bytes)
                    )
                }
                Event::Rejected { why } => {
                    index += 1;
                    format!("{} rejected {why:?}", index - 1)
                }
                Event::Tail(b) => format!("tail {}", String::from_utf8_lossy(b)),
            });
            ControlFlow::Continue(())
        };
        for piece in input.as_bytes().chunks(chunk.max(1)) {
            let _ = scanner.feed(piece, &mut sink)?;
        }
        let _ = scanner.finish(&mut sink)?;
        Ok(out)
    }

    /// Every chunking gives the same events.
    fn check(input: &str, limits: Limits, expected: &[&str]) {
        for chunk in [1, 2, 3, 7, input.len().max(1)] {
            let got = scan(input, chunk, limits).unwrap_or_else(|e| panic!("chunk {chunk}: {e}"));
            assert_eq!(got, expected, "chunk size {chunk}");
        }
    }

    fn check_err(input: &str, message: &str) {
        for chunk in [1, 5, input.len().max(1)] {
            let err = scan(input, chunk, LIMITS).unwrap_err();
            assert!(err.message.contains(message), "chunk {chunk}: {err}");
        }
    }

    /// The marks of each item, scanned in chunks of `chunk` bytes.
    fn marks(input: &str, chunk: usize) -> Vec<Markers> {
        let mut scanner = Scanner::new(Limits {
            max_item_bytes: 1 << 20,
            max_depth: 8,
        });
        let mut out = Vec::new();
        let mut sink = |e: Event<'_>| {
            if let Event::Item { markers, .. } = e {
                out.push(markers);
            }
            ControlFlow::Continue(())
        };
        for piece in input.as_bytes().chunks(chunk) {
            let _ = scanner.feed(piece, &mut sink).unwrap();
        }
        let _ = scanner.finish(&mut sink).unwrap();
        out
    }

    #[test]
    fn an_items_own_wrapper_keys_are_marked_and_nested_ones_are_not() {
        let input = r#"{"Records":[{"eventName":"x","requestParameters":{"Records":1,"detail-type":2}},{"version":"0","detail-type":"AWS API Call via CloudTrail","detail":{}},{"messageType":"DATA_MESSAGE"},{"digestStartTime":"t"},{"CloudTrailEvent":"{}"},{"eventSource":"Records"}]}"#;
        let whole = marks(input, input.len());
        assert_eq!(
            whole,
            [
                Markers::NONE,
                Markers(Markers::WRAPPED),
                Markers(Markers::SUBSCRIPTION),
                Markers(Markers::DIGEST),
                Markers(Markers::WRAPPED),
                // A value spelled like a key is a false alarm, which the parse sorts out.
                Markers(Markers::NESTED),
            ]
        );
        // Objects one after another (NDJSON): the first key, read apart, is marked too.
        let stream =
            "{\"messageType\":\"DATA_MESSAGE\"}\n{\"eventName\":\"x\"}\n{\"detail-type\":\"y\"}";
        let whole_stream = marks(stream, stream.len());
        assert_eq!(
            whole_stream,
            [
                Markers(Markers::SUBSCRIPTION),
                Markers::NONE,
                Markers(Markers::WRAPPED)
            ]
        );
        // Cut anywhere, a mark is never lost: a key cut by a chunk's end marks everything.
        for (input, whole) in [(input, &whole), (stream, &whole_stream)] {
            for chunk in 1..input.len() {
                let cut = marks(input, chunk);
                assert_eq!(cut.len(), whole.len());
                for (cut, exact) in cut.iter().zip(whole) {
                    assert!(
                        cut.0 & exact.0 == exact.0,
                        "chunk {chunk}: {cut:?} lost {exact:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn records_wrapper() {
        check(
            " {\"Records\" : [ {\"a\":\"]}\"} , {\"b\":[1,{}]}\n] }\n",
            LIMITS,
            &[
                "open Records",
                "0 Records {\"a\":\"]}\"}",
                "1 Records {\"b\":[1,{}]}",
            ],
        );
        check("{\"Records\":[]}", LIMITS, &["open Records"]);
    }

    #[test]
    fn events_wrapper_with_tail() {
        check(
            "{\"Events\":[{\"x\":1}],\"NextToken\":\"a}\"}",
            LIMITS,
            &[
                "open Events",
                "0 Events {\"x\":1}",
                "tail {\"NextToken\":\"a}\"}",
            ],
        );
    }

    #[test]
    fn ndjson_and_single_objects() {
        check(
            "{\"eventName\":\"A\"}\n{\"eventName\":\"B\\\"\"}\r\n5\n\"s\"\ntrue",
            LIMITS,
            &[
                "0 Stream {\"eventName\":\"A\"}",
                "1 Stream {\"eventName\":\"B\\\"\"}",
                "2 Stream 5",
                "3 Stream \"s\"",
                "4 Stream true",
            ],
        );
        check("{}", LIMITS, &["0 Stream {}"]);
        check(
            "\u{feff}{\"Records\":[1]}",
            LIMITS,
            &["open Records", "0 Records 1"],
        );
    }

    #[test]
    fn a_key_other_than_records_makes_an_item() {
        check(
            "{\"Recordsx\":[1]}{\"Records\":2}{\"R\\\"\":[]}",
            LIMITS,
            &[
                "0 Stream {\"Recordsx\":[1]}",
                "1 Stream {\"Records\":2}",
                "2 Stream {\"R\\\"\":[]}",
            ],
        );
        // Escapes, however many, never make a wrapper key.
        let escapes = format!("{{\"{}\":[1]}}", "\\\\".repeat(20));
        check(
            &format!("{escapes}{{\"Record\\u0073\":[2]}}"),
            LIMITS,
            &[
                &format!("0 Stream {escapes}"),
                "1 Stream {\"Record\\u0073\":[2]}",
            ],
        );
    }

    #[test]
    fn top_level_arrays() {
        check(
            "[{\"a\":1}, 2, \"x\" ,null][]",
            LIMITS,
            &[
                "open Array",
                "0 Array {\"a\":1}",
                "1 Array 2",
                "2 Array \"x\"",
                "3 Array null",
                "open Array",
            ],
        );
    }

    #[test]
    fn limits_reject_items_but_scanning_goes_on() {
        let big = format!(
            "[{{\"a\":\"{}\"}},{{\"b\":[[[[[1]]]]]}},3]",
            "x".repeat(100)
        );
        check(
            &big,
            LIMITS,
            &[
                "open Array",
                "0 rejected TooLarge { bytes: 108 }",
                "1 rejected TooDeep",
                "2 Array 3",
            ],
        );
    }

    #[test]
    fn structural_errors() {
        check_err("{\"Records\":[1 2]}", "',' or ']'");
        check_err("{\"Records\":[1,]}", "array element");
        check_err("{\"Records\":[1]", "end of input");
        check_err("{\"Records\":[1]} garbage", "a JSON value");
        check_err("{\"a\":[1}", "unmatched '}'");
        check_err("{\"a\":\"open", "inside a string");
        check_err("[1,2", "inside an array");
        check_err("{\"Records\":[1] x", "'}' after the array");
    }

    #[test]
    fn stop_early() {
        let mut scanner = Scanner::new(LIMITS);
        let mut seen = 0;
        let flow = scanner
            .feed(b"[1,2,3]", &mut |e: Event<'_>| {
                if matches!(e, Event::Item { .. }) {
                    seen += 1;
                    return ControlFlow::Break(());
                }
                ControlFlow::Continue(())
            })
            .unwrap();
        assert!(flow.is_break());
        assert_eq!(seen, 1);
    }
}
