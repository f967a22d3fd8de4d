#![allow(clippy::unwrap_used, clippy::expect_used)]
//! No import loops inside a crate (DESIGN.md, "Learned from the first code"): the module
//! files of domain, scim, persistence, connectors and api are read, every module reference in
//! them — `use crate::…`, `crate::…` paths, `super::…`, `self::…`, a submodule named by a
//! relative path (`handlers::x` in `users/mod.rs`) — is resolved to the file that defines
//! it (following `pub use` re-exports), and any loop between files fails the test with the
//! references that close it. Not counted: `mod` declarations and a module's `pub use` of
//! its own submodules (its face), and loops that stay inside one module folder (a
//! `mod.rs` calling its submodules, which use its shared items).

mod graph;
mod scan;
mod tokens;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::Path;

use graph::{Graph, crate_graph, strongly_connected};

const CRATES: [&str; 5] = ["domain", "scim", "persistence", "connectors", "api"];

/// Loops tolerated, as the sets of files in them (none: every crate is free of loops). A
/// loop passes only while its files are all inside one of these sets.
const ALLOWED: &[&[&str]] = &[];

#[test]
fn no_crate_has_an_import_loop() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut failures = Vec::new();
    let mut seen = Vec::new();
    for name in CRATES {
        let graph = crate_graph(&root, name);
        for cycle in strongly_connected(&graph) {
            if inside_one_folder(&cycle) {
                continue;
            }
            let allowed = ALLOWED
                .iter()
                .any(|set| cycle.iter().all(|file| set.contains(&file.as_str())));
            if allowed {
                seen.push(cycle);
            } else {
                failures.push(describe(&graph, &cycle));
            }
        }
    }
    for set in ALLOWED {
        if !seen
            .iter()
            .any(|c| c.iter().any(|f| set.contains(&f.as_str())))
        {
            eprintln!("allowed loop no longer present, remove it from ALLOWED: {set:?}");
        }
    }
    assert!(
        failures.is_empty(),
        "import loops:\n\n{}",
        failures.join("\n")
    );
}

/// The check itself on a small crate: a loop closed through a glob re-export, comments,
/// strings and `pub use` facades that must not count, and a loop inside one folder.
#[test]
fn finds_a_loop_through_a_re_export_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("sample").join("src");
    std::fs::create_dir_all(src.join("folder")).unwrap();
    let files = [
        (
            "lib.rs",
            "pub mod a;\npub mod b;\npub mod c;\npub mod folder;\npub use c::*;\n",
        ),
        ("a.rs", "use crate::b::{self, X as Renamed};\n"),
        (
            "b.rs",
            "pub struct X;\n// crate::a::nothing\nfn f() { let _ = \"crate::a::y\"; crate::Y::new(); }\n",
        ),
        (
            "c.rs",
            "pub struct Y;\nuse super::a;\nfn g<'a>(c: char) -> bool { c == '\\'' }\n",
        ),
        (
            "folder/mod.rs",
            "mod inner;\npub use inner::Z;\npub fn shared() { inner::go(); }\n",
        ),
        (
            "folder/inner.rs",
            "pub struct Z;\npub fn go() { super::shared(); }\n",
        ),
    ];
    for (name, text) in files {
        std::fs::write(src.join(name), text).unwrap();
    }
    let graph = crate_graph(dir.path(), "sample");
    let loops: Vec<BTreeSet<String>> = strongly_connected(&graph)
        .into_iter()
        .filter(|cycle| !inside_one_folder(cycle))
        .collect();
    let expected: BTreeSet<String> = ["a.rs", "b.rs", "c.rs"]
        .map(|f| format!("sample/src/{f}"))
        .into();
    assert_eq!(loops, vec![expected], "{graph:#?}");
    assert_eq!(graph["sample/src/b.rs"].len(), 1, "{graph:#?}");
    assert!(graph["sample/src/lib.rs"].is_empty(), "{graph:#?}");
}

/// Whether every file of `cycle` is a submodule of the folder whose `mod.rs` is in it.
fn inside_one_folder(cycle: &BTreeSet<String>) -> bool {
    cycle.iter().any(|face| {
        face.strip_suffix("mod.rs")
            .is_some_and(|folder| cycle.iter().all(|file| file.starts_with(folder)))
    })
}

/// A loop: the shortest way round from its first file, then every reference between its
/// files.
fn describe(graph: &Graph, cycle: &BTreeSet<String>) -> String {
    let mut out = format!("{}\n", shortest_round(graph, cycle).join(" -> "));
    for from in cycle {
        for (to, text) in &graph[from] {
            if cycle.contains(to) {
                out.push_str(&format!("  {from} -> {to}: {text}\n"));
            }
        }
    }
    out
}

/// The files of the shortest path from the first file of `cycle` back to itself.
fn shortest_round(graph: &Graph, cycle: &BTreeSet<String>) -> Vec<String> {
    let Some(start) = cycle.first() else {
        return Vec::new();
    };
    let mut came_from: BTreeMap<&String, &String> = BTreeMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(at) = queue.pop_front() {
        for next in graph[at].keys().filter(|n| cycle.contains(*n)) {
            if next == start {
                let mut round = vec![start.clone(), at.clone()];
                let mut step = at;
                while let Some(previous) = came_from.get(step) {
                    round.push((*previous).clone());
                    step = previous;
                }
                round.reverse();
                return round;
            }
            if !came_from.contains_key(next) {
                came_from.insert(next, at);
                queue.push_back(next);
            }
        }
    }
    Vec::new()
}
