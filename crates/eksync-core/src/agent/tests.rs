use super::*;
use crate::diag::{Diagnostic, Location};

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn rev(commit: &str) -> Option<Revision> {
    Some(Revision {
        commit: commit.to_string(),
        reference: "main".into(),
        subject: "a change".into(),
        origin: "git://127.0.0.1/repo".into(),
    })
}

fn cond<'a>(s: &'a SyncStatus, t: &str) -> (&'a str, &'a str) {
    let c = s.condition(t).unwrap();
    (c.status.as_str(), c.reason.as_str())
}

fn applied(commit: &str) -> RunResult {
    RunResult::Reconciled {
        revision: rev(commit),
        counts: Counts {
            resources: 5,
            drifted: 1,
            failed: 0,
        },
        error: None,
        cancelled: false,
    }
}

#[test]
fn a_good_run_is_ready_and_records_the_applied_revision() {
    let s = reconciling(&SyncStatus::default(), "startup", t("2026-11-30T10:00:00Z"));
    assert_eq!(cond(&s, RECONCILING), ("True", "Progressing"));
    assert_eq!(cond(&s, READY), ("False", "Progressing"));
    let s = after_run(&s, &applied("aaaaaaaaaaaaaaaa"), t("2026-11-30T10:00:05Z"));
    assert_eq!(cond(&s, READY), ("True", "Reconciled"));
    assert_eq!(cond(&s, RECONCILING), ("False", "Idle"));
    assert_eq!(cond(&s, STALLED).0, "False");
    assert_eq!(
        s.last_applied_revision.as_ref().unwrap().commit,
        "aaaaaaaaaaaaaaaa"
    );
    assert_eq!((s.resources, s.drifted, s.failed), (5, 1, 0));
    assert_eq!(s.last_error, None);
    let types: Vec<&str> = s.conditions.iter().map(|c| c.type_.as_str()).collect();
    assert_eq!(types, [READY, RECONCILING, STALLED]);
}

#[test]
fn a_bad_revision_keeps_the_last_good_one_and_names_file_and_line() {
    let s = after_run(
        &SyncStatus::default(),
        &applied("aaaaaaaaaaaaaaaa"),
        t("2026-11-30T10:00:00Z"),
    );
    let mut d = Diagnostic::error("E-yaml", "mapping values are not allowed here");
    d.location = Some(Location::at("k8s/app.yaml", 0, 7, 3));
    let bad = RunResult::Invalid {
        revision: rev("bbbbbbbbbbbbbbbb"),
        diagnostics: vec![d, Diagnostic::warning("W-x", "only a warning")],
    };
    let s = after_run(&s, &bad, t("2026-11-30T10:01:00Z"));
    assert_eq!(cond(&s, READY), ("False", "InvalidRevision"));
    assert_eq!(cond(&s, STALLED), ("True", "InvalidRevision"));
    assert_eq!(
        s.last_applied_revision.as_ref().unwrap().commit,
        "aaaaaaaaaaaaaaaa"
    );
    assert_eq!(
        s.last_attempted_revision.as_ref().unwrap().commit,
        "bbbbbbbbbbbbbbbb"
    );
    assert_eq!(
        s.diagnostics,
        ["k8s/app.yaml:7:3 (document 1): E-yaml mapping values are not allowed here"]
    );
    assert!(s
        .last_error
        .as_ref()
        .unwrap()
        .contains("aaaaaaaaaaaa stays applied"));
    // A fixed commit clears it.
    let s = after_run(&s, &applied("cccccccccccccccc"), t("2026-11-30T10:02:00Z"));
    assert_eq!(cond(&s, READY), ("True", "Reconciled"));
    assert_eq!(cond(&s, STALLED).0, "False");
    assert!(s.diagnostics.is_empty());
}

#[test]
fn transition_times_change_only_with_the_status() {
    let s = after_run(
        &SyncStatus::default(),
        &applied("a1"),
        t("2026-11-30T10:00:00Z"),
    );
    let first = s.condition(READY).unwrap().last_transition_time.clone();
    let s = after_run(&s, &applied("a2"), t("2026-11-30T11:00:00Z"));
    assert_eq!(s.condition(READY).unwrap().last_transition_time, first);
    let s = after_run(
        &s,
        &RunResult::FetchFailed {
            message: "connection refused".into(),
        },
        t("2026-11-30T12:00:00Z"),
    );
    assert_eq!(cond(&s, READY), ("False", "FetchFailed"));
    assert_eq!(cond(&s, STALLED), ("False", "Retrying"));
    assert_ne!(s.condition(READY).unwrap().last_transition_time, first);
    assert_eq!(s.last_applied_revision.as_ref().unwrap().commit, "a2");
}

