//! HTTP/1.1 exchanges, hook by hook.

mod sequences;
