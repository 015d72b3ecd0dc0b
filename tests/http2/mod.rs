//! HTTP/2 from the frames, and hyper-util's retry after GOAWAY.

mod frames;
mod retry;
