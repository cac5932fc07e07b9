//! The pure decisions of the edit loop (`eksync watch`): which file events are worth a new run
//! (not `.git`, not an editor's swap or temp file, not what the repo's rules leave out), and what
//! changed between two runs, so the screen shows that first.
//!
//! It watches nothing and reads no file: the binary's watcher feeds it paths and analyses.

use std::collections::BTreeMap;

use crate::analysis::Analysis;
use crate::diag::Severity;
use crate::load::settings_accept;
use crate::model::Settings;
use crate::source::FileRules;

/// Files editors write beside the one being edited: vim's swap files and its write probe
/// `4913`, emacs lock and autosave files, backups ending in `~`, and `*.tmp`.
pub fn is_editor_temp(name: &str) -> bool {
    let swap = |ext: &str| {
        ext.len() == 3
            && ext.starts_with('s')
            && ext.chars().skip(1).all(|c| c.is_ascii_lowercase())
    };
    name == "4913"
        || name.ends_with('~')
        || name.starts_with(".#")
        || (name.starts_with('#') && name.ends_with('#'))
        || name.ends_with(".tmp")
        || name
            .rsplit_once('.')
            .is_some_and(|(base, ext)| !base.is_empty() && swap(ext))
}

/// Whether a change at this repo-relative path (`/`-separated) is worth a new run: a file the
/// repo reads, or a folder (its files may have come or gone), never inside a skipped folder and
/// never an editor's temporary file.
pub fn matters(rules: &FileRules, settings: &Settings, path: &str, is_dir: bool) -> bool {
    let mut parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let Some(name) = parts.pop() else {
        return false;
    };
    if !parts.iter().all(|d| rules.enters_dir(d)) || is_editor_temp(name) {
        return false;
    }
    if is_dir {
        return rules.enters_dir(name);
    }
    rules.reads_path(path) && settings_accept(settings, path)
}

/// What a run found, to compare with the next one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunSummary {
    /// Resource label -> wave (1-based).
    pub resources: BTreeMap<String, usize>,
    pub errors: usize,
    pub warnings: usize,
}

impl RunSummary {
    pub fn of(a: &Analysis) -> Self {
        let resources = a
            .graph
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let wave = a.order.wave_of.get(i).map_or(0, |w| w + 1);
                (format!("{} {}", system_tag(n), n.label()), wave)
            })
            .collect();
        let count = |s: Severity| a.diagnostics.iter().filter(|d| d.severity == s).count();
        RunSummary {
            resources,
            errors: count(Severity::Error),
            warnings: count(Severity::Warning),
        }
    }
}

fn system_tag(n: &crate::graph::Node) -> &'static str {
    match n.system {
        crate::graph::System::Aws => "aws",
        crate::graph::System::Kubernetes => "k8s",
    }
}

/// What changed since the previous run, one line each: resources that came or went, resources
/// that moved to another wave, and the diagnostics count.
pub fn changes(prev: Option<&RunSummary>, next: &RunSummary) -> Vec<String> {
    let Some(prev) = prev else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (r, w) in &next.resources {
        match prev.resources.get(r) {
            None => out.push(format!("+ {r} (wave {w})")),
            Some(old) if old != w => out.push(format!("~ {r}: wave {old} -> {w}")),
            Some(_) => {}
        }
    }
    for r in prev.resources.keys() {
        if !next.resources.contains_key(r) {
            out.push(format!("- {r}"));
        }
    }
    if (prev.errors, prev.warnings) != (next.errors, next.warnings) {
        out.push(format!(
            "diagnostics: {} error(s), {} warning(s) (were {} and {})",
            next.errors, next.warnings, prev.errors, prev.warnings
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_paths_matter() {
        let rules = FileRules::default();
        let settings = Settings {
            exclude: vec!["charts/**".into()],
            ..Settings::default()
        };
        for (path, is_dir, want) in [
            ("k8s/app.yaml", false, true),
            ("eksync.yaml", false, true),
            ("aws/policies/p.json", false, true),
            (".git/index", false, false),
            (".git/refs/heads/main", false, false),
            ("k8s/.app.yaml.swp", false, false),
            ("k8s/app.yaml~", false, false),
            ("k8s/4913", false, false),
            ("k8s/.#app.yaml", false, false),
            ("k8s/#app.yaml#", false, false),
            ("k8s/README.md", false, false),
            ("charts/web/values.yaml", false, false),
            ("node_modules/x/package.json", false, false),
            ("k8s/new-folder", true, true),
            (".git", true, false),
            ("target", true, false),
        ] {
            assert_eq!(matters(&rules, &settings, path, is_dir), want, "{path}");
        }
    }

    #[test]
    fn what_changed_between_runs() {
        let a = RunSummary {
            resources: BTreeMap::from([
                ("k8s ConfigMap a".into(), 2),
                ("k8s Namespace ns".into(), 1),
            ]),
            errors: 0,
            warnings: 0,
        };
        let b = RunSummary {
            resources: BTreeMap::from([("k8s ConfigMap a".into(), 3), ("k8s Secret s".into(), 2)]),
            errors: 1,
            warnings: 0,
        };
        assert_eq!(changes(None, &b), Vec::<String>::new());
        assert_eq!(changes(Some(&a), &a), Vec::<String>::new());
        assert_eq!(
            changes(Some(&a), &b),
            [
                "~ k8s ConfigMap a: wave 2 -> 3",
                "+ k8s Secret s (wave 2)",
                "- k8s Namespace ns",
                "diagnostics: 1 error(s), 0 warning(s) (were 0 and 0)"
            ]
        );
    }
}
