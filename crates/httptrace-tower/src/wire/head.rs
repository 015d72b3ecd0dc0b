//! Reads the HTTP/1 request head out of the bytes written to a connection, to report each
//! header field as it was really sent (names as on the wire, the fields hyper and hyper-util
//! add included) and the moment the head was fully written.

use std::ops::Range;

use httptrace::WroteHeaderFieldInfo;

/// What the scanner found in a chunk of written bytes.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum HeadEvent<'a> {
    /// A header field, with all the values of consecutive lines of the same name.
    Field(WroteHeaderFieldInfo<'a>),
    /// The blank line that ends the head.
    End,
}

/// Incremental: chunks may split anywhere, even inside `\r\n`. Its buffers are kept from one
/// request to the next ([`HeadScanner::restart`]), so scanning allocates nothing once they
/// have grown to the size of a head's longest line and field.
#[derive(Debug, Default)]
pub(crate) struct HeadScanner {
    /// The current line, when fields are collected (else only its length counts).
    line: Vec<u8>,
    line_len: usize,
    last_was_cr: bool,
    seen_request_line: bool,
    /// The field being grouped: its lowercased name, then its values back to back.
    pending: Vec<u8>,
    pending_name: usize,
    pending_values: Vec<Range<usize>>,
    collect_fields: bool,
    done: bool,
}

/// Longest line kept; a longer one (not something hyper writes) is reported cut short.
pub(crate) const MAX_LINE: usize = 64 * 1024;

impl HeadScanner {
    /// `collect_fields` false only finds the end of the head (no hook wants the fields).
    #[cfg(test)]
    pub(crate) fn new(collect_fields: bool) -> Self {
        let mut scanner = Self::default();
        scanner.restart(collect_fields);
        scanner
    }

    /// Ready for the next request's head, keeping the buffers.
    pub(crate) fn restart(&mut self, collect_fields: bool) {
        self.line.clear();
        self.line_len = 0;
        self.last_was_cr = false;
        self.seen_request_line = false;
        self.pending_values.clear();
        self.collect_fields = collect_fields;
        self.done = false;
    }

    /// Nothing of the next head is wanted: the scanner is done with it at once.
    pub(crate) fn skip_head(&mut self) {
        self.done = true;
    }

    pub(crate) fn is_done(&self) -> bool {
        self.done
    }

