//! A crate's module files as a graph: which file each file's references resolve to, and
//! the loops in it.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::scan::{File, scan};

/// Files of one crate and, for each, the files it refers to with one reference as example.
pub type Graph = BTreeMap<String, BTreeMap<String, String>>;

pub fn crate_graph(root: &Path, name: &str) -> Graph {
    let src = root.join(name).join("src");
    let mut files = Vec::new();
    collect_rs(&src, &mut files);
    // A binary's root (`main.rs`, `bin/`) has no module here: its `crate::` is another crate.
    let modules: Vec<(String, Vec<String>, PathBuf)> = files
        .into_iter()
        .filter_map(|path| {
            let relative = path.strip_prefix(&src).unwrap();
            let label = format!("{name}/src/{}", relative.display());
            module_of(relative).map(|module| (label, module, path))
        })
        .collect();
    let mut crate_ = Crate::default();
    for (label, module, _) in &modules {
        crate_.modules.insert(module.clone(), label.clone());
    }
    let parsed: Vec<File> = modules
        .iter()
        .map(|(label, module, path)| {
            scan(
                &std::fs::read_to_string(path).unwrap(),
                label,
                module,
                &mut crate_,
            )
        })
        .collect();
    let mut graph = Graph::new();
    for file in parsed {
        let edges = graph.entry(file.label.clone()).or_default();
        for (path, text) in file.references {
            if let Some(target) = crate_.resolve(&path, 0)
                && target != file.label
            {
                edges.entry(target).or_insert(text);
            }
        }
    }
    graph
}

fn collect_rs(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect_rs(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module path of a file under `src/` (`users/mod.rs` → `users`); `None` for binaries.
fn module_of(relative: &Path) -> Option<Vec<String>> {
    let parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if parts.first().is_some_and(|p| p == "main.rs" || p == "bin") {
        return None;
    }
    let mut module: Vec<String> = parts
        .iter()
        .map(|p| p.trim_end_matches(".rs").to_owned())
        .collect();
    if matches!(module.last().map(String::as_str), Some("lib" | "mod")) {
        module.pop();
    }
    Some(module)
}

/// A `pub use` target path and the name it is re-exported under (`None` for a glob).
pub type ReExport = (Vec<String>, Option<String>);

/// What the scan learns about a crate's modules, for resolving paths to files.
#[derive(Default)]
pub struct Crate {
    /// Every module (file or inline) and the file it is written in.
    pub modules: HashMap<Vec<String>, String>,
    /// Names of the items each module defines.
    pub definitions: HashMap<Vec<String>, HashSet<String>>,
    /// `pub use` re-exports of each module: the target path and the name it is re-exported
    /// under (`None` for a glob).
    pub reexports: HashMap<Vec<String>, Vec<ReExport>>,
}

impl Crate {
    /// The file that defines what the absolute path `path` names.
    fn resolve(&self, path: &[String], depth: usize) -> Option<String> {
        let module = (0..=path.len())
            .rev()
            .map(|n| &path[..n])
            .find(|prefix| self.modules.contains_key(*prefix))?;
        let file = self.modules[module].clone();
        let Some(name) = path.get(module.len()) else {
            return Some(file);
        };
        if depth > 8
            || self
                .definitions
                .get(module)
                .is_some_and(|d| d.contains(name))
        {
            return Some(file);
        }
        for (target, alias) in self.reexports.get(module).into_iter().flatten() {
            let rest = match alias {
                Some(alias) if alias == name => &path[module.len() + 1..],
                None if self.exports(target, name, depth + 1) => &path[module.len()..],
                _ => continue,
            };
            let mut full = target.clone();
            full.extend_from_slice(rest);
            return self.resolve(&full, depth + 1);
        }
        Some(file)
    }

    /// Whether `module` defines or re-exports `name`.
    fn exports(&self, module: &[String], name: &str, depth: usize) -> bool {
        let mut child = module.to_vec();
        child.push(name.to_owned());
        depth <= 8
            && (self.modules.contains_key(&child)
                || self
                    .definitions
                    .get(module)
                    .is_some_and(|d| d.contains(name))
                || self
                    .reexports
                    .get(module)
                    .into_iter()
                    .flatten()
                    .any(|(target, alias)| match alias {
                        Some(alias) => alias == name,
                        None => self.exports(target, name, depth + 1),
                    }))
    }
}

/// The loops of `graph`: its strongly connected components of more than one file.
pub fn strongly_connected(graph: &Graph) -> Vec<BTreeSet<String>> {
    struct Tarjan<'g> {
        graph: &'g Graph,
        index: HashMap<&'g str, usize>,
        low: HashMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on_stack: HashSet<&'g str>,
        found: Vec<BTreeSet<String>>,
    }
    impl<'g> Tarjan<'g> {
        fn visit(&mut self, node: &'g str) {
            let n = self.index.len();
            self.index.insert(node, n);
            self.low.insert(node, n);
            self.stack.push(node);
            self.on_stack.insert(node);
            for next in self.graph.get(node).into_iter().flat_map(BTreeMap::keys) {
                let next = next.as_str();
                if !self.index.contains_key(next) {
                    self.visit(next);
                    self.low.insert(node, self.low[node].min(self.low[next]));
                } else if self.on_stack.contains(next) {
                    self.low.insert(node, self.low[node].min(self.index[next]));
                }
            }
            if self.low[node] == self.index[node] {
                let mut component = BTreeSet::new();
                while let Some(top) = self.stack.pop() {
                    self.on_stack.remove(top);
                    component.insert(top.to_owned());
                    if top == node {
                        break;
                    }
                }
                if component.len() > 1 {
                    self.found.push(component);
                }
            }
        }
    }
    let mut tarjan = Tarjan {
        graph,
        index: HashMap::new(),
        low: HashMap::new(),
        stack: Vec::new(),
        on_stack: HashSet::new(),
        found: Vec::new(),
    };
    for node in graph.keys() {
        if !tarjan.index.contains_key(node.as_str()) {
            tarjan.visit(node);
        }
    }
    tarjan.found
}
