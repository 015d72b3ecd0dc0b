//! 1xx responses and `Expect: 100-continue`.

mod expect_continue;
mod interim;
