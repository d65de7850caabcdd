//! The documentation, checked against the binary, so that what it shows works.
//!
//! - Every fenced block of `README.md` and `docs/*.md` whose info string is `yaml run`,
//!   `yaml validate` or `yaml invalid` (or the same with `json`) is written to a file of
//!   its own, in a directory of its own, and given to the binary: `harmonia run FILE`
//!   must exit 0, `harmonia validate FILE` must exit 0, and, for `invalid`, `harmonia
//!   validate FILE` must exit 1. Each has a time limit, after which it is killed.
//! - Every relative link of those files (`[x](docs/foo.md)`, `[y](../examples/a.yaml)`)
//!   must name a file or directory that exists. Links to web pages and to anchors of the
//!   same page are not checked, nor the anchor part of a link.
//! - Every `examples/*.yaml` and `examples/*.json` must pass `harmonia validate`.
//!
//! Invariants: the blocks run in parallel, each with its working directory a fresh
//! temporary directory (no `harmonia.toml` and no database of the developer's is
//! picked up) and without the `HARMONIA_*` and `HERMES_URL` variables of the
//! environment; every failure is collected, with its Markdown file and the line of its
//! block or link, before the test fails; the test works whatever guides exist.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::root;

/// What the binary is asked about a block, and the exit code that passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Run,
    Validate,
    Invalid,
}

impl Mode {
    fn parse(word: &str) -> Option<Mode> {
        match word {
            "run" => Some(Mode::Run),
            "validate" => Some(Mode::Validate),
            "invalid" => Some(Mode::Invalid),
            _ => None,
        }
    }

    fn command(self) -> &'static str {
        match self {
            Mode::Run => "run",
            Mode::Validate | Mode::Invalid => "validate",
        }
    }

    fn expected(self) -> i32 {
        match self {
            Mode::Run | Mode::Validate => 0,
            Mode::Invalid => 1,
        }
    }

    fn limit(self) -> Duration {
        match self {
            Mode::Run => Duration::from_secs(90),
            Mode::Validate | Mode::Invalid => Duration::from_secs(30),
        }
    }
}

/// A checked block of a Markdown file.
#[derive(Debug)]
struct Block {
    /// The Markdown file, relative to the repository.
    doc: String,
    /// The line of its opening fence (1-based).
    line: usize,
    /// The file extension: `yaml` or `json`.
    ext: &'static str,
    mode: Mode,
    info: String,
    text: String,
}

/// A fenced block's opening: its fence character, length and indentation, and its
/// info string.
fn opening(line: &str) -> Option<(char, usize, usize, &str)> {
    let body = line.trim_start_matches(' ');
    let indent = line.len() - body.len();
    let fence = body.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let len = body.chars().take_while(|c| *c == fence).count();
    if len < 3 {
        return None;
    }
    let info = body[len..].trim();
    // A backtick fence's info string holds no backtick (CommonMark).
    if fence == '`' && info.contains('`') {
        return None;
    }
    Some((fence, len, indent, info))
}

/// Whether `line` closes a fence of `fence` characters at least `len` long.
fn closes(line: &str, fence: char, len: usize) -> bool {
    let body = line.trim();
    body.chars().take_while(|c| *c == fence).count() >= len && body.chars().all(|c| c == fence)
}

/// The fenced blocks of a Markdown text: (line of the opening fence, info string,
/// content, with the fence's indentation removed).
fn fenced(text: &str) -> Vec<(usize, String, String)> {
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((i, line)) = lines.next() {
        let Some((fence, len, indent, info)) = opening(line) else {
            continue;
        };
        let mut content = String::new();
        for (_, inner) in lines.by_ref() {
            if closes(inner, fence, len) {
                break;
            }
            let spaces = inner.len() - inner.trim_start_matches(' ').len();
            content.push_str(&inner[spaces.min(indent)..]);
            content.push('\n');
        }
        out.push((i + 1, info.to_string(), content));
    }
    out
}

/// The blocks of one Markdown file that the binary checks.
fn checked_blocks(doc: &str, text: &str) -> Vec<Block> {
    fenced(text)
        .into_iter()
        .filter_map(|(line, info, text)| {
            let mut words = info.split_whitespace();
            let ext = match words.next()? {
                "yaml" | "yml" => "yaml",
                "json" => "json",
                _ => return None,
            };
            let mode = Mode::parse(words.next()?)?;
            Some(Block {
                doc: doc.to_string(),
                line,
                ext,
                mode,
                info,
                text,
            })
        })
        .collect()
}

/// `README.md` and `docs/*.md`, relative to the repository, sorted.
fn markdown_files(root: &Path) -> Vec<String> {
    let mut files = vec!["README.md".to_string()];
    let mut guides: Vec<String> = std::fs::read_dir(root.join("docs"))
        .expect("docs/ is readable")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "md"))
        .filter_map(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .map(|n| format!("docs/{n}"))
        })
        .collect();
    guides.sort();
    files.extend(guides);
    files
}

