//! LSP base-protocol framing (`Content-Length: N\r\n\r\n` + N bytes), as a
//! pure decoder over pushed bytes: no IO, no JSON, only `std`, so the fuzz
//! target can include this file as it is.
//!
//! A framing error never stops the decoder. It reports the error once,
//! finds the next plausible header (`Content-Length:`) and goes on, so one
//! broken frame costs that frame and not the session. Headers and bodies are
//! bounded: a header that never ends, or a declared length past
//! [`MAX_BODY`], is skipped instead of buffered.

use std::collections::VecDeque;

/// The longest header section kept while waiting for its blank line.
pub const MAX_HEADER: usize = 8 * 1024;
/// The largest body accepted (a 100 MB `.neuro` file opened in an editor
/// would still fit).
pub const MAX_BODY: usize = 128 * 1024 * 1024;

const LENGTH_HEADER: &[u8] = b"content-length:";

/// What the decoder found: a body to parse, or a framing error to log.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    Body(Vec<u8>),
    Invalid(FrameError),
}

#[derive(Debug, PartialEq, Eq)]
pub enum FrameError {
    /// No blank line within [`MAX_HEADER`] bytes.
    HeaderTooLong,
    /// A header section without a usable `Content-Length`.
    BadHeader(String),
    /// A declared length past [`MAX_BODY`].
    BodyTooLarge(u64),
    /// The body ended (a complete JSON value followed by the next frame's
    /// header) before the declared length.
    LengthTooLong { declared: usize, actual: usize },
    /// Bytes between frames that are no header.
    Garbage(usize),
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::HeaderTooLong => {
                write!(f, "header section longer than {MAX_HEADER} bytes")
            }
            FrameError::BadHeader(why) => write!(f, "bad header: {why}"),
            FrameError::BodyTooLarge(length) => {
                write!(
                    f,
                    "Content-Length {length} is over the {MAX_BODY}-byte limit"
                )
            }
            FrameError::LengthTooLong { declared, actual } => write!(
                f,
                "Content-Length {declared} but the message ended after {actual} bytes"
            ),
            FrameError::Garbage(bytes) => write!(f, "{bytes} bytes outside any frame"),
        }
    }
}

#[derive(Debug)]
enum State {
    Header,
    Body {
        length: usize,
        /// How far the body has been searched for an early next header.
        scanned: usize,
    },
    /// Skipping bytes up to the next `Content-Length:`.
    Resync {
        skipped: usize,
    },
}

#[derive(Debug)]
pub struct Decoder {
    buffer: Vec<u8>,
    /// Bytes of `buffer` before this are consumed.
    start: usize,
    state: State,
    ready: VecDeque<Frame>,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder {
            buffer: Vec::new(),
            start: 0,
            state: State::Header,
            ready: VecDeque::new(),
        }
    }
}

impl Decoder {
    pub fn push(&mut self, bytes: &[u8]) {
        // Drop consumed bytes before growing, so the buffer holds at most
        // one frame plus what arrived with it.
        if self.start > 0 && self.start * 2 >= self.buffer.len() {
            self.buffer.drain(..self.start);
            self.start = 0;
        }
        self.buffer.extend_from_slice(bytes);
    }

    /// The next complete frame or error, `None` when more bytes are needed.
    #[allow(clippy::should_implement_trait)] // needs bytes pushed between calls
    pub fn next(&mut self) -> Option<Frame> {
        loop {
            if let Some(frame) = self.ready.pop_front() {
                return Some(frame);
            }
            if !self.step() {
                return self.ready.pop_front();
            }
        }
    }

    /// The unconsumed bytes.
    #[cfg(test)]
    pub fn pending(&self) -> usize {
        self.buffer.len() - self.start
    }

    /// Advances the state machine once; `false` when it needs more bytes.
    fn step(&mut self) -> bool {
        match self.state {
            State::Header => self.header(),
            State::Body { length, scanned } => self.body(length, scanned),
            State::Resync { skipped } => self.resync(skipped),
        }
    }

