//! Fuzz target: reading and validating a definition never panics, whatever the bytes,
//! as YAML or as JSON; and every diagnostic points inside the source.
#![no_main]

use harmonia_model::{Format, Source, TaskTypes, load};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let types = TaskTypes::builtin();
    for format in [Format::Yaml, Format::Json] {
        let source = Source::new("fuzz", text, format);
        if let Err(e) = load(&source, &types) {
            let lines = text.lines().count().max(1) + 1;
            for d in e.diagnostics() {
                assert!(d.position.line >= 1 && d.position.line <= lines, "{d:?}");
            }
        }
    }
});
