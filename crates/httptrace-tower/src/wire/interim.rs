//! Reads the informational (1xx) responses out of the bytes an HTTP/1 connection receives, up
//! to the final response's status line, for the hooks of a request whose 1xx responses are
//! read off the wire rather than from hyper's informational callback (`informational.rs`).
//!
//! The server's bytes are bounded as hyper bounds a head: a line is kept up to 64 KiB, and a
//! head with more than [`MAX_FIELDS`] fields or [`MAX_HEAD_BYTES`] of them is not reported
//! (hyper, with its default limits, refuses it and fails the request).

use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};

use crate::wire::head::{trim, MAX_LINE};

/// The most fields an interim head may have and be reported: hyper's default limit for a
/// response head.
pub(crate) const MAX_FIELDS: usize = 100;
/// The most bytes of fields an interim head may have and be reported.
pub(crate) const MAX_HEAD_BYTES: usize = 64 * 1024;

/// Incremental: chunks may split anywhere, even inside `\r\n`. Its buffers are kept from one
/// request to the next ([`InterimScanner::restart`]).
#[derive(Debug, Default)]
pub(crate) struct InterimScanner {
    /// The current line, without its `\n`.
    line: Vec<u8>,
    /// The status of the 1xx head being read; `None` before its status line.
    status: Option<StatusCode>,
    headers: HeaderMap,
    /// Bytes of the fields of the head being read.
    head_bytes: usize,
    /// The current line was longer than we keep.
    line_cut: bool,
    /// The head being read is past the bounds: it is not reported.
    oversized: bool,
    /// The final response's status line was read: nothing more to look at.
    done: bool,
}

impl InterimScanner {
    /// Ready for the next response, keeping the buffers.
    pub(crate) fn restart(&mut self) {
        self.line.clear();
        self.status = None;
        self.headers.clear();
        self.head_bytes = 0;
        self.line_cut = false;
        self.oversized = false;
        self.done = false;
    }

    /// Feeds bytes received; calls `interim` with each complete 1xx head (`101 Switching
    /// Protocols` is a final response). True once the final response's status line has been
    /// read: the rest is the response's, and is not looked at.
    pub(crate) fn feed(
        &mut self,
        bytes: &[u8],
        mut interim: impl FnMut(StatusCode, &HeaderMap),
    ) -> bool {
        if self.status.is_none() && self.line.is_empty() && starts_final(bytes) {
            // Most responses: no 1xx before them, their status line in the first read.
            self.done = true;
        }
        let mut at = 0;
        while !self.done && at < bytes.len() {
            let rest = &bytes[at..];
            let Some(newline) = rest.iter().position(|&b| b == b'\n') else {
                self.take(rest);
                break;
            };
            self.take(&rest[..newline]);
            at += newline + 1;
            let mut line = std::mem::take(&mut self.line);
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            self.line_ended(&line, &mut interim);
            line.clear();
            self.line = line;
            self.line_cut = false;
        }
        self.done
    }

    fn take(&mut self, part: &[u8]) {
        let room = MAX_LINE.saturating_sub(self.line.len());
        self.line_cut |= part.len() > room;
        self.line.extend_from_slice(&part[..part.len().min(room)]);
    }

    fn line_ended(&mut self, line: &[u8], interim: &mut impl FnMut(StatusCode, &HeaderMap)) {
        let Some(status) = self.status else {
            if line.is_empty() {
                return; // a stray empty line before a status line (hyper skips it too)
            }
            match status_of(line) {
                Some(s) if s.is_informational() && s != StatusCode::SWITCHING_PROTOCOLS => {
                    self.status = Some(s);
                }
                // The final response (or what hyper will refuse as one): done.
                _ => self.done = true,
            }
            return;
        };
        if line.is_empty() {
            if !self.oversized {
                interim(status, &self.headers);
            }
            self.headers.clear();
            self.head_bytes = 0;
            self.oversized = false;
            self.status = None;
            return;
        }
        self.head_bytes += line.len();
        self.oversized |=
            self.line_cut || self.headers.len() >= MAX_FIELDS || self.head_bytes > MAX_HEAD_BYTES;
        if self.oversized {
            self.headers.clear(); // nothing of it is reported: keep nothing
        } else if let Some(colon) = line.iter().position(|&b| b == b':') {
            let name = HeaderName::from_bytes(&line[..colon]);
            let value = HeaderValue::from_bytes(trim(&line[colon + 1..]));
            if let (Ok(name), Ok(value)) = (name, value) {
                self.headers.append(name, value);
            }
        }
    }
}