/// The last lines of a command's output, indented, for a report.
fn tail(label: &str, text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let from = lines.len().saturating_sub(15);
    if lines.is_empty() {
        return String::new();
    }
    let mut out = format!("\n    {label}:");
    if from > 0 {
        out.push_str("\n      ...");
    }
    for l in &lines[from..] {
        out.push_str("\n      ");
        out.push_str(l);
    }
    out
}

/// The outcome of running the binary: its exit code (`None` when killed at the time
/// limit), stdout and stderr.
struct Ran {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs the binary in `dir` with `args`, without the environment that would change
/// what it does, killing it after `limit`.
fn run_binary(dir: &Path, args: &[&str], limit: Duration) -> Ran {
    let out_path = dir.join("stdout.txt");
    let err_path = dir.join("stderr.txt");
    let mut command = Command::new(env!("CARGO_BIN_EXE_harmonia"));
    command
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).expect("stdout file"))
        .stderr(std::fs::File::create(&err_path).expect("stderr file"));
    for (key, _) in std::env::vars_os() {
        let name = key.to_string_lossy();
        if name.starts_with("HARMONIA_") || name == "HERMES_URL" {
            command.env_remove(&key);
        }
    }
    let mut child = command.spawn().expect("the binary starts");
    let deadline = Instant::now() + limit;
    let code = loop {
        if let Some(status) = child.try_wait().expect("waits for the binary") {
            break status.code();
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Ran {
        code,
        stdout: std::fs::read_to_string(&out_path).unwrap_or_default(),
        stderr: std::fs::read_to_string(&err_path).unwrap_or_default(),
    }
}

/// Checks one block; `Err` says why it failed.
fn check_block(block: &Block, index: usize, temp: &Path) -> Result<(), String> {
    let dir = temp.join(format!("block-{index}"));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let file = format!("block.{}", block.ext);
    std::fs::write(dir.join(&file), &block.text).map_err(|e| format!("cannot write: {e}"))?;
    let limit = block.mode.limit();
    let ran = run_binary(&dir, &[block.mode.command(), &file], limit);
    let expected = block.mode.expected();
    if ran.code == Some(expected) {
        return Ok(());
    }
    let what = match ran.code {
        None => format!("still running after {}s, killed", limit.as_secs()),
        Some(code) => format!("exit {code}, expected {expected}"),
    };
    Err(format!(
        "{}:{}: `{}`: `harmonia {} FILE`: {what}{}{}",
        block.doc,
        block.line,
        block.info,
        block.mode.command(),
        tail("stdout", &ran.stdout),
        tail("stderr", &ran.stderr),
    ))
}

/// The link targets of a line of Markdown outside code: inline links and images
/// (`[x](target "title")`) and reference definitions (`[x]: target`).
fn link_targets(line: &str) -> Vec<String> {
    // Code spans hold examples, not links.
    let mut prose = String::new();
    let mut in_code = false;
    for c in line.chars() {
        if c == '`' {
            in_code = !in_code;
        } else if !in_code {
            prose.push(c);
        }
    }
    let mut out = Vec::new();
    let trimmed = prose.trim_start();
    if trimmed.starts_with('[')
        && let Some(end) = trimmed.find(']')
        && let Some(definition) = trimmed[end + 1..].strip_prefix(':')
        && let Some(target) = definition.split_whitespace().next()
    {
        out.push(target.to_string());
    }
    let mut rest = prose.as_str();
    while let Some(at) = rest.find("](") {
        let after = &rest[at + 2..];
        let mut depth = 0usize;
        let mut end = after.len();
        for (i, c) in after.char_indices() {
            match c {
                '(' => depth += 1,
                ')' if depth == 0 => {
                    end = i;
                    break;
                }
                ')' => depth -= 1,
                _ => {}
            }
        }
        let inside = after[..end].trim();
        let target = inside
            .strip_prefix('<')
            .and_then(|t| t.split_once('>'))
            .map(|(t, _)| t)
            .or_else(|| inside.split_whitespace().next())
            .unwrap_or_default();
        out.push(target.to_string());
        rest = &after[end.min(after.len())..];
    }
    out
}

/// The relative links of a Markdown file that name no existing file: (line, target).
fn broken_links(root: &Path, doc: &str, text: &str) -> Vec<(usize, String)> {
    let base = root.join(doc);
    let base = base.parent().unwrap_or(root);
    let mut broken = Vec::new();
    let mut fence: Option<(char, usize)> = None;
    for (i, line) in text.lines().enumerate() {
        if let Some((c, len)) = fence {
            if closes(line, c, len) {
                fence = None;
            }
            continue;
        }
        if let Some((c, len, _, _)) = opening(line) {
            fence = Some((c, len));
            continue;
        }
        for target in link_targets(line) {
            let path = target.split('#').next().unwrap_or_default();
            let external =
                target.contains("://") || target.starts_with("mailto:") || target.starts_with('/');
            if external || path.is_empty() {
                continue;
            }
            let path = path.split('?').next().unwrap_or_default();
            if !base.join(path).exists() {
                broken.push((i + 1, target));
            }
        }
    }
    broken
}

#[test]
fn the_docs_blocks_run_their_links_resolve_and_the_examples_validate() {
    let started = Instant::now();
    let root = root();
    let mut failures: Vec<(String, usize, String)> = Vec::new();
    let mut blocks = Vec::new();
    for doc in markdown_files(&root) {
        let text = std::fs::read_to_string(root.join(&doc))
            .unwrap_or_else(|e| panic!("cannot read {doc}: {e}"));
        for (line, target) in broken_links(&root, &doc, &text) {
            failures.push((
                doc.clone(),
                line,
                format!("{doc}:{line}: the link `{target}` names no file of the repository"),
            ));
        }
        blocks.extend(checked_blocks(&doc, &text));
    }
    assert!(
        !blocks.is_empty(),
        "no `yaml run`, `yaml validate` or `yaml invalid` block in README.md or docs/*.md"
    );

    // The blocks, on a few threads: most of a block's time is the binary starting.
    let temp = tempfile::tempdir().expect("tempdir");
    let next = AtomicUsize::new(0);
    let found = Mutex::new(Vec::new());
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(4, 8);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(block) = blocks.get(i) else { break };
                    if let Err(why) = check_block(block, i, temp.path()) {
                        found.lock().expect("no thread panicked").push((
                            block.doc.clone(),
                            block.line,
                            why,
                        ));
                    }
                }
            });
        }
    });
    failures.extend(found.into_inner().expect("no thread panicked"));

    // The examples, in one call: it names each file with a problem.
    let mut examples: Vec<String> = std::fs::read_dir(root.join("examples"))
        .expect("examples/ is readable")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "yaml" || e == "json"))
        .map(|p| p.display().to_string())
        .collect();
    examples.sort();
    let examples_dir = temp.path().join("examples");
    std::fs::create_dir_all(&examples_dir).expect("a directory for the examples");
    let mut args = vec!["validate"];
    args.extend(examples.iter().map(String::as_str));
    let ran = run_binary(&examples_dir, &args, Duration::from_secs(60));
    if ran.code != Some(0) {
        failures.push((
            "examples".to_string(),
            0,
            format!(
                "examples/*.yaml|json: `harmonia validate` exited {:?}, expected 0{}{}",
                ran.code,
                tail("stdout", &ran.stdout),
                tail("stderr", &ran.stderr)
            ),
        ));
    }

    failures.sort();
    assert!(
        failures.is_empty(),
        "{} problem(s) in the docs (checked {} blocks in {:.1}s):\n\n{}\n",
        failures.len(),
        blocks.len(),
        started.elapsed().as_secs_f64(),
        failures
            .iter()
            .map(|(_, _, why)| why.as_str())
            .collect::<Vec<_>>()
            .join("\n\n")
    );
    eprintln!(
        "checked {} blocks and {} examples in {:.1}s",
        blocks.len(),
        examples.len(),
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn blocks_and_links_are_found_where_markdown_puts_them() {
    let text = "intro [a](docs/a.md) and `[b](not/a/link.md)`\n\
                \n\
                ```yaml run\n\
                name: x\n\
                ```\n\
                \n\
                1. a step:\n\
                \x20\x20\x20```json invalid\n\
                \x20\x20\x20{\"name\": 1}\n\
                \x20\x20\x20```\n\
                ````markdown\n\
                ```yaml validate\n\
                [c](inside/code.md)\n\
                ```\n\
                ````\n\
                ```yaml\n\
                plain: yes\n\
                ```\n\
                [ref]: ../examples/a.yaml \"title\"\n\
                see [web](https://example.com) and [here](#top) and [d](<b c.md>)\n";
    let blocks = checked_blocks("t.md", text);
    let seen: Vec<(usize, &str, Mode, &str)> = blocks
        .iter()
        .map(|b| (b.line, b.ext, b.mode, b.text.as_str()))
        .collect();
    assert_eq!(
        seen,
        vec![
            (3, "yaml", Mode::Run, "name: x\n"),
            (8, "json", Mode::Invalid, "{\"name\": 1}\n"),
        ]
    );
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("docs")).expect("docs");
    std::fs::write(dir.path().join("docs/a.md"), "").expect("a.md");
    let broken = broken_links(dir.path(), "t.md", text);
    assert_eq!(
        broken,
        vec![
            (19, "../examples/a.yaml".to_string()),
            (20, "b c.md".to_string())
        ]
    );
}
