//! `eksync diff --base REV --head REV --live`, the real binary on the e2e rig (moto + the
//! Kubernetes test server): the example in a real Git repository, `main` applied, a branch that
//! raises the Spot group's max size and bumps the Jenkins image. One report holds the offline
//! preview and a live section with the CloudFormation change-set rows and the server-side dry-run
//! field diff, in Markdown (within GitHub's comment limit) and in JSON; without a reachable
//! cluster `--live` is an error.

mod support;

use std::path::Path;
use support::cli::*;
use support::e2e::{edit, item, set_up};
use support::git::{commit_all, git, init_example};
use support::moto::moto;
use testkit::TestServer;

const OLD_IMAGE: &str = "jenkins/jenkins:2.516.3-lts-jdk21";
const NEW_IMAGE: &str = "jenkins/jenkins:2.528.1-lts-jdk21";
const LIVE_TITLE: &str = "#### Live: the head against live AWS and the cluster";
const GITHUB_LIMIT: usize = 65_536;

/// The harness's command (`support::cli::command`: its environment, moto's endpoint, the
/// kubeconfig) with `-o json` swapped for another output format.
fn with_output(cmd: std::process::Command, output: &str) -> std::process::Command {
    let mut out = std::process::Command::new(cmd.get_program());
    let mut args: Vec<&std::ffi::OsStr> = cmd.get_args().collect();
    let at = args
        .windows(2)
        .position(|w| w[0] == "-o" && w[1] == "json")
        .expect("the harness passes -o json");
    args[at + 1] = std::ffi::OsStr::new(output);
    out.args(args);
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => out.env(k, v),
            None => out.env_remove(k),
        };
    }
    out
}