/// Whether `bytes` begin with the status line of a final (non-1xx) HTTP/1.x response,
/// judged from its first digit: what [`status_of`] would make of the line's start.
fn starts_final(bytes: &[u8]) -> bool {
    match bytes {
        [b'H', b'T', b'T', b'P', b'/', b'1', b'.', _, b' ', first, ..] => {
            first.is_ascii_digit() && *first != b'1'
        }
        _ => false,
    }
}

/// The status code of an HTTP/1 status line (`HTTP/1.1 103 Early Hints`).
fn status_of(line: &[u8]) -> Option<StatusCode> {
    let rest = line.strip_prefix(b"HTTP/")?;
    let space = rest.iter().position(|&b| b == b' ')?;
    StatusCode::from_bytes(rest.get(space + 1..space + 4)?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const READ: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n\
HTTP/1.1 103 Early Hints\r\nlink: </a.css>; rel=preload\r\nlink: </b.js>\r\nx-hint:  two words \r\n\r\n\
HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";

    fn scan(chunks: &[&[u8]]) -> (Vec<String>, bool) {
        let mut scanner = InterimScanner::default();
        let mut seen = Vec::new();
        let mut done = false;
        for chunk in chunks {
            done = scanner.feed(chunk, |status, headers| {
                let fields: Vec<String> = headers
                    .iter()
                    .map(|(n, v)| format!("{n}={}", v.to_str().unwrap()))
                    .collect();
                seen.push(format!("{} {}", status.as_u16(), fields.join(",")));
            });
        }
        (seen, done)
    }

    #[test]
    fn each_interim_head_with_its_fields_then_done_at_the_final_status_line() {
        let (seen, done) = scan(&[READ]);
        assert_eq!(
            seen,
            [
                "100 ",
                "103 link=</a.css>; rel=preload,link=</b.js>,x-hint=two words"
            ]
        );
        assert!(done);
    }

    #[test]
    fn a_final_response_first_is_done_at_once_and_101_is_final() {
        assert_eq!(scan(&[b"HTTP/1.1 200 OK\r\n"]), (vec![], true));
        assert_eq!(
            scan(&[b"HTTP/1.1 101 Switching Protocols\r\n"]),
            (vec![], true)
        );
        assert_eq!(scan(&[b"HTTP/1.1 103 Early"]), (vec![], false));
    }

    #[test]
    fn restart_forgets_a_head_read_halfway() {
        let mut scanner = InterimScanner::default();
        assert!(!scanner.feed(b"HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n", |_, _| {}));
        scanner.restart();
        let mut seen = Vec::new();
        scanner.feed(b"HTTP/1.1 100 Continue\r\n\r\n", |s, h| {
            seen.push((s, h.len()))
        });
        assert_eq!(seen, [(StatusCode::CONTINUE, 0)]);
    }

    /// `HTTP/1.1 103 Early Hints` with `fields` as its head, then a final response.
    fn early_hints_with(fields: &[u8]) -> Vec<u8> {
        let mut read = b"HTTP/1.1 103 Early Hints\r\n".to_vec();
        read.extend_from_slice(fields);
        read.extend_from_slice(b"\r\nHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n");
        read
    }

    #[test]
    fn a_head_of_30000_distinct_fields_is_not_reported_and_keeps_nothing() {
        let mut fields = Vec::new();
        for n in 0..30_000 {
            fields.extend_from_slice(format!("x-field-{n}: v\r\n").as_bytes());
        }
        let read = early_hints_with(&fields);
        for chunk_size in [read.len(), 4096, 7] {
            let chunks: Vec<&[u8]> = read.chunks(chunk_size).collect();
            assert_eq!(scan(&chunks), (vec!["100 ".to_owned()], true));
        }
        let mut scanner = InterimScanner::default();
        scanner.feed(&read[..read.len() / 2], |_, _| {});
        assert!(
            scanner.headers.is_empty(),
            "an oversized head keeps no field"
        );
    }

    #[test]
    fn a_head_at_the_bounds_is_reported_and_one_past_them_is_not() {
        let fields: Vec<u8> = (0..MAX_FIELDS)
            .flat_map(|n| format!("x-{n}: v\r\n").into_bytes())
            .collect();
        let (seen, _) = scan(&[&early_hints_with(&fields)]);
        assert_eq!(seen.len(), 2);
        assert!(seen[0].starts_with("103 x-0=v,x-1=v"));
        let one_more = [fields.as_slice(), b"x-last: v\r\n"].concat();
        assert_eq!(scan(&[&early_hints_with(&one_more)]).0, ["100 "]);
        let many_bytes = format!("x-big: {}\r\n", "a".repeat(MAX_HEAD_BYTES));
        assert_eq!(
            scan(&[&early_hints_with(many_bytes.as_bytes())]).0,
            ["100 "]
        );
    }

    #[test]
    fn a_one_mib_header_line_is_cut_and_its_head_not_reported() {
        let line = format!("link: <{}>\r\n", "a".repeat(1 << 20));
        let read = early_hints_with(line.as_bytes());
        let mut scanner = InterimScanner::default();
        let mut seen = Vec::new();
        for chunk in read.chunks(16 * 1024) {
            scanner.feed(chunk, |s, _| seen.push(s));
            assert!(
                scanner.line.len() <= MAX_LINE,
                "a line is kept up to its cap"
            );
        }
        assert_eq!(seen, [StatusCode::CONTINUE]);
    }

    proptest! {
        /// However the bytes are cut into reads, the same heads come out.
        #[test]
        fn any_chunking_reads_the_same_heads(cuts in prop::collection::vec(0..READ.len(), 0..12)) {
            let mut cuts = cuts;
            cuts.sort_unstable();
            let mut chunks = Vec::new();
            let mut from = 0;
            for cut in cuts {
                chunks.push(&READ[from..cut]);
                from = cut;
            }
            chunks.push(&READ[from..]);
            prop_assert_eq!(scan(&chunks), scan(&[READ]));
        }

        /// The shortcut for a final response's first read says "final" only of a status line
        /// that reading the whole line would call final too.
        #[test]
        fn the_shortcut_agrees_with_reading_the_line(
            version in prop::sample::select(b"019x".to_vec()),
            code in prop::collection::vec(prop::sample::select(b"0123459x ".to_vec()), 3),
            rest in prop::sample::select(vec![" OK", "", " Early Hints"]),
        ) {
            let mut line = b"HTTP/1.".to_vec();
            line.push(version);
            line.push(b' ');
            line.extend(&code);
            line.extend(rest.as_bytes());
            let mut scanner = InterimScanner::default();
            scanner.line_ended(&line, &mut |_, _| {});
            if starts_final(&line) {
                prop_assert!(scanner.done, "{}", String::from_utf8_lossy(&line));
            }
            prop_assert_eq!(starts_final(&line), scanner.done && code[0] != b'1' && code[0].is_ascii_digit());
        }

        /// Whatever a server sends, the scanner neither panics nor reports a status that is
        /// not informational.
        #[test]
        fn arbitrary_bytes_never_panic(chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..64), 0..8)) {
            let mut scanner = InterimScanner::default();
            for chunk in &chunks {
                scanner.feed(chunk, |status, _| assert!(status.is_informational()));
            }
        }

        /// Far past the line cap: long runs of header-like bytes, newlines and garbage, in
        /// any chunking, neither panic nor grow what the scanner keeps past its bounds.
        #[test]
        fn large_hostile_heads_stay_bounded(
            parts in prop::collection::vec(
                prop_oneof![
                    Just(b"HTTP/1.1 103 Early Hints\r\n".to_vec()),
                    Just(b"\r\n".to_vec()),
                    (1usize..200_000).prop_map(|n| vec![b'a'; n]),
                    (0u32..5_000).prop_map(|n| format!("x-{n}: {n}\r\n").into_bytes()),
                    prop::collection::vec(any::<u8>(), 0..512),
                ],
                1..40,
            ),
            chunk in 1usize..70_000,
        ) {
            let read = parts.concat();
            let mut scanner = InterimScanner::default();
            for piece in read.chunks(chunk) {
                scanner.feed(piece, |status, headers| {
                    assert!(status.is_informational());
                    assert!(headers.len() <= MAX_FIELDS);
                });
                prop_assert!(scanner.line.len() <= MAX_LINE);
                prop_assert!(scanner.headers.len() <= MAX_FIELDS);
            }
        }
    }
}
