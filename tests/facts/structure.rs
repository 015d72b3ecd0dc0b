//! The crates' layout holds: no import cycle between the files of either crate, and in
//! `httptrace-tower` the connection side, the shared state and the byte readers import
//! nothing from the request side, the byte readers nothing but each other, and the
//! integrations nothing but the crate's public API and the byte readers.
//!
//! Layers, from the bottom: `wire/` (pure readers of bytes), `state/` (what both sides
//! share), `connect/` (the connection side) and `call/`, `http_trace/` (the request side);
//! the files at the root (`error.rs`, `client.rs`, ...) sit beside them.
//!
//! A file imports another when its text names a path through it (`crate::a::b`,
//! `super::b`), in code or in a doc link; `lib.rs` and `mod.rs` only declare and re-export,
//! so a path that ends there (`crate::HttpTrace`) is the public API, not an edge.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each file of `crates/<krate>/src` (as its path under `src`) and the files it imports.
fn import_graph(krate: &str) -> BTreeMap<String, BTreeSet<String>> {
    let (src, files) = sources(krate);
    let module_of = |file: &Path| -> Vec<String> {
        let rel = file.strip_prefix(&src).unwrap().with_extension("");
        let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into()).collect();
        if matches!(parts.last().map(String::as_str), Some("lib" | "mod")) {
            parts.pop();
        }
        parts
    };
    let name = |file: &Path| {
        file.strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .into_owned()
    };
    let hub = |file: &Path| file.ends_with("lib.rs") || file.ends_with("mod.rs");
    let modules: BTreeMap<Vec<String>, &PathBuf> = files
        .iter()
        .filter(|f| !hub(f))
        .map(|f| (module_of(f), f))
        .collect();
    let mut graph = BTreeMap::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let me = module_of(file);
        let mut edges = BTreeSet::new();
        for (base, rest) in paths(&text) {
            let mut path = if base == "crate" {
                Vec::new()
            } else {
                me[..me.len().saturating_sub(1)].to_vec()
            };
            path.extend(rest);
            let target = (1..=path.len())
                .rev()
                .find_map(|k| modules.get(&path[..k]).filter(|t| **t != file));
            if let Some(target) = target {
                edges.insert(name(target));
            }
        }
        if !hub(file) {
            graph.insert(name(file), edges);
        }
    }
    graph
}

/// `crates/<krate>/src` and every `.rs` file under it.
fn sources(krate: &str) -> (PathBuf, Vec<PathBuf>) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("crates")
        .join(krate)
        .join("src");
    let mut files = Vec::new();
    collect(&src, &mut files);
    (src, files)
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

/// Every `crate::a::b` and `super::a::b` in `text`, as its base and its segments.
fn paths(text: &str) -> Vec<(&'static str, Vec<String>)> {
    let mut found = Vec::new();
    for base in ["crate", "super"] {
        let marker = format!("{base}::");
        for (at, _) in text.match_indices(&marker) {
            let before = text[..at].chars().last();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue; // `my_crate::`, or the second `super` of `super::super::`
            }
            let mut segments = Vec::new();
            for piece in text[at + marker.len()..].split("::") {
                let ident: String = piece
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                let whole = !ident.is_empty() && ident.len() == piece.len();
                if !ident.is_empty() {
                    segments.push(ident);
                }
                if !whole {
                    break; // the path's last segment, or a `{..}` group, which is not read
                }
            }
            found.push((base, segments));
        }
    }
    found
}

/// The groups of files that import each other in a circle.
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<BTreeSet<String>> {
    let reaches = |from: &String| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.clone()];
        while let Some(f) = todo.pop() {
            for next in graph.get(&f).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    todo.push(next.clone());
                }
            }
        }
        seen
    };
    let reach: BTreeMap<&String, BTreeSet<String>> =
        graph.keys().map(|f| (f, reaches(f))).collect();
    let mut groups: Vec<BTreeSet<String>> = Vec::new();
    for (f, r) in &reach {
        if !r.contains(*f) {
            continue;
        }
        let group: BTreeSet<String> = r
            .iter()
            .filter(|g| reach[g].contains(*f))
            .cloned()
            .collect();
        if !groups.contains(&group) {
            groups.push(group);
        }
    }
    groups
}

