//! Reads one commit's tree straight from the object database into the core's [`Source`], with
//! the same [`FileRules`] as the directory reader: no checkout, no working tree. Symbolic links
//! are resolved inside the commit only (a link that leaves the repository is reported, never
//! followed); submodules and Git LFS pointers where manifests would be are reported by name.
//! It does not fetch, and it does not parse content.

use git2::{ObjectType, Oid, Repository, Tree};

use super::GitError;
use crate::core::source::{
    lfs_pointer_verdict, FileRules, SkipReason, SkippedFile, Source, SourceFile,
};

const MODE_LINK: i32 = 0o120000;
const MODE_GITLINK: i32 = 0o160000;
/// Links followed from one entry before giving up (as the kernel's ELOOP limit).
const MAX_LINK_HOPS: usize = 40;

/// Reads the tree of `commit`, from `subdir` (repo-relative, `/`-separated) when given.
pub(super) fn read(
    repo: &Repository,
    root: &Tree<'_>,
    subdir: &str,
    rules: &FileRules,
    rev: &str,
) -> Result<Source, GitError> {
    let start = if subdir.is_empty() {
        root.clone()
    } else {
        let not_found = || GitError::PathNotFound {
            path: subdir.to_string(),
            rev: rev.to_string(),
        };
        let entry = root
            .get_path(std::path::Path::new(subdir))
            .map_err(|_| not_found())?;
        if entry.kind() != Some(ObjectType::Tree) {
            return Err(not_found());
        }
        repo.find_tree(entry.id()).map_err(|_| not_found())?
    };
    let mut w = Walker {
        repo,
        root,
        rules,
        src: Source::default(),
    };
    w.walk(&start, subdir, "", 0);
    Ok(w.src.sorted())
}

struct Walker<'a, 'r> {
    repo: &'r Repository,
    root: &'a Tree<'r>,
    rules: &'a FileRules,
    src: Source,
}

fn join(a: &str, b: &str) -> String {
    if a.is_empty() {
        b.to_string()
    } else {
        format!("{a}/{b}")
    }
}

/// Resolves a link's target against the folder that holds it, inside the repository: `None`
/// when it leaves the repository (absolute, or `..` past the root).
fn resolve(link_dir: &str, target: &str) -> Option<String> {
    if target.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = link_dir.split('/').filter(|p| !p.is_empty()).collect();
    for p in target.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

impl Walker<'_, '_> {
    fn skip(&mut self, path: String, reason: SkipReason) {
        self.src.skipped.push(SkippedFile { path, reason });
    }

    /// `full` is the folder's path in the repository, `rel` its path in the source.
    fn walk(&mut self, tree: &Tree<'_>, full: &str, rel: &str, depth: usize) {
        if let Some(reason) = self.rules.depth_verdict(depth) {
            self.skip(rel.to_string(), reason);
            return;
        }
        for entry in tree.iter() {
            let name = String::from_utf8_lossy(entry.name_bytes()).into_owned();
            let (full_path, rel_path) = (join(full, &name), join(rel, &name));
            match entry.filemode() {
                MODE_GITLINK => {
                    if let Some(reason) =
                        self.rules.submodule_verdict(&name, &entry.id().to_string())
                    {
                        self.skip(rel_path, reason);
                    }
                }
                MODE_LINK => self.link(entry.id(), full, &name, &full_path, rel_path, depth),
                _ => match entry.kind() {
                    Some(ObjectType::Tree) if self.rules.enters_dir(&name) => {
                        match self.repo.find_tree(entry.id()) {
                            Ok(t) => self.walk(&t, &full_path, &rel_path, depth + 1),
                            Err(e) => self.skip(rel_path, unreadable(&e)),
                        }
                    }
                    Some(ObjectType::Blob) if self.rules.reads_name(&name) => {
                        self.file(entry.id(), rel_path)
                    }
                    _ => {}
                },
            }
        }
    }

    fn file(&mut self, id: Oid, rel_path: String) {
        let size = match self.repo.odb().and_then(|o| o.read_header(id)) {
            Ok((size, _)) => size as u64,
            Err(e) => return self.skip(rel_path, unreadable(&e)),
        };
        if let Some(reason) = self.rules.size_verdict(size) {
            return self.skip(rel_path, reason);
        }
        match self.repo.find_blob(id) {
            Ok(blob) => match lfs_pointer_verdict(blob.content()) {
                Some(reason) => self.skip(rel_path, reason),
                None => self.src.files.push(SourceFile {
                    path: rel_path,
                    bytes: blob.content().to_vec(),
                }),
            },
            Err(e) => self.skip(rel_path, unreadable(&e)),
        }
    }

    fn link(
        &mut self,
        id: Oid,
        dir: &str,
        name: &str,
        full_path: &str,
        rel_path: String,
        depth: usize,
    ) {
        let (mut link_id, mut link_dir) = (id, dir.to_string());
        for _ in 0..MAX_LINK_HOPS {
            let target = match self.repo.find_blob(link_id) {
                Ok(b) => String::from_utf8_lossy(b.content()).into_owned(),
                Err(e) => return self.skip(rel_path, unreadable(&e)),
            };
            let Some(resolved) = resolve(&link_dir, &target) else {
                if self.rules.reads_name(name) || !name.contains('.') {
                    self.skip(rel_path, SkipReason::SymlinkOutsideRepo { target });
                }
                return;
            };
            if resolved.is_empty() {
                // A link to the top of the repository always leads back up.
                return;
            }
            let Ok(entry) = self.root.get_path(std::path::Path::new(&resolved)) else {
                return self.skip(
                    rel_path,
                    SkipReason::Unreadable(format!(
                        "broken symbolic link: `{target}` is not in the commit"
                    )),
                );
            };
            match (entry.filemode(), entry.kind()) {
                (MODE_LINK, _) => {
                    link_id = entry.id();
                    link_dir = resolved.rsplit_once('/').map_or("", |(d, _)| d).to_string();
                }
                (_, Some(ObjectType::Tree)) => {
                    // A link to a folder that holds the link would loop: read it only elsewhere.
                    if !self.rules.enters_dir(name)
                        || full_path.starts_with(&format!("{resolved}/"))
                    {
                        return;
                    }
                    match self.repo.find_tree(entry.id()) {
                        Ok(t) => self.walk(&t, &resolved, &rel_path, depth + 1),
                        Err(e) => self.skip(rel_path, unreadable(&e)),
                    }
                    return;
                }
                (_, Some(ObjectType::Blob)) => {
                    if self.rules.reads_name(name) {
                        self.file(entry.id(), rel_path);
                    }
                    return;
                }
                _ => return,
            }
        }
        self.skip(
            rel_path,
            SkipReason::Unreadable("too many levels of symbolic links".into()),
        );
    }
}

fn unreadable(e: &git2::Error) -> SkipReason {
    SkipReason::Unreadable(e.message().to_string())
}

#[cfg(test)]
mod tests {
    use super::resolve;

    #[test]
    fn links_resolve_inside_the_repository_only() {
        for (dir, target, want) in [
            ("k8s", "../shared/a.yaml", Some("shared/a.yaml")),
            ("k8s/apps", "./b.yaml", Some("k8s/apps/b.yaml")),
            ("", "a/../b.yaml", Some("b.yaml")),
            ("k8s", "../../etc/passwd", None),
            ("k8s", "/etc/passwd", None),
            ("k8s", "..", Some("")),
        ] {
            assert_eq!(resolve(dir, target).as_deref(), want, "{dir} -> {target}");
        }
    }
}
