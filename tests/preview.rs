//! `eksync diff --base-dir` (the offline PR preview) and `eksync why`, run as the real binary on
//! copies of `examples-repo/`.

use assert_cmd::Command;
use std::fs;
use std::path::{Path, PathBuf};

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples-repo")
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// Two copies of the example: `base` and `head`.
fn copies() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let (base, head) = (tmp.path().join("base"), tmp.path().join("head"));
    copy_dir(&example(), &base);
    copy_dir(&example(), &head);
    (tmp, base, head)
}

fn edit(file: &Path, from: &str, to: &str) {
    let text = fs::read_to_string(file).unwrap();
    assert!(text.contains(from), "{} has no {from:?}", file.display());
    fs::write(file, text.replacen(from, to, 1)).unwrap();
}

/// Runs `eksync diff --base-dir base head ARGS`: (exit code, stdout, stderr).
fn diff(base: &Path, head: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("eksync")
        .unwrap()
        .arg("diff")
        .arg("--base-dir")
        .arg(base)
        .arg(head)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// The pull request: the Spot group's instance type, a wider autoscaler policy, a
/// binding to cluster-admin, the PVC removed and the Jenkins image bumped.
fn pr_scenario(head: &Path) {
    edit(
        &head.join("cluster/cluster.yaml"),
        "[\"m5.large\", \"m5a.large\"",
        "[\"m6i.large\", \"m5a.large\"",
    );
    let policy = head.join("aws/policies/asg-policy-for-worker.json");
    let mut doc: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&policy).unwrap()).unwrap();
    doc["Statement"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "Effect": "Allow",
            "Action": ["autoscaling:UpdateAutoScalingGroup"],
            "Resource": "*"
        }));
    fs::write(&policy, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    fs::write(
        head.join("k8s/jenkins/admin.yaml"),
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: jenkins-admin\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: cluster-admin\nsubjects:\n  - kind: ServiceAccount\n    name: jenkins\n    namespace: jenkins\n",
    )
    .unwrap();
    let storage = head.join("k8s/jenkins/storage.yaml");
    let text = fs::read_to_string(&storage).unwrap();
    let pv_only = text.split("\n---\n").next().unwrap();
    assert!(pv_only.contains("kind: PersistentVolume\n") && !pv_only.contains("Claim"));
    fs::write(&storage, pv_only).unwrap();
    edit(
        &head.join("k8s/jenkins/deployment.yaml"),
        "jenkins/jenkins:2.516.3-lts-jdk21",
        "jenkins/jenkins:2.528.1-lts-jdk21",
    );
}

#[test]
fn an_unchanged_copy_is_no_change() {
    let (_tmp, base, head) = copies();
    for output in ["text", "markdown", "json"] {
        let (code, out, err) = diff(&base, &head, &["-o", output]);
        assert_eq!(code, 0, "{output}: {err}");
        match output {
            "json" => {
                let j: serde_json::Value = serde_json::from_str(&out).unwrap();
                assert_eq!(j["resources"], serde_json::json!([]));
                assert_eq!(j["flags"], serde_json::json!([]));
            }
            "markdown" => {
                assert!(out.starts_with("<!-- eksync-preview id=eks-test-jenkins -->\n"));
                assert!(out.contains("No changes."));
            }
            _ => assert!(out.contains("No changes."), "{out}"),
        }
    }
}

