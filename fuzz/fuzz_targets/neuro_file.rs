//! Neuro source: lex + parse (lossless), check, format (idempotent on what
//! parses), and the editor features over the result. Any text must give
//! diagnostics, never a panic or a stack overflow.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parse = neuride_dsl::parse(text);
    let rebuilt: String = parse
        .tree
        .tokens()
        .iter()
        .map(|token| &text[token.range.start..token.range.end])
        .collect();
    assert_eq!(rebuilt, text, "the tree must be lossless");
    if parse.errors.is_empty()
        && let Some(formatted) = neuride_dsl::format(&parse)
    {
        let again = neuride_dsl::parse(&formatted);
        assert!(again.errors.is_empty(), "formatting broke the file");
        assert_eq!(neuride_dsl::format(&again).as_deref(), Some(formatted.as_str()));
    }
    // The whole analysis the server runs: check against the (absent) files
    // the text binds, symbols, hover data.
    let analysis = neuride_ide::analysis::analyze_file(
        Path::new("/nonexistent-fuzz-dir/app.neuro"),
        bytes::Bytes::copy_from_slice(data),
    );
    for diagnostic in analysis.diagnostics() {
        assert!(!diagnostic.message.is_empty());
    }
});