    /// Feeds written bytes; returns how many belong to the head (the rest is body).
    pub(crate) fn feed(&mut self, bytes: &[u8], mut emit: impl FnMut(HeadEvent<'_>)) -> usize {
        if self.done {
            return 0;
        }
        let mut at = 0;
        // A line at a time: the bytes up to the next `\n` are taken in one piece.
        while at < bytes.len() {
            let rest = &bytes[at..];
            let Some(newline) = memchr::memchr(b'\n', rest) else {
                self.take_line_part(rest);
                break;
            };
            self.take_line_part(&rest[..newline]);
            at += newline + 1;
            if self.last_was_cr {
                if self.line.last() == Some(&b'\r') {
                    self.line.pop();
                }
                self.line_len -= 1;
            }
            if self.line_len == 0 && self.seen_request_line {
                self.flush_pending(&mut emit);
                self.done = true;
                emit(HeadEvent::End);
                return at;
            }
            if self.seen_request_line {
                self.finish_field_line(&mut emit);
            }
            self.seen_request_line |= self.line_len > 0;
            self.line.clear();
            self.line_len = 0;
            self.last_was_cr = false;
        }
        bytes.len()
    }

    /// Bytes of the current line (no `\n` among them).
    fn take_line_part(&mut self, part: &[u8]) {
        let Some(&last) = part.last() else { return };
        if self.collect_fields && self.line.len() < MAX_LINE {
            let room = MAX_LINE - self.line.len();
            self.line.extend_from_slice(&part[..part.len().min(room)]);
        }
        self.line_len += part.len();
        self.last_was_cr = last == b'\r';
    }

    fn finish_field_line(&mut self, emit: &mut impl FnMut(HeadEvent<'_>)) {
        if !self.collect_fields {
            return;
        }
        // Taken out while the pending field changes (no allocation: the buffer goes back).
        let line = std::mem::take(&mut self.line);
        self.group(&line, emit);
        self.line = line;
    }

    fn group(&mut self, line: &[u8], emit: &mut impl FnMut(HeadEvent<'_>)) {
        let Some(colon) = memchr::memchr(b':', line) else {
            return;
        };
        let (name, value) = (&line[..colon], trim(&line[colon + 1..]));
        let grouping = !self.pending_values.is_empty()
            && self.pending[..self.pending_name].eq_ignore_ascii_case(name);
        if !grouping {
            self.flush_pending(emit);
            self.pending.clear();
            self.pending.extend(name.iter().map(u8::to_ascii_lowercase));
            self.pending_name = name.len();
        }
        let start = self.pending.len();
        self.pending.extend_from_slice(value);
        self.pending_values.push(start..self.pending.len());
    }

    /// Reports the field being grouped, if any.
    fn flush_pending(&mut self, emit: &mut impl FnMut(HeadEvent<'_>)) {
        if self.pending_values.is_empty() {
            return;
        }
        let pending = &self.pending[..];
        let name = String::from_utf8_lossy(&pending[..self.pending_name]);
        match &self.pending_values[..] {
            [one] => {
                let value = &pending[one.clone()];
                emit(HeadEvent::Field(WroteHeaderFieldInfo::new(
                    &name,
                    std::slice::from_ref(&value),
                )));
            }
            several => {
                let values: Vec<&[u8]> = several.iter().map(|r| &pending[r.clone()]).collect();
                emit(HeadEvent::Field(WroteHeaderFieldInfo::new(&name, &values)));
            }
        }
        self.pending_values.clear();
    }
}

/// `v` without the spaces and tabs around it.
pub(crate) fn trim(mut v: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = v {
        v = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = v {
        v = rest;
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &[u8] = b"POST /up HTTP/1.1\r\nhost: localhost:8080\r\naccept: a\r\naccept: b\r\ncontent-length: 5\r\nx: 1\r\n\r\nhello";

    fn scan(chunks: &[&[u8]]) -> (Vec<String>, usize) {
        let mut s = HeadScanner::new(true);
        let mut out = Vec::new();
        let mut head_len = 0;
        for c in chunks {
            head_len += s.feed(c, |e| match e {
                HeadEvent::Field(f) => out.push(format!(
                    "{}={}",
                    f.name,
                    f.value_strs().collect::<Vec<_>>().join("|")
                )),
                HeadEvent::End => out.push("END".into()),
            });
        }
        (out, head_len)
    }

    #[test]
    fn fields_in_wire_order_with_repeated_names_grouped() {
        let (events, head_len) = scan(&[HEAD]);
        assert_eq!(
            events,
            [
                "host=localhost:8080",
                "accept=a|b",
                "content-length=5",
                "x=1",
                "END"
            ]
        );
        assert_eq!(head_len, HEAD.len() - 5, "the body is not part of the head");
    }

    #[test]
    fn every_split_point_gives_the_same_events() {
        let whole = scan(&[HEAD]).0;
        for i in 0..HEAD.len() {
            for j in i..HEAD.len() {
                let (events, _) = scan(&[&HEAD[..i], &HEAD[i..j], &HEAD[j..]]);
                assert_eq!(events, whole, "split at {i} and {j}");
            }
        }
    }

    #[test]
    fn without_fields_only_the_end_is_found() {
        let mut s = HeadScanner::new(false);
        let mut events = Vec::new();
        s.feed(HEAD, |e| events.push(matches!(e, HeadEvent::End)));
        assert_eq!(events, [true]);
        assert!(s.is_done());
        assert_eq!(s.feed(b"more", |_| panic!("nothing after the end")), 0);
    }

    #[test]
    fn title_case_names_are_lowercased_and_values_trimmed() {
        let (events, _) = scan(&[b"GET / HTTP/1.1\r\nHost:   a \r\nUser-Agent:\tx\r\n\r\n"]);
        assert_eq!(events, ["host=a", "user-agent=x", "END"]);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// A request head as hyper writes it: a request line, `name: value` lines (names
        /// repeat, values may be empty), a blank line; then some body.
        fn head() -> impl Strategy<Value = (Vec<u8>, Vec<(String, String)>, usize)> {
            let name =
                prop::sample::select(vec!["host", "accept", "x-id", "cookie", "content-length"]);
            let value = "[ -~&&[^:]]{0,20}".prop_map(|v| v.trim().to_owned());
            (
                prop::collection::vec((name, value), 0..12),
                prop::collection::vec(any::<u8>(), 0..64),
            )
                .prop_map(|(fields, body)| {
                    let mut bytes = b"POST /p?q=1 HTTP/1.1\r\n".to_vec();
                    for (n, v) in &fields {
                        bytes.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
                    }
                    bytes.extend_from_slice(b"\r\n");
                    let head_len = bytes.len();
                    bytes.extend_from_slice(&body);
                    let fields = fields.into_iter().map(|(n, v)| (n.to_owned(), v)).collect();
                    (bytes, fields, head_len)
                })
        }

        /// Consecutive lines of one name make one field, as the scanner reports them.
        fn grouped(fields: &[(String, String)]) -> Vec<String> {
            let mut out: Vec<(String, Vec<String>)> = Vec::new();
            for (n, v) in fields {
                match out.last_mut() {
                    Some((last, values)) if last == n => values.push(v.clone()),
                    _ => out.push((n.clone(), vec![v.clone()])),
                }
            }
            out.into_iter()
                .map(|(n, v)| format!("{n}={}", v.join("|")))
                .collect()
        }

        proptest! {
            #[test]
            fn any_chunking_of_any_head_gives_its_fields_and_its_length(
                (bytes, fields, head_len) in head(),
                cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
            ) {
                let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
                cuts.sort();
                let mut chunks = Vec::new();
                let mut from = 0;
                for c in cuts.into_iter().chain([bytes.len()]) {
                    chunks.push(&bytes[from..c]);
                    from = c;
                }
                let (events, consumed) = scan(&chunks);
                let mut expected = grouped(&fields);
                expected.push("END".into());
                prop_assert_eq!(events, expected);
                prop_assert_eq!(consumed, head_len);
            }

            #[test]
            fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
                let mut s = HeadScanner::new(true);
                let n = s.feed(&bytes, |_| {});
                prop_assert!(n <= bytes.len());
            }

            /// Far past the line cap, in any chunking: no panic, and a line is kept up to
            /// its cap (a cut line is reported cut short).
            #[test]
            fn large_inputs_keep_lines_within_the_cap(
                parts in prop::collection::vec(
                    prop_oneof![
                        Just(b"GET / HTTP/1.1\r\n".to_vec()),
                        Just(b"\r\n".to_vec()),
                        (1usize..200_000).prop_map(|n| vec![b'a'; n]),
                        (0u32..2_000).prop_map(|n| format!("x-{n}: {n}\r\n").into_bytes()),
                        prop::collection::vec(any::<u8>(), 0..512),
                    ],
                    1..30,
                ),
                chunk in 1usize..70_000,
            ) {
                let bytes = parts.concat();
                let mut s = HeadScanner::new(true);
                for piece in bytes.chunks(chunk) {
                    let n = s.feed(piece, |event| {
                        if let HeadEvent::Field(field) = event {
                            assert!(field.values.iter().all(|v| v.len() <= MAX_LINE));
                        }
                    });
                    prop_assert!(n <= piece.len());
                    prop_assert!(s.line.len() <= MAX_LINE);
                    if s.is_done() {
                        break;
                    }
                }
            }
        }
    }
}
