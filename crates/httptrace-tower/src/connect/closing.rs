//! [`Closing`]: what a connection's I/O saw of its end, told when the I/O is dropped.

use std::sync::Arc;

use httptrace::TraceError;

use crate::state::connection::ConnShared;

/// Reports the connection's close (`ConnClosed`) when the I/O is dropped, with what the I/O
/// saw: the server's end of stream, or the first error.
pub(crate) struct Closing {
    pub(crate) shared: Option<Arc<ConnShared>>,
    pub(crate) read_eof: bool,
    pub(crate) error: Option<TraceError>,
}

impl Closing {
    pub(crate) fn failed(&mut self, err: &std::io::Error) {
        if self.error.is_none() && !self.read_eof {
            self.error = Some(TraceError::describe(err));
        }
    }
}

impl Drop for Closing {
    fn drop(&mut self) {
        if let Some(shared) = self.shared.take() {
            shared.closed(self.read_eof, self.error.take());
        }
    }
}
