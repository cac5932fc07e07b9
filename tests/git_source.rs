//! End to end: the real binary reads `examples-repo/` from real Git repositories made with the
//! `git` CLI, through every transport, each against a real server on loopback that the test
//! starts: a local path with `--rev`, `file://`, `git daemon`, smart HTTP (`git http-backend`
//! behind a token-checking server) and SSH (`sshd` with generated keys). Covers revisions, tags,
//! `--path`, links, submodules and LFS pointers, force-pushes, deleted branches, shallow history,
//! a damaged cache, concurrent runs on one cache, a no-change re-run that downloads nothing, auth
//! refusals and host-key mismatches (with no credential in any output).

mod support;

use serde_json::Value;
use std::path::Path;
use std::process::Command;
use support::git::{self as g, git};

/// Runs the real binary; returns exit code, stdout and stderr.
fn eksync(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_eksync"));
    cmd.args(args)
        .env_remove("EKSYNC_GIT_TOKEN")
        .env_remove("SSH_AUTH_SOCK")
        .env("EKSYNC_LOG", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run eksync");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    (out.status.code().unwrap_or(-1), stdout, stderr)
}

/// `plan -o json` of `repo` with `args`: exit 0, and (resources, revision commit).
fn plan(repo: &str, args: &[&str], env: &[(&str, &str)]) -> (usize, String) {
    let mut all = vec!["plan", repo, "-o", "json"];
    all.extend_from_slice(args);
    let (code, out, err) = eksync(&all, env);
    assert_eq!(code, 0, "plan {all:?}\nstdout: {out}\nstderr: {err}");
    let json: Value = serde_json::from_str(&out).unwrap();
    (
        json["resources"].as_array().unwrap().len(),
        json["revision"]["commit"]
            .as_str()
            .unwrap_or("")
            .to_string(),
    )
}

/// A failing run: exit 1, and its stderr.
fn fails(args: &[&str], env: &[(&str, &str)]) -> String {
    let (code, out, err) = eksync(args, env);
    assert_eq!(
        code, 1,
        "{args:?} should fail\nstdout: {out}\nstderr: {err}"
    );
    err
}

const BASE: usize = 21;

/// main: c1 (the example, tag v1), c2 (+1 ConfigMap, annotated tag v2), c3 (+1 more).
fn history(work: &Path) -> [String; 3] {
    let c1 = g::init_example(work, "");
    git(work, &["tag", "v1"]);
    std::fs::write(work.join("k8s/extra-1.yaml"), g::config_map("extra-1")).unwrap();
    let c2 = g::commit_all(work, "Add extra-1");
    git(work, &["tag", "-a", "v2", "-m", "release 2"]);
    std::fs::write(work.join("k8s/extra-2.yaml"), g::config_map("extra-2")).unwrap();
    let c3 = g::commit_all(work, "Add extra-2");
    [c1, c2, c3]
}

#[test]
fn local_repository_at_any_revision_without_checkout() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("platform");
    let [c1, c2, c3] = history(&work);
    let repo = work.to_str().unwrap();
    // An uncommitted edit is read from the folder, never from a revision.
    std::fs::write(work.join("k8s/uncommitted.yaml"), g::config_map("wip")).unwrap();
    assert_eq!(plan(repo, &[], &[]).0, BASE + 3);
    for (rev, resources, commit) in [
        ("main", BASE + 2, &c3),
        ("HEAD", BASE + 2, &c3),
        ("HEAD~1", BASE + 1, &c2),
        ("HEAD~2", BASE, &c1),
        ("v1", BASE, &c1),
        ("v2", BASE + 1, &c2),
        (&c2[..7], BASE + 1, &c2),
        (&c1[..], BASE, &c1),
    ] {
        assert_eq!(
            plan(repo, &["--rev", rev], &[]),
            (resources, commit.clone()),
            "--rev {rev}"
        );
    }
    // Text and Markdown name the revision in their header.
    let (code, text, _) = eksync(&["plan", repo, "--rev", "v2"], &[]);
    assert_eq!(code, 0);
    assert!(
        text.starts_with(&format!("Revision: v2 @ {} \"Add extra-1\"", &c2[..12])),
        "{text}"
    );
    let (_, md, _) = eksync(&["plan", repo, "--rev", "v2", "-o", "markdown"], &[]);
    assert!(
        md.contains(&format!("Revision: `v2` @ `{}` Add extra-1", &c2[..12])),
        "{md}"
    );
    // Every command takes a revision.
    for cmd in ["validate", "render", "graph"] {
        let (code, out, err) = eksync(&[cmd, repo, "--rev", "v1"], &[]);
        assert_eq!(code, 0, "{cmd}: {out}{err}");
    }
    let err = fails(&["plan", repo, "--rev", "no-such-branch"], &[]);
    assert!(err.contains("unknown revision `no-such-branch`"), "{err}");
    let err = fails(
        &["plan", tmp.path().to_str().unwrap(), "--rev", "main"],
        &[],
    );
    assert!(err.contains("is not a Git repository"), "{err}");
}

