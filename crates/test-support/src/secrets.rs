//! A request that carries every kind of secret the ready-made outputs must hide, and the
//! check that an output shows none of them.

use bytes::Bytes;
use http_body_util::Full;

use super::TestServer;

/// Each secret the request (and its response) carries.
pub const SECRETS: [&str; 7] = [
    "pa55word",
    "s1gnature",
    "AKIDsecret",
    "g00gsig",
    "t0ken-secret",
    "c00kie-secret",
    "srv-secret",
];

/// A URL on `server` with `user:password@`, and a signed query (AWS's and Google's
/// parameters, one in another case) beside a plain parameter.
pub fn secret_url(server: &TestServer) -> String {
    format!(
        "http://user:pa55word@127.0.0.1:{}/path?X-Amz-Signature=s1gnature&AWSAccessKeyId=AKIDsecret&x-goog-signature=g00gsig&plain=1",
        server.port()
    )
}

/// A GET of `url` with an `Authorization` and a `Cookie` (its name in another case).
pub fn secret_request(url: &str) -> http::Request<Full<Bytes>> {
    http::Request::get(url)
        .header("authorization", "Bearer t0ken-secret")
        .header("COOKIE", "id=c00kie-secret")
        .body(Full::default())
        .unwrap()
}

/// A server whose answers carry secrets too: a cookie, and a `location` to a signed URL.
pub async fn secret_server() -> TestServer {
    TestServer::with_handler(|_| {
        http::Response::builder()
            .header("set-cookie", "session=srv-secret")
            .header(
                "location",
                "http://u:pa55word@elsewhere.test/?sig=s1gnature",
            )
            .body(Full::new(Bytes::from_static(b"ok")))
            .unwrap()
    })
    .await
}

/// Fails if `output` shows any secret.
pub fn assert_no_secret(what: &str, output: &str) {
    for secret in SECRETS {
        assert!(
            !output.contains(secret),
            "{what} shows {secret:?}:\n{output}"
        );
    }
}