    fn header(&mut self) -> bool {
        // Stray line breaks between frames are harmless.
        while matches!(self.buffer.get(self.start), Some(b'\r' | b'\n')) {
            self.start += 1;
        }
        let available = &self.buffer[self.start..];
        if available.is_empty() {
            return false;
        }
        let window = &available[..available.len().min(MAX_HEADER + 4)];
        let Some(end) = find(window, b"\r\n\r\n") else {
            if available.len() < MAX_HEADER {
                return false;
            }
            self.ready
                .push_back(Frame::Invalid(FrameError::HeaderTooLong));
            self.start += 1;
            self.state = State::Resync { skipped: 1 };
            return true;
        };
        match parse_header(&available[..end]) {
            Ok(length) if length > MAX_BODY as u64 => {
                self.ready
                    .push_back(Frame::Invalid(FrameError::BodyTooLarge(length)));
                self.start += end + 4;
                self.state = State::Resync { skipped: 0 };
            }
            Ok(length) => {
                self.start += end + 4;
                self.state = State::Body {
                    length: length as usize,
                    scanned: 0,
                };
            }
            Err(why) => {
                self.ready
                    .push_back(Frame::Invalid(FrameError::BadHeader(why)));
                // Junk before a real header: keep the header.
                match find_length_header(&available[1..end]) {
                    Some(offset) => self.start += offset + 1,
                    None => self.start += end + 4,
                }
            }
        }
        true
    }

    fn body(&mut self, length: usize, scanned: usize) -> bool {
        let available = &self.buffer[self.start..];
        if available.len() >= length {
            let body = available[..length].to_vec();
            self.start += length;
            self.state = State::Header;
            self.ready.push_back(Frame::Body(body));
            return true;
        }
        // A declared length longer than the message swallows the next
        // frame and waits for bytes that may never come. A complete JSON
        // value directly followed by a header is the sign: cut there.
        let from = scanned.saturating_sub(LENGTH_HEADER.len());
        let mut at = from;
        while let Some(offset) = find_length_header(&available[at..]) {
            let cut = at + offset;
            if is_complete_json(&available[..cut]) {
                let body = available[..cut].to_vec();
                self.start += cut;
                self.state = State::Header;
                self.ready
                    .push_back(Frame::Invalid(FrameError::LengthTooLong {
                        declared: length,
                        actual: cut,
                    }));
                self.ready.push_back(Frame::Body(body));
                return true;
            }
            at = cut + 1;
        }
        self.state = State::Body {
            length,
            scanned: available.len(),
        };
        false
    }

    fn resync(&mut self, skipped: usize) -> bool {
        let available = &self.buffer[self.start..];
        match find_length_header(available) {
            Some(offset) => {
                self.start += offset;
                if skipped + offset > 0 {
                    self.ready
                        .push_back(Frame::Invalid(FrameError::Garbage(skipped + offset)));
                }
                self.state = State::Header;
                true
            }
            None => {
                // Keep a tail that may be the start of a split header.
                let keep = LENGTH_HEADER.len() - 1;
                let drop = available.len().saturating_sub(keep);
                self.start += drop;
                self.state = State::Resync {
                    skipped: skipped + drop,
                };
                false
            }
        }
    }
}

/// The `Content-Length` of a header section (without its blank line).
fn parse_header(header: &[u8]) -> Result<u64, String> {
    let text = std::str::from_utf8(header).map_err(|_| "header is not ASCII".to_owned())?;
    let mut length = None;
    for line in text.split("\r\n") {
        let Some((name, value)) = line.split_once(':') else {
            return Err(format!("header line without ':': {:?}", truncate(line)));
        };
        if name.trim().eq_ignore_ascii_case("content-length") {
            let value = value.trim();
            let parsed = value
                .parse::<u64>()
                .map_err(|_| format!("Content-Length is not a number: {:?}", truncate(value)))?;
            if length
                .replace(parsed)
                .is_some_and(|earlier| earlier != parsed)
            {
                return Err("two different Content-Length headers".into());
            }
        }
    }
    length.ok_or_else(|| "no Content-Length header".into())
}

