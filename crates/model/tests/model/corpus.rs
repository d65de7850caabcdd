//! Snapshot tests of the diagnostics for a corpus of broken definitions.
//!
//! Each file under `tests/corpus/` is broken in one or more ways; its snapshot is the
//! exact list of lines `harmonia validate` prints for it. A change of wording or of
//! position shows up in review as a snapshot diff.

use harmonia_model::{Format, Source, load};

fn render(path: &std::path::Path) -> String {
    let text = std::fs::read_to_string(path).expect("readable corpus file");
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("?")
        .to_string();
    let source = Source::new(name.clone(), text, Format::from_path(&name));
    let diagnostics = match load(&source, &super::types::builtin()) {
        Ok(loaded) => loaded.warnings,
        Err(e) => e.diagnostics().to_vec(),
    };
    diagnostics
        .iter()
        .map(|d| d.render(&name))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn every_broken_definition_reports_its_problems() {
    insta::glob!(
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests"),
        "corpus/*.*",
        |path| {
            let out = render(path);
            assert!(
                out.contains("error:"),
                "{} should have at least one error",
                path.display()
            );
            insta::assert_snapshot!(out);
        }
    );
}

#[test]
fn the_corpus_is_large_enough() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let n = std::fs::read_dir(dir).expect("corpus dir").count();
    assert!(n >= 30, "only {n} broken definitions");
}