#[test]
fn monorepo_path_links_submodules_and_lfs_pointers() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("mono");
    g::init_example(&work, "infra");
    std::fs::create_dir_all(work.join("shared")).unwrap();
    std::fs::write(work.join("shared/linked.yaml"), g::config_map("linked")).unwrap();
    std::os::unix::fs::symlink(
        "../../shared/linked.yaml",
        work.join("infra/k8s/linked.yaml"),
    )
    .unwrap();
    std::fs::create_dir_all(work.join("shared/dir")).unwrap();
    std::fs::write(work.join("shared/dir/cm.yaml"), g::config_map("from-dir")).unwrap();
    std::os::unix::fs::symlink("../../shared/dir", work.join("infra/k8s/dir-link")).unwrap();
    let good = g::commit_all(&work, "Link a shared ConfigMap");
    let repo = work.to_str().unwrap();
    // --path reads the folder; a link inside the repository (even outside --path) is followed;
    // a link to a folder is read where it is linked from.
    let (resources, _) = plan(repo, &["--rev", "main", "--path", "infra"], &[]);
    assert_eq!(
        resources,
        BASE + 2,
        "the example and both linked ConfigMaps"
    );
    let (code, render, err) = eksync(&["render", repo, "--rev", "main", "--path", "infra"], &[]);
    assert_eq!(code, 0, "{err}");
    assert!(
        render.contains("name: linked") && render.contains("name: from-dir"),
        "{render}"
    );
    // A folder inside the working tree given as REPO reads that folder of the commit.
    assert_eq!(
        plan(
            work.join("infra").to_str().unwrap(),
            &["--rev", "main"],
            &[]
        )
        .0,
        resources
    );
    let err = fails(&["plan", repo, "--rev", "main", "--path", "nope"], &[]);
    assert!(
        err.contains("--path `nope` is not a folder in main"),
        "{err}"
    );

    // Then: a link out of the repository, an LFS pointer and a submodule where manifests are.
    std::os::unix::fs::symlink("/etc/hostname", work.join("infra/k8s/escape.yaml")).unwrap();
    std::fs::write(
        work.join("infra/k8s/big.yaml"),
        "version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n",
    )
    .unwrap();
    let sub = tmp.path().join("charts");
    g::init_example(&sub, "");
    git(
        &work,
        &[
            "-c",
            "protocol.file.allow=always",
            "submodule",
            "add",
            "-q",
            sub.to_str().unwrap(),
            "infra/k8s/vendor",
        ],
    );
    g::commit_all(&work, "Vendor charts");
    let err = fails(&["validate", repo, "--rev", "main", "--path", "infra"], &[]);
    for want in [
        "k8s/escape.yaml",
        "outside the repo",
        "k8s/big.yaml",
        "Git LFS pointer (sha256:4d7a",
        "k8s/vendor",
        "Git submodule",
    ] {
        assert!(err.contains(want), "{want}: {err}");
    }
    // The folder reader names an LFS pointer too (a checkout without LFS).
    let err = fails(&["validate", work.join("infra").to_str().unwrap()], &[]);
    assert!(
        err.contains("k8s/big.yaml") && err.contains("Git LFS pointer"),
        "{err}"
    );
    // The earlier commit is still fine.
    assert_eq!(
        plan(repo, &["--rev", &good, "--path", "infra"], &[]).0,
        resources
    );
}

