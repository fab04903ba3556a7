//! Arbitrary bytes split into secret, `X-Hub-Signature-256`, event and body, through the
//! daemon's own signature check and body parsing, as sent and correctly signed. The body of
//! the target is `tidemark_daemon::webhooks::fuzz::verify_and_parse_input`, which a seeded
//! test also runs on stable.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tidemark_daemon::webhooks::fuzz::verify_and_parse_input(data);
});
