//! `GetConn`'s `host:port`: a request's destination as Go names it, the port defaulted from
//! the scheme.

/// Writes `uri`'s `host:port` (the port defaulted from the scheme) into `buf`, as `GetConn`
/// names it; `None` for a URI the client will refuse.
pub(crate) fn write_host_port(buf: &mut String, uri: &http::Uri) -> Option<()> {
    let default_port = match uri.scheme_str()? {
        "http" => 80,
        "https" => 443,
        _ => return None,
    };
    let authority = uri.authority()?.as_str();
    match plain_host_port(authority) {
        // Already `host:port` (the usual case): taken as it is.
        Some((_, true)) => buf.push_str(authority),
        Some((host, false)) => {
            let _ = std::fmt::Write::write_fmt(buf, format_args!("{host}:{default_port}"));
        }
        // Brackets, user info: as the `http` crate reads it.
        None => {
            let host = uri.host().filter(|h| !h.is_empty())?;
            let port = uri.port_u16().unwrap_or(default_port);
            let _ = std::fmt::Write::write_fmt(buf, format_args!("{host}:{port}"));
        }
    }
    Some(())
}

/// An authority of the plain form `host` or `host:port` (no user info, no IPv6 brackets):
/// the host, and whether a valid port follows it. `None` for any other form, or an empty
/// host. One pass over the bytes.
fn plain_host_port(authority: &str) -> Option<(&str, bool)> {
    let mut colon = None;
    for (i, b) in authority.bytes().enumerate() {
        match b {
            b'@' | b'[' => return None,
            b':' if colon.is_some() => return None,
            b':' => colon = Some(i),
            _ => {}
        }
    }
    let Some(colon) = colon else {
        return (!authority.is_empty()).then_some((authority, false));
    };
    let (host, port) = (&authority[..colon], &authority[colon + 1..]);
    (!host.is_empty() && port.parse::<u16>().is_ok()).then_some((host, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plain_form_is_read_without_the_uri_parser() {
        assert_eq!(plain_host_port("a:1"), Some(("a", true)));
        assert_eq!(plain_host_port("a"), Some(("a", false)));
        assert_eq!(plain_host_port("a:"), None);
        assert_eq!(plain_host_port(":80"), None);
        assert_eq!(plain_host_port("[::1]:80"), None);
        assert_eq!(plain_host_port("u@a:1"), None);
    }
}
