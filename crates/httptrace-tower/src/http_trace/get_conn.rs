//! [`HostPort`]: `GetConn`'s `host:port`, in a buffer the thread keeps.

use http::{Request, Version};
use httptrace::{ClientTrace, GetConnInfo};

thread_local! {
    /// Where `GetConn`'s `host:port` is written, reused from one request to the next.
    static HOST_PORT: std::cell::Cell<String> = const { std::cell::Cell::new(String::new()) };
}

/// `GetConn`'s `host:port` (the port defaulted from the scheme), written into a buffer the
/// thread keeps from one request to the next; it is taken out while in use, so a hook that
/// sends a request of its own is safe.
pub(crate) struct HostPort(String);

impl HostPort {
    /// `None` for a request the client will refuse.
    pub(crate) fn of<B>(req: &Request<B>) -> Option<Self> {
        if ![Version::HTTP_10, Version::HTTP_11, Version::HTTP_2].contains(&req.version()) {
            return None;
        }
        let mut buf = HOST_PORT.take();
        buf.clear();
        let written = crate::wire::host_port::write_host_port(&mut buf, req.uri());
        let host_port = HostPort(buf);
        written.map(|()| host_port)
    }

    /// The `host:port`.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    pub(crate) fn get_conn(&self, trace: &ClientTrace) {
        trace.get_conn(&GetConnInfo::new(&self.0));
    }
}

impl Drop for HostPort {
    fn drop(&mut self) {
        HOST_PORT.set(std::mem::take(&mut self.0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get_conn_text(uri: &str) -> Option<String> {
        let req = Request::get(uri).body(()).unwrap();
        HostPort::of(&req).map(|h| h.0.clone())
    }

    #[test]
    fn get_conn_names_host_and_port_whatever_the_authority_looks_like() {
        for (uri, expected) in [
            ("http://127.0.0.1:8080/x", Some("127.0.0.1:8080")),
            ("http://example.com/", Some("example.com:80")),
            ("https://example.com/", Some("example.com:443")),
            ("https://Example.COM:8443", Some("Example.COM:8443")),
            ("http://[::1]:8080/", Some("[::1]:8080")),
            ("https://[::1]/", Some("[::1]:443")),
            ("http://user:pw@example.com:81/", Some("example.com:81")),
            ("http://user@example.com/", Some("example.com:80")),
            ("ftp://example.com/", None),
            ("/relative", None),
        ] {
            assert_eq!(get_conn_text(uri).as_deref(), expected, "{uri}");
        }
    }
}
