//! Fuzz target: compiling a `${ }` template never panics, whatever the text.
#![no_main]

use harmonia_expr::{Context, Limits, Template, VarSet};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(t) = Template::compile(text, VarSet::ALL) {
        let limits = Limits {
            timeout: std::time::Duration::from_millis(20),
            max_output_bytes: 1 << 16,
            max_memory_bytes: 16 << 20,
        };
        let _ = t.eval(&Context::new(), &limits);
    }
});
