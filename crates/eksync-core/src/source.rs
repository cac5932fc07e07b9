//! Which files belong to a repo, as one definition that every reader shares (the directory reader,
//! the Git reader, a file watcher): the extensions eksync reads, the folders it never enters, the
//! size limit, how deep it goes, and the in-memory [`Source`] a reader hands the loader.
//!
//! It opens nothing: readers ask it about names and sizes they found. Which of the read files are
//! loaded (`eksync.yaml`'s `include`/`exclude`) is decided by the loader, from the same `Source`.

/// One file as an adapter read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// Repo-relative path with `/` separators.
    pub path: String,
    pub bytes: Vec<u8>,
}

/// A file the adapter did not read, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedFile {
    pub path: String,
    pub reason: SkipReason,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    TooLarge {
        size: u64,
        limit: u64,
    },
    SymlinkOutsideRepo {
        target: String,
    },
    /// A name eksync reads on something that is not a regular file (a named pipe, a socket, a
    /// device): reading it could block forever or never end. `what` says what it is ("a named
    /// pipe (FIFO)").
    NotRegular {
        what: String,
    },
    Unreadable(String),
}

/// What a reader found at a path, as far as the rules care (after following a symbolic link).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryType {
    File,
    Dir,
    /// A named pipe (FIFO).
    Fifo,
    Socket,
    BlockDevice,
    CharDevice,
    /// Anything else the platform has.
    Other,
}

/// A repo's content as the core receives it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Source {
    pub files: Vec<SourceFile>,
    pub skipped: Vec<SkippedFile>,
}

/// The rules a reader applies while it walks a repo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRules {
    /// Files larger than this are not read; the reader reports them as skipped.
    pub max_file_size: u64,
}

impl Default for FileRules {
    fn default() -> Self {
        FileRules {
            max_file_size: DEFAULT_MAX_FILE_SIZE,
        }
    }
}

/// The default size limit: 4 MiB.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 4 * 1024 * 1024;

/// File extensions eksync reads.
pub const EXTENSIONS: &[&str] = &["yaml", "yml", "json"];

/// Folders never entered (version control, build output, JavaScript dependencies).
pub const SKIP_DIRS: &[&str] = &[".git", "target", "node_modules"];

/// Folders nested deeper than this are reported, not entered.
pub const MAX_DEPTH: usize = 64;

impl FileRules {
    /// Whether a file of this name is read (by extension).
    pub fn reads_name(&self, name: &str) -> bool {
        name.rsplit_once('.')
            .is_some_and(|(_, ext)| EXTENSIONS.contains(&ext))
    }

    /// Whether a folder of this name is entered.
    pub fn enters_dir(&self, name: &str) -> bool {
        !SKIP_DIRS.contains(&name)
    }

    /// Why a file of this size is not read, if it is not.
    pub fn size_verdict(&self, size: u64) -> Option<SkipReason> {
        (size > self.max_file_size).then_some(SkipReason::TooLarge {
            size,
            limit: self.max_file_size,
        })
    }

    /// Why an entry with a name eksync reads is not read for what it is, if it is not: only
    /// regular files are read (folders are walked). Readers ask this before opening anything,
    /// so a named pipe never blocks them.
    pub fn type_verdict(&self, entry: EntryType) -> Option<SkipReason> {
        let what = match entry {
            EntryType::File | EntryType::Dir => return None,
            EntryType::Fifo => "a named pipe (FIFO)",
            EntryType::Socket => "a socket",
            EntryType::BlockDevice => "a block device",
            EntryType::CharDevice => "a character device",
            EntryType::Other => "a special file",
        };
        Some(SkipReason::NotRegular {
            what: what.to_string(),
        })
    }

    /// Why a folder at this depth (0 = the repo root) is not entered, if it is not.
    pub fn depth_verdict(&self, depth: usize) -> Option<SkipReason> {
        (depth > MAX_DEPTH).then(|| SkipReason::Unreadable("directories nested too deep".into()))
    }

    /// Whether a path (repo-relative, `/`-separated) lies in a folder that is never entered.
    pub fn reads_path(&self, path: &str) -> bool {
        let mut parts: Vec<&str> = path.split('/').collect();
        let Some(name) = parts.pop() else {
            return false;
        };
        parts.len() <= MAX_DEPTH
            && parts.iter().all(|d| self.enters_dir(d))
            && self.reads_name(name)
    }
}

impl Source {
    /// Sorts files and skipped entries by path, as every reader hands them over.
    pub fn sorted(mut self) -> Self {
        self.files.sort_by(|a, b| a.path.cmp(&b.path));
        self.skipped.sort_by(|a, b| a.path.cmp(&b.path));
        self
    }
}

/// The commit a [`Source`] was read from, when it came from Git: what reports print so that a
/// reviewer knows which revision they are looking at.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Revision {
    /// The full commit id (hex).
    pub commit: String,
    /// What was asked for: a branch, a tag, `HEAD~2`, a SHA.
    pub reference: String,
    /// The commit message's first line.
    pub subject: String,
    /// Where it was read from: a local path or a remote URL without its user information.
    pub origin: String,
}