#[test]
fn failures_and_cancels_are_not_ready_and_keep_the_last_applied_revision() {
    let s = after_run(
        &SyncStatus::default(),
        &applied("a1"),
        t("2026-11-30T10:00:00Z"),
    );
    for (run, reason) in [
        (
            RunResult::Reconciled {
                revision: rev("a2"),
                counts: Counts {
                    resources: 5,
                    drifted: 2,
                    failed: 1,
                },
                error: Some("Deployment jenkins/jenkins: not ready".into()),
                cancelled: false,
            },
            "ReconcileFailed",
        ),
        (
            RunResult::Reconciled {
                revision: rev("a2"),
                counts: Counts::default(),
                error: None,
                cancelled: true,
            },
            "Cancelled",
        ),
        (RunResult::Suspended, "Suspended"),
    ] {
        let s2 = after_run(&s, &run, t("2026-11-30T10:05:00Z"));
        assert_eq!(cond(&s2, READY), ("False", reason));
        assert_eq!(s2.last_applied_revision.as_ref().unwrap().commit, "a1");
    }
}

#[test]
fn backoff_doubles_up_to_its_ceiling() {
    let (b, m) = (Duration::from_secs(1), Duration::from_secs(60));
    let got: Vec<u64> = (0..9).map(|f| backoff(f, b, m).as_secs()).collect();
    assert_eq!(got, [0, 1, 2, 4, 8, 16, 32, 60, 60]);
    assert_eq!(backoff(u32::MAX, b, m), m);
}

#[test]
fn redeliveries_are_recognized_within_the_window() {
    let mut r = RecentDeliveries::new(2);
    assert!(r.first_time("a"));
    assert!(!r.first_time("a"));
    assert!(r.first_time("b"));
    assert!(r.first_time("c")); // evicts a
    assert!(r.first_time("a"));
    assert!(!r.first_time("c"));
}

#[test]
fn triggers_during_a_run_coalesce_into_one_follow_up() {
    let mut p = Pending::default();
    assert_eq!(p.take(), None);
    for _ in 0..20 {
        p.add(Trigger::Webhook);
    }
    p.add(Trigger::Poll);
    assert_eq!(p.take().as_deref(), Some("poll, webhook x20"));
    assert_eq!(p.take(), None);
}

fn cor(id: &str, by: &str) -> Correction {
    Correction {
        id: id.into(),
        label: format!("ConfigMap shop/{id}"),
        by: vec![by.into()],
    }
}

#[test]
fn a_tug_of_war_is_held_after_three_rounds_and_the_hold_doubles() {
    let mut t = TugOfWar::default();
    let at = |m: i64| {
        t0().checked_add(jiff::SignedDuration::from_mins(m))
            .unwrap()
    };
    assert!(t.observe(false, &[cor("a", "rival")], at(0)).is_empty());
    assert!(t.observe(false, &[cor("a", "rival")], at(1)).is_empty());
    let held = t.observe(false, &[cor("a", "rival")], at(2));
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].until, at(7));
    assert!(held[0]
        .message()
        .contains("changed back by rival after each of 3 corrections"));
    assert_eq!(t.held(at(3)).len(), 1);
    // The hold runs out: a new contest; the next hold lasts twice as long.
    assert!(t.held(at(8)).is_empty());
    for m in [9, 10] {
        assert!(t.observe(false, &[cor("a", "rival")], at(m)).is_empty());
    }
    let held = t.observe(false, &[cor("a", "rival")], at(11));
    assert_eq!(held[0].until, at(21));
}

#[test]
fn a_git_change_or_a_quiet_window_ends_the_contest() {
    let mut t = TugOfWar::default();
    let at = |m: i64| {
        t0().checked_add(jiff::SignedDuration::from_mins(m))
            .unwrap()
    };
    t.observe(false, &[cor("a", "rival")], at(0));
    t.observe(false, &[cor("a", "rival")], at(1));
    t.observe(true, &[], at(2));
    assert!(t.observe(false, &[cor("a", "rival")], at(3)).is_empty());
    assert!(t.observe(false, &[cor("a", "rival")], at(4)).is_empty());
    // 40 minutes of quiet: it starts over.
    assert!(t.observe(false, &[], at(44)).is_empty());
    assert!(t.observe(false, &[cor("a", "rival")], at(45)).is_empty());
    assert!(t.observe(false, &[cor("b", "hpa")], at(46)).is_empty());
}

fn t0() -> Timestamp {
    t("2026-11-30T10:00:00Z")
}
