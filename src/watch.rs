//! `eksync watch`: the edit loop. Watches a working copy (the `notify` crate), and on every save
//! re-validates and re-plans, debounced so that a burst of saves is one run; with a live check it
//! also diffs against the cluster and AWS through the reconciler, read-only, abandoning a run in
//! flight when a newer save arrives. What matters and what changed are the core's decisions
//! (`core::watch`); this module only waits, runs and prints.
//!
//! It does not apply anything, and it does not watch a Git revision (only files on disk).

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::{RecursiveMode, Watcher};
use tokio::sync::mpsc;

use crate::core::analysis::Analysis;
use crate::core::model::Settings;
use crate::core::report;
use crate::core::source::FileRules;
use crate::core::watch::{changes, matters, RunSummary};

#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("watching {path}")]
    Watch {
        path: PathBuf,
        #[source]
        source: notify::Error,
    },
    #[error("reading {path}")]
    Root {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// How the loop behaves.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    /// A run starts once no relevant change arrived for this long.
    pub debounce: Duration,
    pub rules: FileRules,
    /// Redraw one screen (a terminal) instead of printing one block per run.
    pub redraw: bool,
}

/// One relevant change: the repo-relative path, and whether it is a folder.
type Change = (String, bool);

fn relative(root: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(root).ok()?;
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// Watches `root` until `stop` completes. Each run calls `analyze` (the repo as every command
/// reads it), prints what changed since the last run first, then the diagnostics and the plan;
/// `live` (when given) adds the live diff's text for that analysis, and is dropped unfinished
/// when a newer change arrives.
pub async fn run<A, L, F>(
    root: &Path,
    opts: &WatchOptions,
    analyze: A,
    live: Option<L>,
    stop: impl Future<Output = ()>,
) -> Result<usize, WatchError>
where
    A: Fn() -> anyhow::Result<Analysis>,
    L: Fn(Analysis) -> F,
    F: Future<Output = String>,
{
    let root = std::fs::canonicalize(root).map_err(|source| WatchError::Root {
        path: root.to_path_buf(),
        source,
    })?;
    let (tx, mut rx) = mpsc::unbounded_channel::<notify::Event>();
    let mut watcher = notify::recommended_watcher(move |e: notify::Result<notify::Event>| {
        if let Ok(event) = e {
            let _ = tx.send(event);
        }
    })
    .map_err(|source| WatchError::Watch {
        path: root.clone(),
        source,
    })?;
    watcher
        .watch(&root, RecursiveMode::Recursive)
        .map_err(|source| WatchError::Watch {
            path: root.clone(),
            source,
        })?;
    tokio::pin!(stop);
    let mut settings = Settings::default();
    let mut previous: Option<RunSummary> = None;
    let mut runs = 0usize;
    let mut pending: Vec<Change> = Vec::new();
    let mut run_now = true;
    loop {
        if !run_now {
            // Wait for the first relevant change, then for a quiet moment.
            let quiet = wait_for_changes(&root, opts, &settings, &mut rx, &mut pending);
            tokio::select! {
                more = quiet => if !more { break },
                _ = &mut stop => break,
            }
        }
        run_now = false;
        runs += 1;
        let analysis = analyze();
        let text = match &analysis {
            Ok(a) => {
                settings = a.model.settings.clone();
                let summary = RunSummary::of(a);
                let block = block(runs, &pending, &changes(previous.as_ref(), &summary), a);
                previous = Some(summary);
                block
            }
            Err(e) => format!("eksync watch: run {runs}\nerror: {e:#}\n"),
        };
        pending.clear();
        print(opts, &text);
        if let (Some(live), Ok(a)) = (&live, analysis) {
            if a.has_errors() {
                continue;
            }
            // A newer change abandons the live diff in flight (it only reads).
            tokio::select! {
                out = live(a) => print_more(&out),
                more = wait_for_changes(&root, opts, &settings, &mut rx, &mut pending) => {
                    if !more { break }
                    run_now = true;
                    print_more("live diff abandoned: a newer change arrived\n");
                }
                _ = &mut stop => break,
            }
        }
    }
    Ok(runs)
}

/// Waits until a relevant change arrives and then none for `opts.debounce`; collects the
/// changes. `false` when the watcher is gone.
async fn wait_for_changes(
    root: &Path,
    opts: &WatchOptions,
    settings: &Settings,
    rx: &mut mpsc::UnboundedReceiver<notify::Event>,
    pending: &mut Vec<Change>,
) -> bool {
    let relevant = |event: &notify::Event| -> Vec<Change> {
        use notify::event::{EventKind, ModifyKind};
        // Reading a file (eksync's own runs do) or touching its metadata changes nothing.
        if matches!(
            event.kind,
            EventKind::Access(_) | EventKind::Modify(ModifyKind::Metadata(_))
        ) {
            return Vec::new();
        }
        event
            .paths
            .iter()
            .filter_map(|p| {
                let rel = relative(root, p)?;
                let is_dir = p.is_dir();
                matters(&opts.rules, settings, &rel, is_dir).then_some((rel, is_dir))
            })
            .collect()
    };
    while pending.is_empty() {
        match rx.recv().await {
            Some(event) => pending.extend(relevant(&event)),
            None => return false,
        }
    }
    loop {
        match tokio::time::timeout(opts.debounce, rx.recv()).await {
            Ok(Some(event)) => pending.extend(relevant(&event)),
            Ok(None) => return false,
            Err(_) => return true,
        }
    }
}

fn block(run: usize, pending: &[Change], changed: &[String], a: &Analysis) -> String {
    let mut files: Vec<&str> = pending.iter().map(|(p, _)| p.as_str()).collect();
    files.sort_unstable();
    files.dedup();
    let mut s = format!("eksync watch: run {run}");
    if !files.is_empty() {
        s.push_str(&format!(" ({})", files.join(", ")));
    }
    s.push('\n');
    if !changed.is_empty() {
        s.push_str("changed since the last run:\n");
        for c in changed {
            s.push_str(&format!("  {c}\n"));
        }
    }
    s.push_str(&report::diagnostics_text(&a.diagnostics));
    if a.has_errors() {
        s.push_str("not planned: fix the errors above\n");
    } else {
        s.push_str(&report::plan_text(a, report::PlanView { explain: false }));
    }
    s
}

fn print(opts: &WatchOptions, text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if opts.redraw {
        // Clear the screen and go home: one screen, redrawn per run.
        let _ = out.write_all(b"\x1b[2J\x1b[H");
    } else {
        let _ = out.write_all(b"\n");
    }
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

fn print_more(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}
