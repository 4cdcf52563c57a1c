//! The language server's transport: any bytes on stdin, in any chunks,
//! must decode to frames and messages or errors, never a panic, and the
//! decoder's buffer must stay bounded.
#![no_main]

#[allow(dead_code)]
#[path = "../../server/crates/neuride/src/lsp/framing.rs"]
mod framing;
#[allow(dead_code)]
#[path = "../../server/crates/neuride/src/lsp/jsonrpc.rs"]
mod jsonrpc;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the chunk size, so splits are explored too.
    let Some((&chunk, rest)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(chunk).max(1);
    let mut decoder = framing::Decoder::default();
    for piece in rest.chunks(chunk) {
        decoder.push(piece);
        while let Some(frame) = decoder.next() {
            if let framing::Frame::Body(body) = frame {
                assert!(body.len() <= framing::MAX_BODY);
                let _ = jsonrpc::Message::decode(&body);
            }
        }
    }
});