impl Revision {
    /// The first 12 hex digits of the commit.
    pub fn short_commit(&self) -> &str {
        self.commit.get(..12).unwrap_or(&self.commit)
    }

    /// One line for text reports: `Revision: main @ 1a2b3c4d5e6f "subject" (origin)`.
    pub fn text_line(&self) -> String {
        format!(
            "Revision: {} @ {} \"{}\" ({})",
            crate::text::clip(&self.reference, 120),
            self.short_commit(),
            crate::text::clip(&self.subject, 120),
            crate::text::clip(&self.origin, 200)
        )
    }

    /// One line for Markdown reports (escaped for a table cell or a paragraph).
    pub fn markdown_line(&self) -> String {
        format!(
            "Revision: `{}` @ `{}` {} ({})",
            crate::text::clip(&self.reference, 120).replace('`', "'"),
            self.short_commit(),
            crate::text::md_cell(&crate::text::clip(&self.subject, 120)),
            crate::text::md_cell(&crate::text::clip(&self.origin, 200))
        )
    }
}

/// What Git LFS writes in place of a file's content: a pointer starting with this line.
pub const LFS_POINTER_PREFIX: &[u8] = b"version https://git-lfs.github.com/spec/v1\n";

/// LFS pointers are small; a larger file starting with the same line is content.
pub const LFS_POINTER_MAX_SIZE: usize = 1024;

/// Why a file that should hold a manifest is not read because it is a Git LFS pointer (the
/// content lives in LFS storage, which eksync does not fetch), if it is one.
pub fn lfs_pointer_verdict(bytes: &[u8]) -> Option<SkipReason> {
    if bytes.len() > LFS_POINTER_MAX_SIZE || !bytes.starts_with(LFS_POINTER_PREFIX) {
        return None;
    }
    let text = String::from_utf8_lossy(bytes);
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .map(|v| v.trim().to_string())
    };
    let oid = field("oid ").unwrap_or_else(|| "?".into());
    let size = field("size ").unwrap_or_else(|| "?".into());
    Some(SkipReason::Unreadable(format!(
        "it is a Git LFS pointer ({oid}, {size} bytes), not the file's content; eksync does not fetch LFS objects: keep manifests out of LFS"
    )))
}

impl FileRules {
    /// Why a Git submodule (a gitlink to `commit`) named `name` is not read, if it sits where
    /// the reader would look for manifests (a folder it would enter, or a manifest's name):
    /// eksync reads one repository and does not follow submodules, so it names them instead of
    /// reading the folder as empty.
    pub fn submodule_verdict(&self, name: &str, commit: &str) -> Option<SkipReason> {
        (self.enters_dir(name) || self.reads_name(name)).then(|| {
            SkipReason::Unreadable(format!(
                "it is a Git submodule (commit {}); eksync does not read submodules: vendor the manifests or read that repository as its own source",
                commit.get(..12).unwrap_or(commit)
            ))
        })
    }
}

/// The longest source name: it is a label value (63 characters) and part of the inventory's name.
pub const MAX_SOURCE_NAME: usize = 63;

/// Whether `name` can name a source: a Kubernetes label value that is also a DNS label
/// (lowercase letters, digits and `-`, starting and ending with a letter or digit).
pub fn valid_source_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_SOURCE_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

/// A source name derived from something people named (a repo folder, a remote's repository):
/// lowercased, every other character made `-`, runs of `-` folded, trimmed to the length limit.
/// `default` when nothing is left.
pub fn derive_source_name(from: &str) -> String {
    let mut out = String::new();
    for c in from.chars().flat_map(char::to_lowercase) {
        let c = if c.is_ascii_lowercase() || c.is_ascii_digit() {
            c
        } else {
            '-'
        };
        if c == '-' && (out.is_empty() || out.ends_with('-')) {
            continue;
        }
        if out.len() == MAX_SOURCE_NAME {
            break;
        }
        out.push(c);
    }
    let trimmed = out.trim_end_matches('-');
    if trimmed.is_empty() {
        "default".to_string()
    } else {
        trimmed.to_string()
    }
}

