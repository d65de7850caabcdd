//! Snapshot tests of the diagnostics for broken templates and export documents.
//!
//! Each file under `tests/template-corpus/` is broken in several ways; its snapshot is
//! every problem found, one per line, as `FILE:LINE:COL: error: FIELD: MESSAGE`. All
//! of a file's problems come from one read: nothing stops at the first.

use harmonia_model::template::Document;
use harmonia_model::{Format, Source};

fn render(path: &std::path::Path) -> String {
    let text = std::fs::read_to_string(path).expect("readable corpus file");
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("?")
        .to_string();
    let source = Source::new(name.clone(), text, Format::from_path(&name));
    match Document::read(&source, &super::types::builtin()) {
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

#[test]
fn every_builtin_template_is_valid_without_warnings() {
    use harmonia_model::template::{BUILTIN, builtin, read};
    assert!(BUILTIN.len() >= 5);
    for b in BUILTIN {
        match read(&b.source(), &super::types::builtin()) {
            Ok(l) => {
                assert!(l.warnings.is_empty(), "{}: {:?}", b.file, l.warnings);
                assert_eq!(format!("{}.yaml", l.template.name), b.file);
                assert!(l.template.description.is_some(), "{}", b.file);
                assert!(l.template.category.is_some(), "{}", b.file);
                assert!(!l.template.tags.is_empty(), "{}", b.file);
            }
            Err(e) => {
                let lines: Vec<String> = e.diagnostics().iter().map(|d| d.render(b.file)).collect();
                panic!("{}", lines.join("\n"));
            }
        }
    }
    let names: Vec<String> = builtin().into_iter().map(|t| t.name).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names.len(), BUILTIN.len());
    assert_eq!(names, sorted);
}
