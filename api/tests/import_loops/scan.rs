//! One module file read for its module references, and what it tells about the crate's
//! modules (inline modules, item names, `pub use` re-exports).

use crate::graph::Crate;
use crate::tokens::{Token, tokenize};

/// One file's references: absolute module paths with the text that named them.
pub struct File {
    pub label: String,
    pub references: Vec<(Vec<String>, String)>,
}

pub fn scan(text: &str, label: &str, file_module: &[String], crate_: &mut Crate) -> File {
    let tokens = tokenize(text);
    let mut references = Vec::new();
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0;
    let mut i = 0;
    while i < tokens.len() {
        let module: Vec<String> = file_module
            .iter()
            .cloned()
            .chain(inline.iter().map(|(n, _)| n.clone()))
            .collect();
        match &tokens[i] {
            Token::Open => depth += 1,
            Token::Close => {
                depth -= 1;
                if inline.last().is_some_and(|(_, d)| *d > depth) {
                    inline.pop();
                }
            }
            Token::Ident(kw)
                if matches!(
                    kw.as_str(),
                    "struct" | "enum" | "fn" | "trait" | "type" | "const" | "static" | "union"
                ) =>
            {
                if let Some(Token::Ident(name)) = tokens.get(i + 1) {
                    crate_
                        .definitions
                        .entry(module.clone())
                        .or_default()
                        .insert(name.clone());
                }
            }
            Token::Ident(kw) if kw == "mod" => {
                if let (Some(Token::Ident(name)), Some(Token::Open)) =
                    (tokens.get(i + 1), tokens.get(i + 2))
                {
                    let mut child = module.clone();
                    child.push(name.clone());
                    crate_.modules.insert(child, label.to_owned());
                    depth += 1;
                    inline.push((name.clone(), depth));
                    i += 3;
                    continue;
                }
            }
            Token::Ident(kw) if kw == "use" => {
                let public = is_public(&tokens, i);
                let mut leaves = Vec::new();
                i = use_tree(&tokens, i + 1, Vec::new(), &mut leaves);
                for (path, alias) in leaves {
                    let glob = path.last().is_some_and(|s| s == "*");
                    let path: Vec<String> = path.into_iter().filter(|s| s != "*").collect();
                    let text = path.join("::");
                    let relative_child = path.first().is_some_and(|first| {
                        let mut child = module.clone();
                        child.push(first.clone());
                        crate_.modules.contains_key(&child)
                    });
                    let absolute = absolute(&path, &module).or_else(|| {
                        relative_child.then(|| module.iter().chain(&path).cloned().collect())
                    });
                    let Some(absolute) = absolute else { continue };
                    if public {
                        crate_
                            .reexports
                            .entry(module.clone())
                            .or_default()
                            .push((absolute.clone(), (!glob).then_some(alias)));
                        if absolute.starts_with(&module) {
                            continue; // a module's facade over its own submodules
                        }
                    }
                    references.push((absolute, text));
                }
                continue;
            }
            Token::Ident(first)
                if tokens.get(i + 1) == Some(&Token::PathSep)
                    && (i == 0 || !matches!(tokens[i - 1], Token::Dollar | Token::PathSep))
                    && (matches!(first.as_str(), "crate" | "super" | "self")
                        || crate_.modules.contains_key(
                            &[module.as_slice(), std::slice::from_ref(first)].concat(),
                        )) =>
            {
                let mut path = vec![first.clone()];
                let mut j = i + 1;
                while tokens.get(j) == Some(&Token::PathSep) {
                    let Some(Token::Ident(segment)) = tokens.get(j + 1) else {
                        break;
                    };
                    path.push(segment.clone());
                    j += 2;
                }
                let relative = || module.iter().chain(&path).cloned().collect();
                let absolute = absolute(&path, &module).unwrap_or_else(relative);
                references.push((absolute, path.join("::")));
                i = j;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    File {
        label: label.to_owned(),
        references,
    }
}

/// Whether the `use` at `at` is `pub` or `pub(…)`.
fn is_public(tokens: &[Token], at: usize) -> bool {
    let mut j = at;
    if j > 0 && tokens[j - 1] == Token::Other(')') {
        while j > 0 && tokens[j - 1] != Token::Other('(') {
            j -= 1;
        }
        j = j.saturating_sub(1);
    }
    j > 0 && tokens[j - 1] == Token::Ident("pub".to_owned())
}

/// Reads a `use` tree from `at` into its leaves (path, name it is bound to); returns the
/// index after the tree.
fn use_tree(
    tokens: &[Token],
    mut at: usize,
    mut prefix: Vec<String>,
    leaves: &mut Vec<(Vec<String>, String)>,
) -> usize {
    while let Some(token) = tokens.get(at) {
        match token {
            Token::PathSep => at += 1,
            Token::Ident(name) if name == "as" => {
                if let (Some(Token::Ident(alias)), Some((path, _))) =
                    (tokens.get(at + 1), leaves.pop())
                {
                    leaves.push((path, alias.clone()));
                }
                return at + 2;
            }
            Token::Ident(name) if name == "self" && !prefix.is_empty() => {
                let bound = prefix.last().cloned().unwrap_or_default();
                leaves.push((prefix.clone(), bound));
                at += 1;
            }
            Token::Ident(name) => {
                prefix.push(name.clone());
                at += 1;
                if tokens.get(at) != Some(&Token::PathSep) {
                    leaves.push((prefix.clone(), name.clone()));
                }
            }
            Token::Star => {
                let mut path = prefix.clone();
                path.push("*".to_owned());
                leaves.push((path, String::new()));
                at += 1;
            }
            Token::Open => {
                at += 1;
                while !matches!(tokens.get(at), None | Some(Token::Close)) {
                    at = use_tree(tokens, at, prefix.clone(), leaves);
                    if tokens.get(at) == Some(&Token::Comma) {
                        at += 1;
                    }
                }
                return at + 1;
            }
            Token::Semi => return at + 1,
            _ => return at,
        }
    }
    at
}

/// `crate::…`, `super::…` and `self::…` as a path from the crate root; `None` otherwise.
fn absolute(path: &[String], module: &[String]) -> Option<Vec<String>> {
    let mut base: Vec<String> = match path.first()?.as_str() {
        "crate" => Vec::new(),
        "super" | "self" => module.to_vec(),
        _ => return None,
    };
    let mut rest = path;
    while let Some(first) = rest.first() {
        match first.as_str() {
            "crate" if rest.len() == path.len() => {}
            "self" => {}
            "super" => {
                base.pop()?;
            }
            _ => break,
        }
        rest = &rest[1..];
    }
    base.extend_from_slice(rest);
    Some(base)
}