#[test]
fn no_crate_has_an_import_cycle() {
    for krate in [
        "httptrace",
        "httptrace-tower",
        "httptrace-otel",
        "httptrace-reqwest",
        "httpstat",
    ] {
        let graph = import_graph(krate);
        assert!(graph.len() > 5, "{krate}: the files were found");
        assert_eq!(cycles(&graph), Vec::<BTreeSet<String>>::new(), "{krate}");
    }
}

#[test]
fn the_tower_crates_layers_import_only_downwards() {
    let graph = import_graph("httptrace-tower");
    // A file at the root (`error.rs`, `client.rs`) is its own layer, "".
    let dir = |file: &str| file.split_once('/').map_or("", |(d, _)| d).to_owned();
    let mut wrong = Vec::new();
    for (file, imports) in &graph {
        for import in imports {
            let (from, to) = (dir(file), dir(import));
            let below: &[&str] = match from.as_str() {
                "wire" => &["wire"],
                "state" => &["state", "wire", ""],
                "connect" => &["connect", "state", "wire", ""],
                "call" | "server_timing" => &[&from, "state", ""],
                "integrations" => &["integrations"],
                _ => &["http_trace", "call", "connect", "state", "wire", ""],
            };
            let allowed = below.contains(&to.as_str());
            if !allowed {
                wrong.push(format!("{file} imports {import}"));
            }
        }
    }
    assert_eq!(wrong, Vec::<String>::new());
}

/// `lib.rs` and `mod.rs` files are not nodes of the graph above, so they must hold no code
/// of their own (only declarations, re-exports and docs): then skipping them hides nothing.
#[test]
fn module_roots_only_declare_and_re_export() {
    for krate in [
        "httptrace",
        "httptrace-tower",
        "httptrace-otel",
        "httptrace-reqwest",
    ] {
        let (_, files) = sources(krate);
        for file in files
            .iter()
            .filter(|f| f.ends_with("lib.rs") || f.ends_with("mod.rs"))
        {
            let text = std::fs::read_to_string(file).unwrap();
            let code: Vec<&str> = text
                .lines()
                .map(str::trim_start)
                .filter(|l| !l.starts_with("//"))
                .filter(|l| {
                    let l = l
                        .strip_prefix("pub(crate) ")
                        .or(l.strip_prefix("pub "))
                        .unwrap_or(l);
                    [
                        "fn ", "struct ", "enum ", "impl", "trait ", "const ", "static ", "type ",
                    ]
                    .iter()
                    .any(|k| l.starts_with(k))
                })
                .collect();
            assert_eq!(code, Vec::<&str>::new(), "{}", file.display());
        }
    }
}

/// The check sees what it must: a cycle made on purpose, and a real import.
#[test]
fn the_check_finds_imports_and_cycles() {
    let graph = import_graph("httptrace-tower");
    assert!(graph["connect/traced_io.rs"].contains("state/connection.rs"));
    assert!(graph["http_trace/start.rs"].contains("http_trace/extensions.rs"));
    let mut circle = graph.clone();
    circle
        .get_mut("state/connection.rs")
        .unwrap()
        .insert("connect/traced_io.rs".to_owned());
    assert_eq!(cycles(&circle).len(), 1);
}

/// The layer crate depends on neither OpenTelemetry nor reqwest (their crates carry them,
/// so that their breaking releases are not the layer's), and the integration crates reach
/// nothing of the layer but its public API (their sources name no `httptrace_tower::` path
/// through a private module: there are none to name).
#[test]
fn the_layer_crate_depends_on_no_integration() {
    let manifest = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/httptrace-tower/Cargo.toml"),
    )
    .unwrap();
    let dependencies: Vec<&str> = manifest
        .lines()
        .skip_while(|l| *l != "[dependencies]")
        .skip(1)
        .take_while(|l| !l.starts_with('['))
        .filter_map(|l| l.split(['=', '.']).next())
        .map(str::trim)
        .filter(|name| !name.is_empty() && !name.starts_with('#'))
        .collect();
    assert!(dependencies.contains(&"hyper-util"), "{dependencies:?}");
    for integration in [
        "opentelemetry",
        "opentelemetry-http",
        "reqwest",
        "reqwest-middleware",
    ] {
        assert!(
            !dependencies.contains(&integration),
            "{integration} in {dependencies:?}"
        );
    }
}
