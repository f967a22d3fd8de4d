#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Handlers stay thin (`docs/architecture.md`): parse, run one use-case, render. This
//! measures every route handler in `api/src` (a function under `#[get]`, `#[post]`,
//! `#[put]`, `#[patch]` or `#[delete]`), from its `fn` line to its closing brace, and fails
//! when one is longer than [`MAX_LINES`]. Every handler is in the use-case shape; none is
//! allowed more.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const MAX_LINES: usize = 25;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `file::handler` → its length in lines.
fn handler_lengths() -> BTreeMap<String, usize> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let routes = ["#[get(", "#[post(", "#[put(", "#[patch(", "#[delete("];
    let mut lengths = BTreeMap::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let label = file.strip_prefix(&src).unwrap().display().to_string();
        for (i, line) in lines.iter().enumerate() {
            if !routes.iter().any(|r| line.trim_start().starts_with(r)) {
                continue;
            }
            let start = (i + 1..lines.len())
                .find(|j| lines[*j].contains("fn "))
                .unwrap();
            let name = lines[start]
                .split("fn ")
                .nth(1)
                .unwrap()
                .split(['(', '<'])
                .next()
                .unwrap()
                .to_owned();
            let end = (start..lines.len()).find(|j| lines[*j] == "}").unwrap();
            lengths.insert(format!("{label}::{name}"), end - start + 1);
        }
    }
    lengths
}

#[test]
fn every_handler_is_short() {
    let lengths = handler_lengths();
    assert!(lengths.len() > 30, "found only {lengths:?}");
    let too_long: Vec<String> = lengths
        .iter()
        .filter(|(_, n)| **n > MAX_LINES)
        .map(|(name, n)| format!("{name}: {n} lines"))
        .collect();
    assert!(too_long.is_empty(), "handlers too long: {too_long:#?}");
    let mut longest: Vec<(&String, &usize)> = lengths.iter().collect();
    longest.sort_by_key(|(_, n)| std::cmp::Reverse(**n));
    println!("longest handlers: {:?}", &longest[..5]);
}