#[test]
fn file_url_force_push_deleted_branch_tags_and_a_damaged_cache() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("work");
    let [c1, c2, c3] = history(&work);
    let bare = tmp.path().join("platform.git");
    g::bare_remote(&work, &bare);
    let cache = tmp.path().join("cache");
    let url = format!("file://{}", bare.display());
    let c = ["--git-cache", cache.to_str().unwrap()];
    assert_eq!(
        plan(&url, &[&c[..], &[]].concat(), &[]),
        (BASE + 2, c3.clone()),
        "the remote's HEAD"
    );
    assert_eq!(
        plan(&url, &[&c[..], &["--ref", "main"]].concat(), &[]),
        (BASE + 2, c3.clone())
    );
    assert_eq!(
        plan(&url, &[&c[..], &["--ref", "main~2"]].concat(), &[]),
        (BASE, c1.clone()),
        "an ancestor of a remote branch"
    );
    assert_eq!(
        plan(&url, &[&c[..], &["--ref", "v1"]].concat(), &[]),
        (BASE, c1.clone())
    );
    assert_eq!(
        plan(&url, &[&c[..], &["--ref", "v2"]].concat(), &[]),
        (BASE + 1, c2.clone()),
        "annotated"
    );
    assert_eq!(
        plan(&url, &[&c[..], &["--ref", &c2[..10]]].concat(), &[]),
        (BASE + 1, c2.clone()),
        "a SHA"
    );
    let caches: Vec<_> = std::fs::read_dir(&cache).unwrap().collect();
    assert_eq!(
        caches.len(),
        2,
        "one bare repository and its lock file: {caches:?}"
    );

    // A branch rewritten and force-pushed is followed.
    git(&work, &["checkout", "-q", "-b", "feature"]);
    std::fs::write(work.join("k8s/feature.yaml"), g::config_map("feature")).unwrap();
    let f1 = g::commit_all(&work, "Feature");
    git(&work, &["push", "-q", "origin", "feature"]);
    assert_eq!(
        plan(&url, &[&c[..], &["--ref", "feature"]].concat(), &[]),
        (BASE + 3, f1)
    );
    git(&work, &["reset", "-q", "--hard", &c1]);
    let f2 = g::commit_all(&work, "Feature, rewritten");
    git(&work, &["push", "-q", "--force", "origin", "feature"]);
    assert_eq!(
        plan(&url, &[&c[..], &["--ref", "feature"]].concat(), &[]),
        (BASE, f2)
    );

    // A deleted branch is an error that says so, every time.
    git(&work, &["push", "-q", "origin", "--delete", "feature"]);
    let err = fails(&["plan", &url, "--ref", "feature", c[0], c[1]], &[]);
    assert!(
        err.contains("branch `feature` no longer exists on"),
        "{err}"
    );
    let err = fails(&["plan", &url, "--ref", "feature", c[0], c[1]], &[]);
    assert!(err.contains("has no branch or tag `feature`"), "{err}");
    assert!(
        err.contains("main") && err.contains("v1"),
        "names what exists: {err}"
    );

    // A damaged cache is cloned again.
    let repo_dir = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "git"))
        .unwrap();
    let v2 = [&["plan", &url, "-o", "json", "--ref", "v2"][..], &c].concat();
    let reads_v2_again = |what: &str| {
        let (code, out, err) = eksync(&v2, &[]);
        assert_eq!(code, 0, "{what}: {err}");
        assert!(out.contains(&c2), "{what}: {out}");
        assert!(err.contains("cloning again"), "{what}: {err}");
    };
    std::fs::write(repo_dir.join("HEAD"), "garbage").unwrap();
    std::fs::remove_dir_all(repo_dir.join("objects")).unwrap();
    reads_v2_again("a cache that cannot be opened");
    // Packs zeroed under intact indexes and refs (bit rot): detected when reading, cloned again.
    let packs: Vec<_> = walk(&repo_dir.join("objects"))
        .into_iter()
        .filter(|e| e.extension().is_some_and(|x| x == "pack"))
        .collect();
    assert!(!packs.is_empty());
    for pack in packs {
        let mut bytes = std::fs::read(&pack).unwrap();
        let n = bytes.len();
        bytes[12..n - 20].fill(0);
        std::fs::write(&pack, &bytes).unwrap();
    }
    reads_v2_again("damaged objects");
    let (code, _, err) = eksync(&v2, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(
        !err.contains("cloning again"),
        "a sound cache is kept: {err}"
    );
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn git_daemon_shallow_history_and_two_runs_on_one_cache() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("work");
    let [c1, _, c3] = history(&work);
    let served = tmp.path().join("served");
    std::fs::create_dir_all(&served).unwrap();
    g::bare_remote(&work, &served.join("platform.git"));
    let daemon = g::git_daemon(&served);
    let url = format!("git://127.0.0.1:{}/platform.git", daemon.port);

    // Two runs at once on an empty cache: both succeed and the cache is sound.
    let cache = tmp.path().join("cache");
    let args = [
        "plan",
        &url,
        "-o",
        "json",
        "--ref",
        "main",
        "--git-cache",
        cache.to_str().unwrap(),
    ];
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_eksync"))
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    for out in [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()] {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(json["revision"]["commit"], c3.as_str());
    }
    let bare = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "git"))
        .unwrap();
    git(&bare, &["fsck", "--no-dangling"]);
    // While another holder keeps the cache's lock, a run waits (and says so), then proceeds.
    let lock_file = bare.with_extension("lock");
    let held = std::fs::File::options()
        .write(true)
        .open(&lock_file)
        .unwrap();
    held.lock().unwrap();
    let mut waiting = Command::new(env!("CARGO_BIN_EXE_eksync"))
        .args(args)
        .env("EKSYNC_LOG", "info")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = waiting.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(l) if l.contains("another eksync run is using this Git cache") => break,
            Ok(_) => {}
            Err(e) => panic!("the second run never said it waits for the lock: {e}"),
        }
    }
    assert!(waiting.try_wait().unwrap().is_none(), "and waits");
    held.unlock().unwrap();
    let out = waiting.wait_with_output().unwrap();
    assert!(out.status.success());
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["revision"]["commit"], c3.as_str());
    assert_eq!(
        plan(
            &url,
            &["--ref", "v1", "--git-cache", cache.to_str().unwrap()],
            &[]
        ),
        (BASE, c1)
    );

    // A shallow fetch holds one commit.
    let shallow = tmp.path().join("shallow");
    let s = ["--git-cache", shallow.to_str().unwrap(), "--git-depth", "1"];
    assert_eq!(
        plan(&url, &[&["--ref", "main"][..], &s].concat(), &[]),
        (BASE + 2, c3)
    );
    let bare = std::fs::read_dir(&shallow)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "git"))
        .unwrap();
    assert!(bare.join("shallow").exists(), "the cache is shallow");
    assert_eq!(git(&bare, &["rev-list", "--count", "main"]), "1");

    // Unknown ref and unreachable remote: clear errors, exit 1.
    let err = fails(
        &[
            "plan",
            &url,
            "--ref",
            "nope",
            "--git-cache",
            cache.to_str().unwrap(),
        ],
        &[],
    );
    assert!(err.contains("has no branch or tag `nope`"), "{err}");
    let closed = format!("git://127.0.0.1:{}/platform.git", g::free_port());
    let err = fails(
        &["plan", &closed, "--git-cache", cache.to_str().unwrap()],
        &[],
    );
    assert!(err.contains("cannot reach git://127.0.0.1:"), "{err}");
    assert!(err.contains("gave up after 3 attempt(s)"), "retried: {err}");
}

