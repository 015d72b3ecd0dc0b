//! A resolver service whose answers the test decides: fixed addresses, a failure, or an answer
//! held back until the test releases it.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use hyper_util::client::legacy::connect::dns::Name;
use tokio::sync::Semaphore;
use tower::Service;

type Answers = HashMap<String, Result<Vec<IpAddr>, String>>;

#[derive(Clone, Default)]
pub struct TestResolver {
    answers: Arc<Mutex<Answers>>,
    gate: Option<Arc<Semaphore>>,
    pub queries: Arc<Mutex<Vec<String>>>,
}

impl TestResolver {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with(self, name: &str, addrs: &[&str]) -> Self {
        let addrs = addrs.iter().map(|a| a.parse().unwrap()).collect();
        self.answers
            .lock()
            .unwrap()
            .insert(name.to_owned(), Ok(addrs));
        self
    }

    pub fn failing(self, name: &str, message: &str) -> Self {
        self.answers
            .lock()
            .unwrap()
            .insert(name.to_owned(), Err(message.to_owned()));
        self
    }

    /// Every query waits for a permit from the returned semaphore.
    pub fn gated(mut self) -> (Self, Arc<Semaphore>) {
        let gate = Arc::new(Semaphore::new(0));
        self.gate = Some(gate.clone());
        (self, gate)
    }

    pub fn query_count(&self) -> usize {
        self.queries.lock().unwrap().len()
    }
}

impl Service<Name> for TestResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, std::io::Error>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), std::io::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            this.queries.lock().unwrap().push(name.as_str().to_owned());
            if let Some(gate) = &this.gate {
                gate.acquire().await.expect("gate open").forget();
            }
            let answer = this.answers.lock().unwrap().get(name.as_str()).cloned();
            match answer {
                Some(Ok(addrs)) => Ok(addrs
                    .into_iter()
                    .map(|ip| SocketAddr::new(ip, 0))
                    .collect::<Vec<_>>()
                    .into_iter()),
                Some(Err(message)) => Err(std::io::Error::other(message)),
                None => Err(std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!("no such host: {name}"),
                )),
            }
        })
    }
}