fn truncate(text: &str) -> String {
    text.chars().take(60).collect()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Where `Content-Length:` (any case) starts in `bytes`.
fn find_length_header(bytes: &[u8]) -> Option<usize> {
    bytes
        .windows(LENGTH_HEADER.len())
        .position(|w| w.eq_ignore_ascii_case(LENGTH_HEADER))
}

/// Whether `bytes` hold exactly one complete JSON object or array (up to
/// trailing white space): brackets balanced outside strings.
fn is_complete_json(bytes: &[u8]) -> bool {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut closed_at = None;
    for (index, &byte) in bytes.iter().enumerate() {
        if closed_at.is_some() {
            if !byte.is_ascii_whitespace() {
                return false;
            }
            continue;
        }
        if in_string {
            match (escaped, byte) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' if depth > 0 => in_string = true,
            b'{' | b'[' => depth += 1,
            b'}' | b']' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    closed_at = Some(index);
                }
            }
            _ if byte.is_ascii_whitespace() => {}
            _ if depth == 0 => return false,
            _ => {}
        }
    }
    closed_at.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(body: &str) -> Vec<u8> {
        format!("Content-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
    }

    fn decode(bytes: &[u8]) -> Vec<Frame> {
        let mut decoder = Decoder::default();
        decoder.push(bytes);
        std::iter::from_fn(|| decoder.next()).collect()
    }

    fn body(text: &str) -> Frame {
        Frame::Body(text.as_bytes().to_vec())
    }

    #[test]
    fn frames_split_anywhere_decode_the_same() {
        let mut bytes = frame(r#"{"a":1}"#);
        bytes.extend(frame(r#"{"b":[2,"}"]}"#));
        for split in 0..bytes.len() {
            let mut decoder = Decoder::default();
            decoder.push(&bytes[..split]);
            let mut frames: Vec<Frame> = std::iter::from_fn(|| decoder.next()).collect();
            decoder.push(&bytes[split..]);
            frames.extend(std::iter::from_fn(|| decoder.next()));
            assert_eq!(
                frames,
                vec![body(r#"{"a":1}"#), body(r#"{"b":[2,"}"]}"#)],
                "split at {split}"
            );
        }
    }

    #[test]
    fn extra_headers_and_any_case_are_accepted() {
        let bytes = b"content-length: 2\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\nX-Other: 1\r\n\r\n{}";
        assert_eq!(decode(bytes), vec![body("{}")]);
    }

    #[test]
    fn a_bad_header_costs_only_its_frame() {
        for bad in [&b"Content-Length: x\r\n\r\n"[..], b"garbage\r\n"] {
            let mut bytes = bad.to_vec();
            bytes.extend(frame("{}"));
            let frames = decode(&bytes);
            assert!(matches!(
                frames[0],
                Frame::Invalid(FrameError::BadHeader(_))
            ));
            assert_eq!(frames[1..], [body("{}")]);
        }
    }

    #[test]
    fn a_huge_length_is_skipped_not_awaited() {
        let mut bytes = b"Content-Length: 100000000000000\r\n\r\n{\"x\":1}".to_vec();
        bytes.extend(frame("{}"));
        let frames = decode(&bytes);
        assert_eq!(
            frames[0],
            Frame::Invalid(FrameError::BodyTooLarge(100_000_000_000_000))
        );
        assert_eq!(frames[1], Frame::Invalid(FrameError::Garbage(7)));
        assert_eq!(frames[2..], [body("{}")]);
    }

    #[test]
    fn an_unterminated_header_is_not_buffered_without_bound() {
        let mut decoder = Decoder::default();
        let junk = vec![b'a'; 1024 * 1024];
        for _ in 0..16 {
            decoder.push(&junk);
            while decoder.next().is_some() {}
            assert!(decoder.pending() <= MAX_HEADER + 64);
        }
        decoder.push(&frame("{}"));
        let frames: Vec<Frame> = std::iter::from_fn(|| decoder.next()).collect();
        assert_eq!(frames.last(), Some(&body("{}")));
    }

    #[test]
    fn a_length_longer_than_the_message_is_cut_at_the_next_header() {
        let mut bytes = b"Content-Length: 500\r\n\r\n{\"id\":1}".to_vec();
        bytes.extend(frame(r#"{"id":2}"#));
        let frames = decode(&bytes);
        assert_eq!(
            frames,
            vec![
                Frame::Invalid(FrameError::LengthTooLong {
                    declared: 500,
                    actual: 8
                }),
                body(r#"{"id":1}"#),
                body(r#"{"id":2}"#),
            ]
        );
    }

    #[test]
    fn a_length_shorter_than_the_message_recovers_at_the_next_header() {
        let mut bytes = b"Content-Length: 4\r\n\r\n{\"id\":1}".to_vec();
        bytes.extend(frame(r#"{"id":2}"#));
        let frames = decode(&bytes);
        assert_eq!(frames[0], body(r#"{"id"#));
        assert!(matches!(
            frames[1],
            Frame::Invalid(FrameError::BadHeader(_))
        ));
        assert_eq!(frames[2..], [body(r#"{"id":2}"#)]);
    }

    #[test]
    fn json_completeness() {
        assert!(is_complete_json(br#"{"a":"}{"} "#));
        assert!(is_complete_json(br#"[1,{"b":"\""}]"#));
        assert!(!is_complete_json(br#"{"a":1"#));
        assert!(!is_complete_json(br#"{"a":1}x"#));
        assert!(!is_complete_json(b"12"));
    }
}