#[test]
fn smart_http_with_a_checked_token_and_a_no_change_rerun_that_downloads_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("work");
    let [_, _, c3] = history(&work);
    let served = tmp.path().join("served");
    std::fs::create_dir_all(&served).unwrap();
    g::bare_remote(&work, &served.join("platform.git"));
    let token = "tok-3f9a8c1e5b";
    let server = g::HttpGit::start(&served, token);
    let url = format!("{}/platform.git", server.url);
    let cache = tmp.path().join("cache");
    let cache_s = cache.to_str().unwrap();
    let token_file = tmp.path().join("token");
    std::fs::write(&token_file, format!("{token}\n")).unwrap();

    // No token: the server's demand is explained.
    let err = fails(&["plan", &url, "--git-cache", cache_s], &[]);
    assert!(
        err.contains("asks for credentials") && err.contains("--git-token-file"),
        "{err}"
    );
    // A wrong token is refused, naming neither the token nor the user.
    let wrong = "wrong-77e1c0";
    let err = fails(
        &["plan", &url, "--git-cache", cache_s],
        &[("EKSYNC_GIT_TOKEN", wrong)],
    );
    assert!(err.contains("refused the credentials"), "{err}");
    assert!(
        !err.contains(wrong) && !err.contains("x-access-token"),
        "{err}"
    );
    // User information in the URL never shows, even when it is wrong.
    let with_user = url.replace("http://", &format!("http://alice-in-url:{wrong}@"));
    let debug = [("EKSYNC_LOG", "debug")];
    let (code, out, err) = eksync(&["plan", &with_user, "--git-cache", cache_s], &debug);
    assert_eq!(code, 1);
    for secret in [wrong, "alice-in-url"] {
        assert!(
            !out.contains(secret) && !err.contains(secret),
            "{secret}: {out}{err}"
        );
    }

    // The right token, from a file or the environment.
    let by_file = [
        "--git-cache",
        cache_s,
        "--git-token-file",
        token_file.to_str().unwrap(),
    ];
    assert_eq!(plan(&url, &by_file, &[]), (BASE + 2, c3.clone()));
    let seen = server.requests();
    assert!(
        seen.iter().any(|r| r.method == "POST" && r.status == 200),
        "a pack was fetched: {seen:?}"
    );
    let ua = &seen.last().unwrap().user_agent;
    assert!(
        ua.contains(concat!("eksync/", env!("CARGO_PKG_VERSION"))),
        "{ua}"
    );

    // Nothing new: one ref advertisement, no pack request.
    server.clear();
    assert_eq!(
        plan(
            &url,
            &["--git-cache", cache_s],
            &[("EKSYNC_GIT_TOKEN", token)]
        ),
        (BASE + 2, c3)
    );
    let seen = server.requests();
    let ok: Vec<_> = seen.iter().filter(|r| r.status == 200).collect();
    assert_eq!(ok.len(), 1, "{seen:?}");
    assert!(
        ok[0].method == "GET" && ok[0].target.contains("/info/refs?service=git-upload-pack"),
        "{seen:?}"
    );
    assert!(!seen.iter().any(|r| r.method == "POST"), "{seen:?}");

    // Something new: fetched.
    std::fs::write(work.join("k8s/extra-3.yaml"), g::config_map("extra-3")).unwrap();
    let c4 = g::commit_all(&work, "Add extra-3");
    git(&work, &["push", "-q", "origin", "main"]);
    assert_eq!(plan(&url, &by_file, &[]), (BASE + 3, c4));

    // A token in the URL works, and neither it nor the user shows in the report or the logs.
    let good_user = url.replace("http://", &format!("http://alice-in-url:{token}@"));
    let (code, out, err) = eksync(
        &["plan", &good_user, "-o", "json", "--git-cache", cache_s],
        &debug,
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&format!("\"origin\": \"{url}\"")), "{out}");
    for secret in [token, "alice-in-url"] {
        assert!(
            !out.contains(secret) && !err.contains(secret),
            "{secret}: {out}{err}"
        );
    }
}