/// The branch of the issue: the Spot group's max size 5 -> 6 and the Jenkins image bumped.
fn feature_branch(repo: &Path) {
    git(repo, &["checkout", "-q", "-b", "feature"]);
    let path = repo.join("cluster/cluster.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let spot = text.find("- name: ng-test-jenkins-spot").unwrap();
    let max = spot
        + text[spot..]
            .find("maxSize: 5")
            .expect("the Spot group's maxSize");
    std::fs::write(
        &path,
        format!("{}maxSize: 6{}", &text[..max], &text[max + 10..]),
    )
    .unwrap();
    edit(repo, "k8s/jenkins/deployment.yaml", OLD_IMAGE, NEW_IMAGE);
    commit_all(repo, "Spot max 6, Jenkins bumped");
    git(repo, &["checkout", "-q", "main"]);
}

/// The live section of a comment (from its title to the end).
fn live_section(md: &str) -> &str {
    let at = md
        .find(LIVE_TITLE)
        .unwrap_or_else(|| panic!("no live section:\n{md}"));
    &md[at..]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_comment_holds_the_offline_preview_and_the_live_change_sets_and_dry_runs() {
    let (_guard, moto) = moto().await;
    let dir = tempfile::tempdir().unwrap();
    let (_oob, repo) = set_up(moto, dir.path()).await;
    let repo_s = repo.to_str().unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    commit_all(&repo, "Jenkins on EKS");
    let kube = TestServer::start().await.unwrap();
    let kubeconfig = kube.write_kubeconfig(dir.path()).unwrap();
    let aws = Some(moto.url.as_str());

    // `main` is what runs.
    let (code, run) = eksync(
        aws,
        &kubeconfig,
        &["apply", repo_s, "--rev", "main", "--yes"],
    );
    assert_eq!(code, 2, "{run:#}");
    feature_branch(&repo);

    let report = dir.path().join("full.md");
    let args = [
        "diff",
        repo_s,
        "--base",
        "main",
        "--head",
        "feature",
        "--live",
        "--report-file",
        report.to_str().unwrap(),
    ];
    let out = with_output(command(aws, &kubeconfig, &args), "markdown")
        .output()
        .unwrap();
    let md = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{md}\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    // ONE comment: one marker, first line; the offline preview first, then the live section.
    assert!(md.starts_with("<!-- eksync-preview id="), "{md}");
    assert_eq!(md.matches("<!-- eksync-preview").count(), 1, "{md}");
    assert!(md.encode_utf16().count() <= GITHUB_LIMIT);
    let live = live_section(&md);
    let offline = &md[..md.len() - live.len()];
    assert!(offline.contains("### eksync preview"), "{md}");
    assert!(offline.contains("Comparing base **main @"), "{offline}");
    assert!(
        offline.contains("the head against live AWS and the cluster follows below"),
        "{offline}"
    );
    for changed in [
        "Deployment jenkins/jenkins",
        "eksctl-eks-test-jenkins-nodegroup-ng-test-jenkins-spot",
    ] {
        assert!(
            offline.contains(changed),
            "{changed} not in the preview:\n{offline}"
        );
    }
    assert!(
        offline.contains(&format!("+        image: {NEW_IMAGE}")),
        "{offline}"
    );

    // The live section: the head's revision against the live one, the change-set row of the
    // Spot group's Auto Scaling group and the dry run's field diff of the image.
    assert!(live.contains("Revision: `feature` @"), "{live}");
    assert!(live.contains("Live: `main` @"), "{live}");
    assert!(
        live.contains("`change set: Modify NodeGroup (AWS::AutoScaling::AutoScalingGroup)"),
        "{live}"
    );
    assert!(live.contains("MaxSize"), "{live}");
    let jenkins_row = live
        .lines()
        .find(|l| l.contains("Deployment jenkins/jenkins"))
        .unwrap_or_else(|| panic!("no Jenkins row:\n{live}"));
    assert!(
        jenkins_row.contains("spec.template.spec.containers[0].image")
            && jenkins_row.contains(OLD_IMAGE)
            && jenkins_row.contains(NEW_IMAGE),
        "{jenkins_row}"
    );
    // The full report has the same two parts, never cut.
    let full = std::fs::read_to_string(&report).unwrap();
    assert!(full.contains("### eksync preview"), "{full}");
    assert_eq!(live_section(&full), live, "nothing needed cutting here");

    // JSON carries both: the preview's fields and the live plan under `live`.
    let (code, json, stderr) = eksync_full(aws, &kubeconfig, &args[..7]);
    assert_eq!(code, 2, "{json:#}\n{stderr}");
    let labels: Vec<&str> = json["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["label"].as_str().unwrap())
        .collect();
    assert!(labels.contains(&"Deployment jenkins/jenkins"), "{labels:?}");
    let spot = item(
        &json["live"],
        "eksctl-eks-test-jenkins-nodegroup-ng-test-jenkins-spot",
    );
    assert_eq!(spot["action"], "update", "{spot:#}");
    assert!(
        spot["details"]
            .to_string()
            .contains("change set: Modify NodeGroup (AWS::AutoScaling::AutoScalingGroup)"),
        "{spot:#}"
    );
    let jenkins = item(&json["live"], "jenkins");
    assert_eq!(jenkins["action"], "update", "{jenkins:#}");
    let details = jenkins["details"].to_string();
    assert!(
        details.contains("spec.template.spec.containers[0].image") && details.contains(NEW_IMAGE),
        "{details}"
    );
    assert_eq!(json["live"]["summary"]["changes"], true, "{json:#}");
    assert_eq!(json["live"]["revision"]["reference"], "feature", "{json:#}");

    // Nothing was changed by any of it: the preview and the live diff only read and dry-run.
    assert_eq!(
        kube.requests()
            .entries()
            .into_iter()
            .filter(|r| r.is_write() && !r.dry_run && r.resource == "deployments")
            .filter(|r| r.name.as_deref() == Some("jenkins"))
            .count(),
        1,
        "only main's apply wrote the Jenkins Deployment"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_without_a_reachable_cluster_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    init_example(&repo, "");
    git(&repo, &["checkout", "-q", "-b", "feature"]);
    edit(&repo, "k8s/jenkins/deployment.yaml", OLD_IMAGE, NEW_IMAGE);
    commit_all(&repo, "Jenkins bumped");
    // A kubeconfig whose server has stopped: nothing listens on its port.
    let kubeconfig = {
        let kube = TestServer::start().await.unwrap();
        kube.write_kubeconfig(dir.path()).unwrap()
    };
    let repo_s = repo.to_str().unwrap();
    let args = [
        "diff", repo_s, "--base", "main", "--head", "feature", "--live",
    ];
    for output in ["markdown", "json"] {
        let started = std::time::Instant::now();
        let out = with_output(command(None, &kubeconfig, &args), output)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
        assert!(
            stderr.contains("--live: diffing the head against live AWS and the cluster")
                && stderr.contains("Kubernetes"),
            "{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
        // No half report a CI job could post as the comment.
        assert!(stdout.is_empty(), "{stdout}");
        assert!(started.elapsed() < std::time::Duration::from_secs(60));
    }
    // Without --live the same preview runs offline and says what changes.
    let out = with_output(command(None, &kubeconfig, &args[..6]), "markdown")
        .output()
        .unwrap();
    let md = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{md}");
    assert!(
        md.contains("### eksync preview") && !md.contains(LIVE_TITLE),
        "{md}"
    );
}
