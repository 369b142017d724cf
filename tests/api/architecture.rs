//! The house rules, read off the source: the modules of `api/` depend on each other one way only, and no
//! source file grows past what one reader holds in mind.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Longest source file, in lines (the aim is about 400; this leaves room for a doc comment or two).
const MAX_LINES: usize = 450;

fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("readable source directory").flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

fn api_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("api")
}

/// Top-level module of a file under `api/` (None for the crate root and the build script).
fn module_of(path: &Path) -> Option<String> {
    let relative = path.strip_prefix(api_dir()).ok()?;
    let first = relative.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(name, "lib" | "main" | "build")).then(|| name.to_owned())
}

/// Which top-level modules each module names (`crate::x`); the crate-level macros belong to `db`.
fn dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let files = sources(&api_dir());
    let modules: BTreeSet<String> = files.iter().filter_map(|f| module_of(f)).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let Some(module) = module_of(file) else { continue };
        let text = std::fs::read_to_string(file).expect("readable source");
        let edges = graph.entry(module.clone()).or_default();
        for (at, _) in text.match_indices("crate::") {
            let name: String =
                text[at + "crate::".len()..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            let name = match name.as_str() {
                "with_conn" | "write_transaction" | "claim_attachments" => "db".to_owned(),
                _ => name,
            };
            if name != module && modules.contains(&name) {
                edges.insert(name);
            }
        }
    }
    graph
}

/// A cycle through `start`, if any (depth-first).
fn cycle_from(graph: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    fn walk(
        graph: &BTreeMap<String, BTreeSet<String>>,
        at: &str,
        start: &str,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        for next in graph.get(at).into_iter().flatten() {
            if next == start {
                path.push(next.clone());
                return true;
            }
            if seen.insert(next.clone()) {
                path.push(next.clone());
                if walk(graph, next, start, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = vec![start.to_owned()];
    walk(graph, start, start, &mut path, &mut BTreeSet::new()).then_some(path)
}

#[test]
fn the_modules_of_api_depend_on_each_other_one_way() {
    let graph = dependencies();
    assert!(graph.len() > 10, "the walk found the modules: {graph:?}");
    for module in graph.keys() {
        if let Some(cycle) = cycle_from(&graph, module) {
            panic!("a dependency cycle: {}\nall dependencies: {graph:#?}", cycle.join(" → "));
        }
    }
    // The layering the design asks for, spelled out where it matters most.
    for (lower, upper) in
        [("realtime", "chat"), ("broker", "realtime"), ("chat", "routes"), ("chat", "ws"), ("db", "chat")]
    {
        assert!(!graph[lower].contains(upper), "{lower} must not call {upper}");
    }
}

#[test]
fn no_source_file_is_longer_than_one_reader_holds_in_mind() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut long = Vec::new();
    for dir in ["api", "tests"] {
        for file in sources(&root.join(dir)) {
            let lines = std::fs::read_to_string(&file).expect("readable source").lines().count();
            if lines > MAX_LINES {
                long.push(format!("{} ({lines} lines)", file.strip_prefix(root).unwrap_or(&file).display()));
            }
        }
    }
    assert!(long.is_empty(), "over {MAX_LINES} lines: {long:?}");
}
