//! Reads a repo directory into the core's in-memory [`Source`]: YAML and JSON files, repo-relative
//! `/` paths, sorted. Symbolic links are followed only while they stay inside the repo; files over
//! the size limit, entries that are not regular files (a named pipe, a socket) and Git LFS
//! pointers (a checkout without LFS: named, not read as YAML) are not read.
//! Each problem becomes a skipped entry the core reports; this module does not parse or judge
//! content, and which names, folders, types and sizes are read is decided by the core's
//! [`FileRules`], shared with every other reader.

use std::fs;
use std::io;
use std::path::Path;

use crate::core::source::{
    lfs_pointer_verdict, EntryType, FileRules, SkipReason, SkippedFile, Source, SourceFile,
};

/// Why the repo folder itself cannot be read. It names no path: the caller says which repo it was
/// reading (naming it here too printed the path twice), and the system's error is the message
/// itself rather than a source repeated after it.
#[derive(Debug, thiserror::Error)]
pub enum FsError {
    /// The folder cannot be opened (it does not exist, no permission).
    #[error(transparent)]
    Root(#[from] io::Error),
    /// It exists but is a file.
    #[error("not a directory")]
    NotADirectory,
}

/// Reads every YAML/JSON file under `root`.
pub fn read_dir(root: &Path, rules: &FileRules) -> Result<Source, FsError> {
    let canon_root = fs::canonicalize(root)?;
    if !canon_root.is_dir() {
        return Err(FsError::NotADirectory);
    }
    let mut src = Source::default();
    walk(&canon_root, &canon_root, "", rules, &mut src, 0);
    Ok(src.sorted())
}

fn walk(root: &Path, dir: &Path, rel: &str, rules: &FileRules, src: &mut Source, depth: usize) {
    let skip = |src: &mut Source, path: String, reason: SkipReason| {
        src.skipped.push(SkippedFile { path, reason })
    };
    if let Some(reason) = rules.depth_verdict(depth) {
        skip(src, rel.to_string(), reason);
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
                    if rules.reads_name(&name) || t.is_dir() {
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
            if !rules.enters_dir(&name) {
                continue;
            }
            // A link to a directory inside the repo is read where it is linked from only if it
            // does not lead back up (which would loop).
            if target != path && path.starts_with(&target) {
                continue;
            }
            walk(root, &target, &rel_path, rules, src, depth + 1);
        } else if rules.reads_name(&name) {
            // Decided from the metadata alone: opening a named pipe would block.
            if let Some(reason) = rules.type_verdict(entry_type(&meta)) {
                skip(src, rel_path, reason);
                continue;
            }
            if let Some(reason) = rules.size_verdict(meta.len()) {
                skip(src, rel_path, reason);
                continue;
            }
            match fs::read(&target) {
                Ok(bytes) => match lfs_pointer_verdict(&bytes) {
                    Some(reason) => skip(src, rel_path, reason),
                    None => src.files.push(SourceFile {
                        path: rel_path,
                        bytes,
                    }),
                },
                Err(e) => skip(src, rel_path, SkipReason::Unreadable(e.to_string())),
            }
        }
    }
}

/// What the file system says an entry is, in the core's terms.
fn entry_type(meta: &fs::Metadata) -> EntryType {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_file() {
        EntryType::File
    } else if t.is_dir() {
        EntryType::Dir
    } else if t.is_fifo() {
        EntryType::Fifo
    } else if t.is_socket() {
        EntryType::Socket
    } else if t.is_block_device() {
        EntryType::BlockDevice
    } else if t.is_char_device() {
        EntryType::CharDevice
    } else {
        EntryType::Other
    }
}
