//! Snapshot tests of the diagnostics for broken templates and export documents.
//!
//! Each file under `tests/template-corpus/` is broken in several ways; its snapshot is
//! every problem found, one per line, as `FILE:LINE:COL: error: FIELD: MESSAGE`. All
//! of a file's problems come from one read: nothing stops at the first.

use harmonia_model::template::Document;
use harmonia_model::{Format, Source, TaskTypes};

fn render(path: &std::path::Path) -> String {
    let text = std::fs::read_to_string(path).expect("readable corpus file");
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("?")
        .to_string();
    let source = Source::new(name.clone(), text, Format::from_path(&name));
    match Document::read(&source, &TaskTypes::builtin()) {
        Ok(_) => String::new(),
        Err(e) => e
            .diagnostics()
            .iter()
            .map(|d| d.render(&name))
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

#[test]
fn every_broken_template_reports_all_its_problems() {
    insta::glob!(
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests"),
        "template-corpus/*.*",
        |path| {
            let out = render(path);
            assert!(
                out.lines().filter(|l| l.contains("error:")).count() >= 3,
                "{} should have several errors:\n{out}",
                path.display()
            );
            insta::assert_snapshot!(out);
        }
    );
}
