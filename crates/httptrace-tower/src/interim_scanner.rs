//! Reads the informational (1xx) responses out of the bytes an HTTP/1 connection receives, up
//! to the final response's status line, for the hooks of a request whose 1xx responses are
//! read off the wire rather than from hyper's informational callback (`informational.rs`).

use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};

use crate::head_scanner::{trim, MAX_LINE};

/// Incremental: chunks may split anywhere, even inside `\r\n`. Its buffers are kept from one
/// request to the next ([`InterimScanner::restart`]).
#[derive(Debug, Default)]
pub(crate) struct InterimScanner {
    /// The current line, without its `\n`.
    line: Vec<u8>,
    /// The status of the 1xx head being read; `None` before its status line.
    status: Option<StatusCode>,
    headers: HeaderMap,
    /// The final response's status line was read: nothing more to look at.
    done: bool,
}

impl InterimScanner {
    /// Ready for the next response, keeping the buffers.
    pub(crate) fn restart(&mut self) {
        self.line.clear();
        self.status = None;
        self.headers.clear();
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
        }
        self.done
    }

    fn take(&mut self, part: &[u8]) {
        let room = MAX_LINE.saturating_sub(self.line.len());
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
            interim(status, &self.headers);
            self.headers.clear();
            self.status = None;
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
    }
}