/// The scenario: the Spot group's instance type, the autoscaler's policy widened with a
/// new action on `"Resource": "*"`, a ClusterRoleBinding to cluster-admin, the PVC removed and
/// the Jenkins image bumped.
#[test]
fn the_pr_scenario_flags_each_risk() {
    let (tmp, base, head) = copies();
    pr_scenario(&head);
    let report = tmp.path().join("report.md");
    let (code, md, err) = diff(
        &base,
        &head,
        &["-o", "markdown", "--report-file", report.to_str().unwrap()],
    );
    assert_eq!(code, 2, "{err}\n{md}");
    assert!(md.starts_with("<!-- eksync-preview id=eks-test-jenkins -->\n"));
    assert!(md.chars().count() <= 65_536);
    // Nothing needed cutting: the report file is the comment.
    assert_eq!(fs::read_to_string(&report).unwrap(), md);
    assert!(!md.contains("Cut to fit"));

    // The summary, then the flags with their counts, before any diff.
    assert!(md.contains("| AWS | 0 | 1 | 1 | 0 |"), "{md}");
    assert!(md.contains("| Kubernetes | 1 | 1 | 0 | 1 |"), "{md}");
    let counts: Vec<&str> = md
        .lines()
        .skip_while(|l| *l != "| risk | count |")
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .collect();
    assert_eq!(
        counts,
        [
            "| CloudFormation replacement | 1 |",
            "| Data loss | 1 |",
            "| Deletion | 1 |",
            "| IAM broadening | 1 |",
            "| RBAC escalation | 1 |",
        ],
        "{md}"
    );
    let flags: Vec<&str> = md.lines().filter(|l| l.starts_with("- **")).collect();
    assert_eq!(flags.len(), 5, "{flags:#?}");
    let has = |kind: &str, words: &[&str]| {
        assert!(
            flags
                .iter()
                .any(|l| l.contains(kind) && words.iter().all(|w| l.contains(w))),
            "no {kind} flag with {words:?} in {flags:#?}"
        )
    };
    has(
        "CloudFormation replacement",
        &[
            "ng-test-jenkins-spot",
            "instances (rolling update)",
            "m5.large → m6i.large",
        ],
    );
    has("Data loss", &["PersistentVolumeClaim jenkins/jenkins-pvc"]);
    has("Deletion", &["PersistentVolumeClaim jenkins/jenkins-pvc"]);
    has(
        "IAM broadening",
        &[
            "ASG-Policy-For-Worker",
            "new actions autoscaling:UpdateAutoScalingGroup",
            "Resource \"\\*\" newly allows autoscaling:UpdateAutoScalingGroup",
        ],
    );
    has(
        "RBAC escalation",
        &[
            "ClusterRoleBinding jenkins-admin",
            "binds ClusterRole cluster-admin to ServiceAccount jenkins/jenkins",
        ],
    );
    assert!(md.find("Risk flags").unwrap() < md.find("<details>").unwrap());
    assert!(md.contains("+        image: jenkins/jenkins:2.528.1-lts-jdk21"));
    assert!(md.contains(
        "Deployment jenkins/jenkins no longer waits for PersistentVolumeClaim jenkins/jenkins-pvc"
    ));

    // The same content for bots.
    let (code, out, _) = diff(&base, &head, &["-o", "json"]);
    assert_eq!(code, 2);
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    let risks: Vec<&str> = j["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["risk"].as_str().unwrap())
        .collect();
    assert_eq!(
        risks,
        [
            "replacement",
            "data-loss",
            "deletion",
            "iam-broadening",
            "rbac-escalation"
        ]
    );
    let (code, text, _) = diff(&base, &head, &[]);
    assert_eq!(code, 2);
    assert!(text.contains("Risk flags (5):"), "{text}");
}

#[test]
fn a_side_that_does_not_load_is_an_error() {
    let (_tmp, base, head) = copies();
    edit(
        &head.join("cluster/cluster.yaml"),
        "maxSize: 5",
        "maxSize: five",
    );
    let (code, out, err) = diff(&base, &head, &["-o", "markdown"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.is_empty());
    assert!(err.contains("the head revision"), "{err}");
    assert!(err.contains("cluster/cluster.yaml"), "{err}");
    let (code, _, err) = diff(&head, &base, &[]);
    assert_eq!(code, 1);
    assert!(err.contains("the base revision"), "{err}");
}

#[test]
fn why_names_the_chain_and_its_reasons() {
    let run = |args: &[&str]| {
        let out = Command::cargo_bin("eksync")
            .unwrap()
            .arg("why")
            .args(args)
            .arg(example())
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let (code, out, err) = run(&["Deployment/kube-system/cluster-autoscaler"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("Deployment kube-system/cluster-autoscaler (k8s/eks-test-jenkins/Deployment.apps/kube-system/cluster-autoscaler) is in wave 4."), "{out}");
    assert!(out.contains("-> IAMRolePolicy ASG-Policy-For-Worker (wave 3)\n       because uses {{aws:nodegroup/ng-test-jenkins/resource/NodeInstanceRole}} at spec.roleName"), "{out}");
    let (code, out, _) = run(&["IAMRolePolicy/ASG-Policy-For-Worker", "-o", "json"]);
    assert_eq!(code, 0);
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["resource"]["wave"], 3);
    assert_eq!(
        j["dependents"][0]["to"]["label"],
        "Deployment kube-system/cluster-autoscaler"
    );
    let (code, _, err) = run(&["Deployment/nope"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("no resource matches `Deployment/nope`"),
        "{err}"
    );
}

fn git(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `diff --base main` against a Git repo: the branch's commit, or the working tree.
#[test]
fn a_branch_previewed_against_main_in_git() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    copy_dir(&example(), &repo);
    git(&repo, &["init", "-q"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "the example"]);
    git(&repo, &["branch", "same"]);
    git(&repo, &["checkout", "-q", "-b", "feature"]);
    pr_scenario(&repo);
    git(&repo, &["add", "-A"]);
    git(
        &repo,
        &["commit", "-q", "-m", "agents on m6i, wider policy"],
    );
    let run = |args: &[&str]| {
        let out = Command::cargo_bin("eksync")
            .unwrap()
            .arg("diff")
            .arg(&repo)
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let (code, md, err) = run(&["--base", "main", "--head", "feature", "-o", "markdown"]);
    assert_eq!(code, 2, "{err}\n{md}");
    for flag in [
        "| CloudFormation replacement | 1 |",
        "| Data loss | 1 |",
        "| Deletion | 1 |",
        "| IAM broadening | 1 |",
        "| RBAC escalation | 1 |",
    ] {
        assert!(md.contains(flag), "{flag}\n{md}");
    }
    // Both revisions are named, with their commits and subjects.
    assert!(
        md.contains("main @ ") && md.contains("\"the example\""),
        "{md}"
    );
    assert!(
        md.contains("feature @ ") && md.contains("agents on m6i"),
        "{md}"
    );
    // The working tree (the feature branch checked out) is the default head.
    let (code, _, err) = run(&["--base", "main"]);
    assert_eq!(code, 2, "{err}");
    // An unchanged branch is no change; an unknown base is an error, not "no change".
    let (code, text, err) = run(&["--base", "main", "--head", "same"]);
    assert_eq!(code, 0, "{err}\n{text}");
    let (code, _, err) = run(&["--base", "no-such-branch"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("no-such-branch"), "{err}");
}

/// The CI examples under `deploy/ci/` validate against the schemas GitHub Actions and GitLab CI
/// publish (bundled with check-jsonschema, installed pinned by `scripts/setup.sh`; offline).
#[test]
fn ci_examples_match_their_published_schemas() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let checker = root.join(".venv/bin/check-jsonschema");
    assert!(
        checker.exists(),
        "check-jsonschema not found at {}: run scripts/setup.sh",
        checker.display()
    );
    for (schema, file) in [
        ("vendor.github-workflows", "deploy/ci/github-actions.yml"),
        ("vendor.gitlab-ci", "deploy/ci/gitlab-ci.yml"),
    ] {
        let out = std::process::Command::new(&checker)
            .args(["--builtin-schema", schema])
            .arg(root.join(file))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{file}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let text = fs::read_to_string(root.join(file)).unwrap();
        // Both call the preview the same way and keep one comment by its marker.
        assert!(text.contains("eksync diff . --base"), "{file}");
        assert!(text.contains("--report-file"), "{file}");
        assert!(
            text.contains("head -n 1") || text.contains("split('\\n', 1)[0]"),
            "{file}"
        );
    }
}