/// Reads a folder the plain way, for the core's own tests that load the bundled example (the
/// real reader, with links and limits, is the file-system adapter's).
#[cfg(test)]
pub(crate) fn test_read_tree(root: &std::path::Path) -> Source {
    fn walk(dir: &std::path::Path, rel: &str, rules: &FileRules, src: &mut Source) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .expect("read test folder")
            .map(|e| e.expect("read test folder entry"))
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let name = e.file_name().to_string_lossy().into_owned();
            let path = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            if e.path().is_dir() {
                if rules.enters_dir(&name) {
                    walk(&e.path(), &path, rules, src);
                }
            } else if rules.reads_name(&name) {
                let bytes = std::fs::read(e.path()).expect("read test file");
                src.files.push(SourceFile { path, bytes });
            }
        }
    }
    let mut src = Source::default();
    walk(root, "", &FileRules::default(), &mut src);
    src.sorted()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_names() {
        for (from, want) in [
            ("platform", "platform"),
            ("My Apps_Repo", "my-apps-repo"),
            (".tmpAbC12", "tmpabc12"),
            ("--x--", "x"),
            ("", "default"),
            ("日本", "default"),
            ("a.b.c", "a-b-c"),
        ] {
            let got = derive_source_name(from);
            assert_eq!(got, want, "{from}");
            assert!(valid_source_name(&got), "{got}");
        }
        let long = derive_source_name(&"x".repeat(200));
        assert_eq!(long.len(), MAX_SOURCE_NAME);
        for (name, ok) in [
            ("a", true),
            ("a-b", true),
            ("-a", false),
            ("A", false),
            ("a_b", false),
            ("", false),
        ] {
            assert_eq!(valid_source_name(name), ok, "{name}");
        }
        assert!(!valid_source_name(&"a".repeat(64)));
    }

    #[test]
    fn names_paths_sizes_and_depths() {
        let r = FileRules::default();
        for (name, read) in [
            ("a.yaml", true),
            ("a.yml", true),
            ("a.json", true),
            ("a.YAML", false),
            ("yaml", false),
            ("a.yaml.swp", false),
            ("a.txt", false),
        ] {
            assert_eq!(r.reads_name(name), read, "{name}");
        }
        for (path, read) in [
            ("k8s/a.yaml", true),
            (".git/config.json", false),
            ("web/node_modules/x/package.json", false),
            ("target/x.yaml", false),
            ("k8s/README.md", false),
        ] {
            assert_eq!(r.reads_path(path), read, "{path}");
        }
        assert_eq!(r.size_verdict(DEFAULT_MAX_FILE_SIZE), None);
        assert_eq!(
            r.size_verdict(DEFAULT_MAX_FILE_SIZE + 1),
            Some(SkipReason::TooLarge {
                size: DEFAULT_MAX_FILE_SIZE + 1,
                limit: DEFAULT_MAX_FILE_SIZE
            })
        );
        assert_eq!(r.type_verdict(EntryType::File), None);
        assert_eq!(r.type_verdict(EntryType::Dir), None);
        for (entry, what) in [
            (EntryType::Fifo, "a named pipe (FIFO)"),
            (EntryType::Socket, "a socket"),
            (EntryType::CharDevice, "a character device"),
            (EntryType::BlockDevice, "a block device"),
            (EntryType::Other, "a special file"),
        ] {
            assert_eq!(
                r.type_verdict(entry),
                Some(SkipReason::NotRegular { what: what.into() }),
                "{entry:?}"
            );
        }
        assert!(r.depth_verdict(MAX_DEPTH).is_none());
        assert!(r.depth_verdict(MAX_DEPTH + 1).is_some());
    }

    #[test]
    fn lfs_pointers_and_submodules_are_named() {
        let pointer = b"version https://git-lfs.github.com/spec/v1\noid sha256:4d7a\nsize 12345\n";
        let Some(SkipReason::Unreadable(why)) = lfs_pointer_verdict(pointer) else {
            panic!("an LFS pointer is not read");
        };
        assert!(
            why.contains("Git LFS pointer (sha256:4d7a, 12345 bytes)"),
            "{why}"
        );
        for content in [
            &b"apiVersion: v1\nkind: ConfigMap\n"[..],
            b"",
            b"version https://git-lfs.github.com/spec/v2\n",
        ] {
            assert_eq!(lfs_pointer_verdict(content), None);
        }
        let mut big = pointer.to_vec();
        big.resize(LFS_POINTER_MAX_SIZE + 1, b'x');
        assert_eq!(lfs_pointer_verdict(&big), None, "large files are content");

        let r = FileRules::default();
        let commit = "0123456789abcdef0123456789abcdef01234567";
        let Some(SkipReason::Unreadable(why)) = r.submodule_verdict("charts", commit) else {
            panic!("a submodule in a folder eksync reads is named");
        };
        assert!(why.contains("Git submodule (commit 0123456789ab)"), "{why}");
        assert!(r.submodule_verdict("app.yaml", commit).is_some());
        assert_eq!(r.submodule_verdict("node_modules", commit), None);
    }

    #[test]
    fn revision_lines() {
        let r = Revision {
            commit: "0123456789abcdef0123456789abcdef01234567".into(),
            reference: "main".into(),
            subject: "Bump | jenkins".into(),
            origin: "https://git.example/org/repo.git".into(),
        };
        assert_eq!(r.short_commit(), "0123456789ab");
        assert_eq!(
            r.text_line(),
            "Revision: main @ 0123456789ab \"Bump | jenkins\" (https://git.example/org/repo.git)"
        );
        assert!(r
            .markdown_line()
            .starts_with("Revision: `main` @ `0123456789ab` Bump \\| jenkins"));
    }
}
