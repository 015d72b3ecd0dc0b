//! Pure readers of bytes and heads: an HTTP/1 response head, 1xx heads, HTTP/2 frames (split
//! by `http2_frame_reader.rs`, read by `http2_frames.rs`, their open streams kept by
//! `http2_streams.rs`), `host:port` from an authority. They know nothing of requests or
//! connections. (Keep-alive, `Connection` tokens and version names are the core's:
//! `httptrace::wire`.)

pub(crate) mod h2_head;
pub(crate) mod head;
pub(crate) mod host_port;
pub(crate) mod http2_frame_reader;
pub(crate) mod http2_frames;
pub(crate) mod http2_streams;
pub(crate) mod interim;
