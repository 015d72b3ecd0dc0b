//! The parts the suite's tests share, each in the file of what it is: real hyper servers on
//! loopback and raw ones that script or misbehave, the clients the tests drive, a resolver
//! the test controls, Go's reference sequences, the assertions every log must pass, and a
//! private PKI. `use support::*` in a test brings them all.

pub mod assertions;
pub mod clients;
pub mod count_drops;
pub mod expect_server;
pub mod h2_raw;
pub mod hold_dials;
pub mod matrix;
pub mod pki;
pub mod raw_servers;
pub mod resolver;
pub mod secrets;
pub mod sequences;
pub mod server;

pub use assertions::*;
pub use clients::*;
pub use count_drops::CountDrops;
pub use expect_server::ExpectServer;
pub use hold_dials::{DialHold, HoldDials};
pub use pki::TestPki;
pub use raw_servers::*;
pub use resolver::TestResolver;
pub use secrets::{assert_no_secret, secret_request, secret_server, secret_url, SECRETS};
pub use sequences::*;
pub use server::{redirect_chain, Seen, TestServer, TlsSeen};