#[test]
fn ssh_with_a_key_and_strict_host_key_checking() {
    if let Some(why) = g::sshd_unavailable() {
        panic!("sshd cannot run: {why}");
    }
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("work");
    let [c1, _, c3] = history(&work);
    let bare = tmp.path().join("platform.git");
    g::bare_remote(&work, &bare);
    let client_key = tmp.path().join("id_ed25519");
    let client_pub = g::keygen(&client_key);
    let sshd = g::Sshd::start(&tmp.path().join("sshd"), &client_pub);
    let url = format!(
        "ssh://{}@127.0.0.1:{}{}",
        sshd.user,
        sshd.server.port,
        bare.display()
    );
    let cache = tmp.path().join("cache");
    let known = tmp.path().join("known_hosts");
    let args = |kh: &Path, key: &Path| -> Vec<String> {
        [
            "--git-cache",
            cache.to_str().unwrap(),
            "--git-known-hosts",
            kh.to_str().unwrap(),
            "--git-ssh-key",
            key.to_str().unwrap(),
        ]
        .map(String::from)
        .to_vec()
    };
    let run = |extra: Vec<String>| -> (i32, String, String) {
        let mut all = vec!["plan".to_string(), url.clone(), "-o".into(), "json".into()];
        all.extend(extra);
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        eksync(&refs, &[])
    };

    // Unknown host: refused (no trust on first use).
    let (code, _, err) = run(args(&known, &client_key));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("is not in the known hosts file"), "{err}");
    // A different key for the host: refused as a mismatch.
    let other = g::keygen(&tmp.path().join("other_host"));
    let mut f = other.split_whitespace();
    std::fs::write(
        &known,
        format!(
            "[127.0.0.1]:{} {} {}\n",
            sshd.server.port,
            f.next().unwrap(),
            f.next().unwrap()
        ),
    )
    .unwrap();
    let (code, _, err) = run(args(&known, &client_key));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("HOST KEY MISMATCH"), "{err}");
    // --git-insecure-accept-new-host-key still refuses a changed key...
    let mut a = args(&known, &client_key);
    a.push("--git-insecure-accept-new-host-key".into());
    let (code, _, err) = run(a.clone());
    assert_eq!(code, 1, "{err}");
    // ...and adds an unknown one.
    let fresh = tmp.path().join("fresh_known_hosts");
    let mut a = args(&fresh, &client_key);
    a.push("--git-insecure-accept-new-host-key".into());
    let (code, out, err) = run(a);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&c3));
    assert_eq!(
        std::fs::read_to_string(&fresh).unwrap(),
        sshd.known_hosts_line
    );

    // The right host key and the right user key.
    std::fs::write(&known, &sshd.known_hosts_line).unwrap();
    let (code, out, err) = run(args(&known, &client_key));
    assert_eq!(code, 0, "{err}");
    let json: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["revision"]["commit"], c3.as_str());
    assert!(
        !json["revision"]["origin"]
            .as_str()
            .unwrap()
            .contains(&sshd.user),
        "{json}"
    );
    let mut a = args(&known, &client_key);
    a.extend(["--ref".into(), "v1".into()]);
    let (code, out, _) = run(a);
    assert_eq!(code, 0);
    assert!(out.contains(&c1));

    // A key file that is not there is named as such.
    let (code, _, err) = run(args(&known, &tmp.path().join("no-such-key")));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("cannot read the SSH key"), "{err}");
    // A key the server does not know is refused.
    let stranger = tmp.path().join("stranger");
    g::keygen(&stranger);
    let (code, _, err) = run(args(&known, &stranger));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("refused the credentials"), "{err}");
}
