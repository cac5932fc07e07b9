//! Reads a repo directory into the core's in-memory [`Source`]: YAML and JSON files, repo-relative
//! `/` paths, sorted. Symbolic links are followed only while they stay inside the repo; files over
//! the size limit are not read. Each problem becomes a skipped entry the core reports; this module
//! does not parse or judge content.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::core::load::{SkipReason, SkippedFile, Source, SourceFile};

/// How a directory is read.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// Files larger than this are skipped (and reported).
    pub max_file_size: u64,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            max_file_size: 4 * 1024 * 1024,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FsError {
    #[error("cannot read repo directory {path}: {source}")]
    Root { path: PathBuf, source: io::Error },
}

const EXTENSIONS: &[&str] = &["yaml", "yml", "json"];
const SKIP_DIRS: &[&str] = &[".git", "target", "node_modules"];

/// Reads every YAML/JSON file under `root`.
pub fn read_dir(root: &Path, opts: &ReadOptions) -> Result<Source, FsError> {
    let canon_root = fs::canonicalize(root).map_err(|source| FsError::Root {
        path: root.to_path_buf(),
        source,
    })?;
    if !canon_root.is_dir() {
        return Err(FsError::Root {
            path: root.to_path_buf(),
            source: io::Error::new(io::ErrorKind::InvalidInput, "not a directory"),
        });
    }
    let mut src = Source::default();
    walk(&canon_root, &canon_root, "", opts, &mut src, 0);
    src.files.sort_by(|a, b| a.path.cmp(&b.path));
    src.skipped.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(src)
}

fn walk(root: &Path, dir: &Path, rel: &str, opts: &ReadOptions, src: &mut Source, depth: usize) {
    let skip = |src: &mut Source, path: String, reason: SkipReason| {
        src.skipped.push(SkippedFile { path, reason })
    };
    if depth > 64 {
        skip(
            src,
            rel.to_string(),
            SkipReason::Unreadable("directories nested too deep".into()),
        );
        return;
    }
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            skip(src, rel.to_string(), SkipReason::Unreadable(e.to_string()));
            return;
        }
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel_path = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        let path = entry.path();
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        let (target, meta) = if meta.file_type().is_symlink() {
            match fs::canonicalize(&path) {
                Ok(t) if t.starts_with(root) => match fs::metadata(&t) {
                    Ok(m) => (t, m),
                    Err(e) => {
                        skip(src, rel_path, SkipReason::Unreadable(e.to_string()));
                        continue;
                    }
                },
                Ok(t) => {
                    if is_manifest_name(&name) || t.is_dir() {
                        skip(
                            src,
                            rel_path,
                            SkipReason::SymlinkOutsideRepo {
                                target: t.display().to_string(),
                            },
                        );
                    }
                    continue;
                }
                Err(e) => {
                    skip(
                        src,
                        rel_path,
                        SkipReason::Unreadable(format!("broken symbolic link: {e}")),
                    );
                    continue;
                }
            }
        } else {
            (path.clone(), meta)
        };
        if meta.is_dir() {
            if SKIP_DIRS.contains(&name.as_str()) {
                continue;
            }
            // A link to a directory inside the repo is read where it is linked from only if it
            // does not lead back up (which would loop).
            if target != path && path.starts_with(&target) {
                continue;
            }
            walk(root, &target, &rel_path, opts, src, depth + 1);
        } else if meta.is_file() && is_manifest_name(&name) {
            if meta.len() > opts.max_file_size {
                skip(
                    src,
                    rel_path,
                    SkipReason::TooLarge {
                        size: meta.len(),
                        limit: opts.max_file_size,
                    },
                );
                continue;
            }
            match fs::read(&target) {
                Ok(bytes) => src.files.push(SourceFile {
                    path: rel_path,
                    bytes,
                }),
                Err(e) => skip(src, rel_path, SkipReason::Unreadable(e.to_string())),
            }
        }
    }
}

fn is_manifest_name(name: &str) -> bool {
    name.rsplit_once('.')
        .is_some_and(|(_, ext)| EXTENSIONS.contains(&ext))
}
