//! Bad input, end to end: every repo under `tests/bad-repos/` holds one mistake. For each, the real
//! binary must exit 1 without panicking, `validate -o json` must report the expected diagnostic
//! (code, file, line, column where it matters, message text), and `plan` must print `file:line` on
//! stderr and plan nothing. Any other error fails the case unless the table lists its code, so
//! each repo stays broken in exactly one way. The valid `examples-repo` must load without errors.
//!
//! Cases that need something git should not hold (a non-UTF-8 file, a symbolic link leaving the
//! repo) copy their directory into a temporary one and make that file first.

use assert_cmd::Command;
use serde_json::Value;
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// One broken repo and the diagnostic it must produce.
struct Case {
    /// Directory under `tests/bad-repos/`.
    dir: &'static str,
    code: &'static str,
    /// Repo-relative file the diagnostic names.
    file: &'static str,
    /// `None` only for files that were not read at all, which have no lines.
    line: Option<usize>,
    column: Option<usize>,
    /// Every one of these must appear in the message.
    message: &'static [&'static str],
    /// The file and line a `related` note must name (the other half of a duplicate).
    related: Option<(&'static str, usize)>,
    /// Extra command-line arguments for both commands.
    args: &'static [&'static str],
    /// Makes the files git should not hold, in a temporary copy of the directory.
    prepare: Option<fn(&Path, &Path)>,
    /// Text that must never be printed (secret values).
    never_printed: &'static [&'static str],
    /// Text the diagnostic's help must contain.
    help: Option<&'static str>,
    /// Codes of further errors the same mistake causes; any other error fails the case, so that
    /// each repo holds exactly one mistake.
    other_errors: &'static [&'static str],
    /// Further errors in the same file that must be reported too, as `(code, line, column,
    /// message)`: for repos whose mistake is made more than once, or that hold several problems of
    /// one ClusterConfig (every problem is reported in one run).
    also: &'static [Also],
}

/// One further expected error: code, line, column, words of the message.
type Also = (&'static str, usize, usize, &'static str);

const fn case(
    dir: &'static str,
    code: &'static str,
    file: &'static str,
    line: usize,
    column: usize,
    message: &'static [&'static str],
) -> Case {
    Case {
        dir,
        code,
        file,
        line: Some(line),
        column: Some(column),
        message,
        related: None,
        args: &[],
        prepare: None,
        never_printed: &[],
        help: None,
        other_errors: &[],
        also: &[],
    }
}

impl Case {
    /// For diagnostics that name a line but whose column is not meaningful.
    const fn any_column(mut self) -> Case {
        self.column = None;
        self
    }

    /// For files that were never read: there is no line to name.
    const fn file_level(mut self) -> Case {
        self.line = None;
        self.column = None;
        self
    }

    const fn related(mut self, file: &'static str, line: usize) -> Case {
        self.related = Some((file, line));
        self
    }

    const fn args(mut self, args: &'static [&'static str]) -> Case {
        self.args = args;
        self
    }

    const fn prepare(mut self, f: fn(&Path, &Path)) -> Case {
        self.prepare = Some(f);
        self
    }

    const fn never_printed(mut self, s: &'static [&'static str]) -> Case {
        self.never_printed = s;
        self
    }

    const fn help(mut self, help: &'static str) -> Case {
        self.help = Some(help);
        self
    }

    const fn also(mut self, also: &'static [Also]) -> Case {
        self.also = also;
        self
    }
}

const CL: &str = "cluster/cluster.yaml";
const POLICY: &str = "aws/asg-policy-for-worker.yaml";

fn cases() -> Vec<Case> {
    vec![
        // YAML and JSON syntax, and documents that are not objects.
        case(
            "yaml-bad-indentation",
            "E-yaml",
            "k8s/namespace.yaml",
            5,
            10,
            &["mapping values are not allowed"],
        ),
        case(
            "yaml-unclosed-flow",
            "E-yaml",
            "k8s/pvc.yaml",
            8,
            3,
            &["invalid YAML"],
        ),
        case(
            "yaml-tab-indentation",
            "E-yaml",
            "k8s/namespace.yaml",
            4,
            2,
            &["tabs"],
        ),
        case(
            "yaml-duplicate-key",
            "E-yaml",
            "k8s/deployment.yaml",
            10,
            3,
            &["duplicate key `replicas`"],
        ),
        case(
            "json-syntax-error",
            "E-yaml",
            "k8s/configmap.json",
            10,
            5,
            &["invalid JSON", "did not find expected ','"],
        ),
        case(
            "document-is-a-list",
            "E-document",
            "k8s/objects.yaml",
            1,
            1,
            &["must be a mapping"],
        ),
        case(
            "document-second-is-scalar",
            "E-document",
            "k8s/objects.yaml",
            6,
            1,
            &["must be a mapping"],
        ),
        case(
            "non-utf8-file",
            "E-encoding",
            "k8s/configmap.yaml",
            7,
            16,
            &["not valid UTF-8"],
        )
        .prepare(write_non_utf8),
        case(
            "file-too-large",
            "E-file",
            "k8s/deployment.yaml",
            0,
            0,
            &["391 bytes, over the 100-byte limit (--max-file-size)"],
        )
        .file_level()
        .args(&["--max-file-size", "100"])
        .help("--max-file-size 391"),
        case(
            "symlink-outside-repo",
            "E-file",
            "k8s/shared.yaml",
            0,
            0,
            &["points outside the repo"],
        )
        .file_level()
        .prepare(link_outside),
        // eksctl ClusterConfig: strict schema.
        case(
            "eksctl-unknown-top-field",
            "E-unknown-field",
            CL,
            7,
            1,
            &["unknown field `nodeGroup`"],
        ),
        case(
            "eksctl-unknown-nodegroup-field",
            "E-unknown-field",
            CL,
            9,
            5,
            &["unknown field `instanceTyp`"],
        ),
        // Two typos, at different depths (one inside `vpc.nat`), are two errors in one run.
        case(
            "eksctl-two-unknown-fields",
            "E-unknown-field",
            CL,
            9,
            5,
            &["unknown field `instanceTyp`"],
        )
        .also(&[("E-unknown-field", 16, 5, "unknown field `gatway`")]),
        // Every problem of one ClusterConfig, of every kind and depth, in one run.
        case(
            "eksctl-every-problem-reported",
            "E-unknown-field",
            CL,
            13,
            7,
            &["unknown field `wellKnownPolicy`", "iam.serviceAccounts[0]"],
        )
        .also(&[
            ("E-size", 18, 5, "desiredCapacity (5) must be between"),
            ("E-label", 22, 7, "invalid node label key `bad label`"),
            (
                "E-unknown-field",
                25,
                5,
                "unknown field `instanceTyp` in `managedNodeGroups[0]`",
            ),
        ]),
        // Access entries: eksctl's checks, each at its field, both reported.
        case(
            "eksctl-access-entries-invalid",
            "E-arn",
            CL,
            10,
            7,
            &["`not-an-arn` is not a valid ARN"],
        )
        .also(&[(
            "E-access",
            16,
            13,
            "namespaces cannot be listed when accessScope.type is cluster",
        )]),
        // IRSA: each service account without the OIDC provider is its own error.
        case(
            "eksctl-irsa-without-oidc",
            "E-render",
            CL,
            9,
            7,
            &["an IRSA service account needs iam.withOIDC: true"],
        )
        .also(&[(
            "E-render",
            14,
            7,
            "an IRSA service account needs iam.withOIDC",
        )]),
        case(
            "eksctl-irsa-duplicate-service-account",
            "E-duplicate",
            CL,
            16,
            9,
            &["service account kube-system/cluster-autoscaler is listed twice"],
        )
        .related(CL, 11),
        case(
            "eksctl-unknown-distribution-field",
            "E-unknown-field",
            CL,
            23,
            7,
            &["unknown field `spotAllocationStrategey`"],
        ),
        case(
            "eksctl-minsize-string",
            "E-invalid-field",
            CL,
            11,
            5,
            &["invalid type: string \"one\""],
        ),
        case(
            "eksctl-version-float",
            "E-invalid-field",
            CL,
            6,
            3,
            &["floating point `1.3`, expected a string"],
        )
        .help("put it in quotes"),
        case(
            "eksctl-wrong-api-version",
            "E-eksctl-kind",
            CL,
            1,
            1,
            &["eksctl.io/v1alpha4", "eksctl.io/v1alpha5"],
        ),
        // eksctl ClusterConfig: the checks eksctl makes.
        case(
            "eksctl-min-greater-than-max",
            "E-size",
            CL,
            16,
            5,
            &["minSize (6) is greater than maxSize (5)"],
        ),
        case(
            "eksctl-desired-outside-range",
            "E-size",
            CL,
            18,
            5,
            &["desiredCapacity (7) must be between minSize (0) and maxSize (5)"],
        ),
        case(
            "eksctl-negative-size",
            "E-size",
            CL,
            16,
            5,
            &["minSize must not be negative (got -1)"],
        ),
        case(
            "eksctl-bad-label-key",
            "E-label",
            CL,
            14,
            7,
            &["key `Life Cycle`"],
        ),
        case(
            "eksctl-bad-label-value",
            "E-label",
            CL,
            25,
            7,
            &["value `Ec2 Spot`"],
        ),
        case(
            "eksctl-bad-taint-effect",
            "E-taint",
            CL,
            29,
            9,
            &["effect `NoSchedulePlease`", "NoSchedule, PreferNoSchedule, NoExecute"],
        ),
        case(
            "eksctl-duplicate-taint",
            "E-taint",
            CL,
            30,
            9,
            &["taint `spotInstance:PreferNoSchedule` is given twice"],
        ),
        case(
            "eksctl-spot-with-instance-type",
            "E-spot",
            CL,
            16,
            5,
            &["instanceType `m5.large` conflicts with instancesDistribution"],
        ),
        case(
            "eksctl-spot-percentage-out-of-range",
            "E-spot",
            CL,
            22,
            7,
            &["between 0 and 100 (got 150)"],
        ),
        case(
            "eksctl-unknown-spot-strategy",
            "E-spot",
            CL,
            23,
            7,
            &["unknown spotAllocationStrategy `cheapest`"],
        ),
        case(
            "eksctl-spot-pools-capacity-optimized",
            "E-spot",
            CL,
            24,
            7,
            &["spotInstancePools only applies to spotAllocationStrategy lowest-price"],
        ),
        case(
            "eksctl-managed-instance-type-and-types",
            "E-spot",
            CL,
            42,
            5,
            &["either instanceType or instanceTypes, not both"],
        ),
        case(
            "eksctl-duplicate-nodegroup",
            "E-duplicate",
            CL,
            15,
            5,
            &["node group `ng-test-jenkins` is defined twice"],
        )
        .related(CL, 8),
        case(
            "eksctl-bad-cluster-name",
            "E-name",
            CL,
            4,
            3,
            &["invalid cluster name: `eks_test_jenkins`"],
        ),
        case(
            "eksctl-bad-region",
            "E-region",
            CL,
            5,
            3,
            &["`uswest2` is not an AWS region name"],
        ),
        case(
            "duplicate-cluster",
            "E-duplicate",
            CL,
            4,
            3,
            &["cluster `eks-test-jenkins` is defined twice"],
        )
        .related("cluster/cluster-copy.yaml", 4),
        case(
            "clusters-without-mapping",
            "E-cluster",
            "k8s/namespace.yaml",
            1,
            1,
            &["several clusters", "spec.clusters"],
        ),
        // Kubernetes objects.
        case(
            "k8s-duplicate-object",
            "E-duplicate",
            "k8s/b/namespace.yaml",
            5,
            3,
            &["Namespace jenkins is defined twice"],
        )
        .related("k8s/a/namespace.yaml", 4),
        case(
            "k8s-missing-name",
            "E-missing-field",
            "k8s/configmap.yaml",
            3,
            1,
            &["missing metadata.name"],
        ),
        case(
            "k8s-missing-metadata",
            "E-missing-field",
            "k8s/configmap.yaml",
            1,
            1,
            &["missing metadata.name"],
        ),
        case(
            "k8s-generate-name",
            "E-name",
            "k8s/job.yaml",
            4,
            3,
            &["generateName", "fixed metadata.name"],
        ),
        case(
            "k8s-bad-object-name",
            "E-name",
            "k8s/configmap.yaml",
            4,
            3,
            &["invalid ConfigMap name: `Jenkins_Config`"],
        ),
        case(
            "k8s-removed-api-version",
            "E-api-version",
            "k8s/deployment.yaml",
            1,
            1,
            &["Deployment is not served as `extensions/v1beta1`; use apps/v1"],
        ),
        case(
            "k8s-cluster-scoped-with-namespace",
            "E-namespace",
            "k8s/namespace.yaml",
            5,
            3,
            &["Namespace is cluster-scoped"],
        ),
        case(
            "k8s-invalid-namespace",
            "E-namespace",
            "k8s/deployment.yaml",
            5,
            3,
            &["invalid namespace: `Jenkins_CI`"],
        ),
        case(
            "k8s-bad-object-label",
            "E-label",
            "k8s/namespace.yaml",
            6,
            5,
            &["value `platform team`"],
        ),
        case(
            "k8s-selector-mismatch",
            "E-selector",
            "k8s/deployment.yaml",
            11,
            5,
            &["spec.selector does not match spec.template.metadata.labels"],
        ),
        case(
            "k8s-secret-not-base64",
            "E-secret",
            "k8s/secret.yaml",
            9,
            3,
            &["Secret data `password` is not valid base64"],
        )
        .never_printed(&["hunter2-s3cr3t!"]),
        // Value references, scheduling and ordering.
        case(
            "ref-malformed",
            "E-ref",
            "k8s/configmap.yaml",
            7,
            3,
            &["unknown reference"],
        ),
        case(
            "ref-unknown-nodegroup",
            "E-ref",
            "k8s/configmap.yaml",
            8,
            3,
            &["node group `ng-jenkins-spot`", "ng-test-jenkins, ng-test-jenkins-spot"],
        ),
        case(
            "schedule-no-matching-labels",
            "E-schedule",
            "k8s/deployment.yaml",
            18,
            7,
            &["no node group", "pods select on-demand"],
        ),
        case(
            "schedule-untolerated-taint",
            "E-schedule",
            "k8s/deployment.yaml",
            18,
            7,
            &["taint spotInstance=true:NoSchedule is not tolerated"],
        ),
        case(
            "depends-on-cycle",
            "E-cycle",
            "k8s/configmaps.yaml",
            1,
            0,
            &[
                "dependency cycle",
                "ConfigMap default/first -> ConfigMap default/second (eksync.io/depends-on names ConfigMap/first)",
                "ConfigMap default/second -> ConfigMap default/first (eksync.io/depends-on names ConfigMap/second)",
            ],
        )
        .any_column(),
        case(
            "depends-on-missing",
            "E-depends-on",
            "k8s/configmap.yaml",
            7,
            5,
            &["names `Secret/db-password`, which is not in the repo"],
        ),
        case(
            "depends-on-self",
            "E-depends-on",
            "k8s/configmap.yaml",
            7,
            5,
            &["ConfigMap/first", "itself"],
        ),
        // eksync's own kinds.
        case(
            "policy-document-and-file",
            "E-policy",
            POLICY,
            5,
            1,
            &["exactly one of spec.policyDocument and spec.policyDocumentFile"],
        ),
        case(
            "policy-document-missing",
            "E-policy",
            POLICY,
            5,
            1,
            &["exactly one of spec.policyDocument and spec.policyDocumentFile"],
        ),
        case(
            "policy-file-missing",
            "E-policy",
            POLICY,
            7,
            3,
            &["`policies/asg-policy.json`", "does not exist"],
        ),
        case(
            "policy-file-escapes-repo",
            "E-policy",
            POLICY,
            7,
            3,
            &["points outside the repo"],
        ),
        case(
            "policy-bad-effect",
            "E-policy",
            "aws/policies/asg-policy-for-worker.json",
            5,
            7,
            &["Effect must be Allow or Deny (got Permit)"],
        ),
        case(
            "policy-bad-name",
            "E-name",
            POLICY,
            4,
            3,
            &["`ASG Policy For Worker` is not a valid IAM policy name"],
        ),
        case(
            "eksync-unknown-kind",
            "E-eksync-kind",
            "aws/policy.yaml",
            2,
            1,
            &["unknown eksync kind `IAMPolicy`"],
        ),
        case(
            "eksync-unknown-field",
            "E-unknown-field",
            POLICY,
            6,
            3,
            &["IAMRolePolicy: unknown field `role`"],
        ),
        // eksync.yaml.
        case(
            "settings-unknown-field",
            "E-unknown-field",
            "eksync.yaml",
            10,
            3,
            &["Settings: unknown field `excludes`"],
        ),
        case(
            "settings-bad-default-namespace",
            "E-settings",
            "eksync.yaml",
            6,
            3,
            &["invalid default namespace: `Default_NS`"],
        ),
        case(
            "settings-bad-glob",
            "E-settings",
            "eksync.yaml",
            10,
            13,
            &["invalid path pattern `aws/policies/[**`"],
        ),
        case(
            "settings-unknown-cluster",
            "E-settings",
            "eksync.yaml",
            14,
            7,
            &["cluster `eks-prod`, which no ClusterConfig defines"],
        ),
        // More of each kind.
        case(
            "yaml-alias-bomb",
            "E-yaml",
            "k8s/configmap.yaml",
            13,
            38,
            &["excessive aliasing"],
        ),
        case(
            "yaml-too-deep",
            "E-yaml",
            "k8s/configmap.yaml",
            7,
            266,
            &["nest more than 100 levels deep"],
        ),
        case(
            "yaml-unclosed-quote",
            "E-yaml",
            "k8s/configmap.yaml",
            7,
            13,
            &["quoted scalar"],
        ),
        case(
            "yaml-unknown-alias",
            "E-yaml",
            "k8s/configmap.yaml",
            7,
            6,
            &["unknown anchor"],
        ),
        case(
            "yaml-bad-tag",
            "E-yaml",
            "k8s/configmap.yaml",
            6,
            19,
            &["`maybe` is not a boolean but is tagged !!bool"],
        ),
        case(
            "k8s-list-item-not-mapping",
            "E-document",
            "k8s/list.yaml",
            8,
            5,
            &["must be a mapping"],
        ),
        case(
            "k8s-crd-unserved-version",
            "E-api-version",
            "k8s/crd.yaml",
            19,
            1,
            &["CRD for Backup.example.com serves v1, not `v2`"],
        ),
        case(
            "k8s-deployment-without-selector",
            "E-selector",
            "k8s/deployment.yaml",
            8,
            1,
            &["Deployment needs spec.selector"],
        ),
        case(
            "k8s-label-value-not-string",
            "E-label",
            "k8s/namespace.yaml",
            6,
            5,
            &["must be strings; quote `2`"],
        ),
        case(
            "k8s-missing-kind",
            "E-missing-field",
            "k8s/namespace.yaml",
            1,
            1,
            &["missing kind"],
        ),
        case(
            "ref-without-cluster",
            "E-ref",
            "k8s/configmap.yaml",
            7,
            3,
            &["{{aws:region}} needs a ClusterConfig"],
        ),
        case(
            "depends-on-unreadable",
            "E-depends-on",
            "k8s/configmap.yaml",
            7,
            5,
            &["cannot read `ConfigMap`"],
        ),
        case(
            "policy-unknown-cluster",
            "E-ref",
            POLICY,
            6,
            3,
            &["names cluster `eks-prod`, which the repo does not define"],
        ),
        case(
            "policy-inline-missing-version",
            "E-policy",
            POLICY,
            7,
            3,
            &["policy Version must be \"2012-10-17\""],
        ),
        case(
            "policy-file-json-error",
            "E-yaml",
            "aws/policies/asg-policy-for-worker.json",
            6,
            7,
            &["invalid JSON", "did not find expected ','"],
        ),
        case(
            "settings-kind-outside-root",
            "E-settings",
            "config/eksync.yaml",
            3,
            1,
            &["Settings belong in eksync.yaml at the repo root"],
        ),
        case(
            "settings-two-documents",
            "E-settings",
            "eksync.yaml",
            12,
            1,
            &["must hold a single document"],
        ),
        case(
            "eksctl-missing-region",
            "E-missing-field",
            CL,
            3,
            1,
            &["missing field `region`"],
        ),
        case(
            "eksctl-nodegroups-not-a-list",
            "E-invalid-field",
            CL,
            7,
            1,
            &["invalid type: map, expected a sequence"],
        ),
        case(
            "eksctl-volume-size-zero",
            "E-size",
            CL,
            10,
            5,
            &["volumeSize must be positive (got 0)"],
        ),
        case(
            "eksctl-spot-pools-out-of-range",
            "E-spot",
            CL,
            24,
            7,
            &["between 1 and 20 (got 25)"],
        ),
        case(
            "eksctl-empty-instance-types",
            "E-spot",
            CL,
            20,
            7,
            &["needs at least one entry in instanceTypes"],
        ),
        case(
            "eksctl-duplicate-instance-type",
            "E-spot",
            CL,
            20,
            48,
            &["instance type `m5.large` is listed twice"],
        ),
        case(
            "eksctl-bad-nodegroup-name",
            "E-name",
            CL,
            15,
            5,
            &["invalid node group name: `ng_test_jenkins_spot`"],
        ),
        case(
            "eksctl-version-not-kubernetes",
            "E-version",
            CL,
            6,
            3,
            &["`2.0` is not a Kubernetes version"],
        ),
        case(
            "eksctl-bad-taint-key",
            "E-taint",
            CL,
            27,
            9,
            &["invalid taint key `spot instance`"],
        ),
        case(
            "eksctl-negative-max-price",
            "E-spot",
            CL,
            22,
            7,
            &["must be positive (got -0.5)"],
        ),
        case(
            "policy-duplicate-name",
            "E-duplicate",
            POLICY,
            4,
            3,
            &["IAMRolePolicy ASG-Policy-For-Worker is defined twice"],
        )
        .related("aws/asg-policy-copy.yaml", 5),
        case(
            "k8s-list-items-not-a-list",
            "E-document",
            "k8s/list.yaml",
            3,
            1,
            &["`kind: List` needs `items`, a list of objects"],
        ),
        case(
            "k8s-list-item-unschedulable",
            "E-schedule",
            "k8s/list.yaml",
            24,
            11,
            &["no node group", "pods select on-demand"],
        ),
        case(
            "k8s-list-duplicate-object",
            "E-duplicate",
            "k8s/list.yaml",
            11,
            7,
            &["Namespace jenkins is defined twice"],
        )
        .related("k8s/list.yaml", 7),
        case(
            "k8s-name-not-a-string",
            "E-invalid-field",
            "k8s/configmap.yaml",
            5,
            3,
            &["metadata.name must be a string, not `2024`; put it in quotes"],
        ),
        case(
            "settings-two-files",
            "E-settings",
            "eksync.yml",
            1,
            1,
            &["both eksync.yaml and eksync.yml exist"],
        ),
        // Input that crashed eksync or was silently cut short (issue 12).
        case(
            "yaml-nul-drops-documents",
            "E-yaml",
            "k8s/configmaps.yaml",
            6,
            18,
            &["control character U+0000 (NUL) is not allowed"],
        )
        .prepare(write_nul_unquoted),
        case(
            "yaml-nul-in-quoted-value",
            "E-yaml",
            "k8s/configmaps.yaml",
            6,
            19,
            &["control character U+0000 (NUL) is not allowed"],
        )
        .prepare(write_nul_quoted),
        case(
            "yaml-control-character",
            "E-yaml",
            "k8s/configmap.yaml",
            7,
            9,
            &["control character U+001B (ESC) is not allowed"],
        )
        .prepare(write_escape_sequence),
        case(
            "yaml-del-outside-quotes",
            "E-yaml",
            "k8s/configmap.yaml",
            8,
            13,
            &["U+007F (DEL) is not allowed outside a quoted string"],
        )
        .prepare(write_del),
        case(
            "json-control-character-in-string",
            "E-yaml",
            "k8s/configmap.json",
            5,
            26,
            &["invalid JSON: control character U+0009 (tab) inside a string must be escaped"],
        )
        .prepare(write_json_tab),
        case(
            "yaml-deep-block-sequence",
            "E-yaml",
            "k8s/deep.yaml",
            1,
            201,
            &["nest more than 100 levels deep"],
        )
        .prepare(write_deep_sequence),
        case(
            "yaml-deep-block-mapping",
            "E-yaml",
            "k8s/deep.yaml",
            101,
            0,
            &["nest more than 100 levels deep"],
        )
        .any_column()
        .prepare(write_deep_mapping),
        case(
            "fifo-named-yaml",
            "E-file",
            "k8s/pipe.yaml",
            0,
            0,
            &["a named pipe (FIFO), not a regular file; it was not read"],
        )
        .file_level()
        .help("spec.exclude")
        .prepare(make_fifo),
        case(
            "k8s-typed-list-wrong-kind",
            "E-document",
            "k8s/list.yaml",
            9,
            5,
            &["`ConfigMapList` holds ConfigMap objects, but this item is `Secret`"],
        ),
        Case {
            // Chart.yaml and values.yaml both fail; each is told to leave the chart out.
            other_errors: &["E-missing-field"],
            ..case(
                "helm-chart-in-repo",
                "E-missing-field",
                "charts/web/Chart.yaml",
                1,
                1,
                &["not a Kubernetes object: missing kind, metadata.name"],
            )
            .help("add \"charts/web/**\" to `spec.exclude` in eksync.yaml")
        },
    ]
}

/// A ConfigMap, then `extra` as its sixth line, then two more documents that the old reader
/// dropped without a word when `extra` held a NUL.
fn write_configmaps(repo: &Path, extra: &[u8]) {
    let mut bytes = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: first\ndata:\n".to_vec();
    bytes.extend_from_slice(extra);
    bytes.extend_from_slice(
        b"\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: second\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: third\n",
    );
    fs::write(repo.join("k8s/configmaps.yaml"), bytes).expect("write configmaps");
}

fn write_nul_unquoted(repo: &Path, _outside: &Path) {
    write_configmaps(repo, b"  greeting: hello\0world");
}

fn write_nul_quoted(repo: &Path, _outside: &Path) {
    write_configmaps(repo, b"  greeting: \"hello\0world\"");
}

/// A ConfigMap whose data (`  <key>: <value>` lines) starts on the seventh line.
fn write_configmap_value(repo: &Path, line: &[u8]) {
    let mut bytes =
        b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: motd\n  namespace: default\ndata:\n"
            .to_vec();
    bytes.extend_from_slice(line);
    bytes.push(b'\n');
    fs::write(repo.join("k8s/configmap.yaml"), bytes).expect("write configmap");
}

/// A terminal colour code pasted into a value.
fn write_escape_sequence(repo: &Path, _outside: &Path) {
    write_configmap_value(repo, b"  motd: \x1b[1mwelcome\x1b[0m");
}

/// DEL may stand only inside quotes (where YAML keeps JSON's character set): line 7 is fine,
/// line 8 is not.
fn write_del(repo: &Path, _outside: &Path) {
    write_configmap_value(repo, b"  quoted: \"ok \x7f\"\n  plain: ok \x7f");
}

/// A raw tab inside a JSON string (RFC 8259 wants `\t`).
fn write_json_tab(repo: &Path, _outside: &Path) {
    fs::write(
        repo.join("k8s/configmap.json"),
        "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"ConfigMap\",\n  \"metadata\": {\"name\": \"tabs\", \"namespace\": \"default\"},\n  \"data\": {\"motd\": \"hello\tworld\"}\n}\n",
    )
    .expect("write JSON");
}

/// 4,000 nested block sequences in 8 KB: the old reader overflowed its stack (exit 134).
fn write_deep_sequence(repo: &Path, _outside: &Path) {
    fs::write(
        repo.join("k8s/deep.yaml"),
        format!("{}1\n", "- ".repeat(4_000)),
    )
    .expect("write deep sequence");
}

/// 2,800 nested block mappings in 3.9 MB, under the default size limit: the old reader
/// overflowed its stack (exit 134).
fn write_deep_mapping(repo: &Path, _outside: &Path) {
    let mut text = String::new();
    for i in 0..2_800 {
        text.push_str(&" ".repeat(i));
        text.push_str(&format!("k{i}:\n"));
    }
    text.push_str(&" ".repeat(2_800));
    text.push_str("v\n");
    assert!(text.len() < 4 * 1024 * 1024, "{} bytes", text.len());
    fs::write(repo.join("k8s/deep.yaml"), text).expect("write deep mapping");
}

/// A named pipe called `k8s/pipe.yaml`, with no writer: opening it would block forever.
fn make_fifo(repo: &Path, _outside: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(repo.join("k8s/pipe.yaml"))
        .status()
        .expect("run mkfifo");
    assert!(status.success(), "mkfifo failed");
}

/// A ConfigMap whose seventh line holds a Latin-1 byte (0xE9, "é") after fifteen ASCII characters.
fn write_non_utf8(repo: &Path, _outside: &Path) {
    let mut bytes = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: greeting\n  namespace: default\ndata:\n  greeting: caf"
        .to_vec();
    bytes.push(0xE9);
    bytes.extend_from_slice(b"\n");
    fs::create_dir_all(repo.join("k8s")).expect("k8s dir");
    fs::write(repo.join("k8s/configmap.yaml"), bytes).expect("write non-UTF-8 file");
}

/// `k8s/shared.yaml` links to a valid manifest outside the repo.
fn link_outside(repo: &Path, outside: &Path) {
    let target = outside.join("shared.yaml");
    fs::write(
        &target,
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shared\n",
    )
    .expect("write link target");
    fs::create_dir_all(repo.join("k8s")).expect("k8s dir");
    std::os::unix::fs::symlink(&target, repo.join("k8s/shared.yaml")).expect("make symlink");
}

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad-repos")
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("create copy dir");
    for entry in fs::read_dir(from).expect("read corpus dir") {
        let entry = entry.expect("dir entry");
        let dest = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            fs::copy(entry.path(), &dest).expect("copy corpus file");
        }
    }
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn eksync(args: &[&str], repo: &Path, extra: &[&str]) -> Run {
    let out = Command::cargo_bin("eksync")
        .expect("eksync binary")
        .args(args)
        .arg(repo)
        .args(extra)
        .output()
        .expect("run eksync");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Whether `d` is the diagnostic `c` expects.
fn matches(c: &Case, d: &Value) -> bool {
    let loc = &d["location"];
    let as_usize = |v: &Value| v.as_u64().and_then(|n| usize::try_from(n).ok());
    d["severity"] == "error"
        && d["code"] == c.code
        && loc["file"] == c.file
        && as_usize(&loc["line"]) == c.line
        && c.column
            .is_none_or(|col| as_usize(&loc["column"]) == Some(col))
        && c.message
            .iter()
            .all(|m| d["message"].as_str().is_some_and(|msg| msg.contains(m)))
        && c.help
            .is_none_or(|h| d["help"].as_str().is_some_and(|help| help.contains(h)))
        && c.related.is_none_or(|(file, line)| {
            d["related"].as_array().is_some_and(|r| {
                r.iter().any(|r| {
                    r["location"]["file"] == file && as_usize(&r["location"]["line"]) == Some(line)
                })
            })
        })
}

/// Whether `d` is one of the further diagnostics `c` expects.
fn matches_also(c: &Case, d: &Value) -> bool {
    c.also.iter().any(|a| also_matches(c, d, a))
}

fn also_matches(c: &Case, d: &Value, &(code, line, column, message): &Also) -> bool {
    let loc = &d["location"];
    d["severity"] == "error"
        && d["code"] == code
        && loc["file"] == c.file
        && loc["line"].as_u64() == u64::try_from(line).ok()
        && loc["column"].as_u64() == u64::try_from(column).ok()
        && d["message"].as_str().is_some_and(|m| m.contains(message))
}

/// Runs one case; returns what went wrong, if anything.
fn check(c: &Case) -> Vec<String> {
    let mut problems = Vec::new();
    let source = corpus().join(c.dir);
    if !source.is_dir() {
        return vec![format!("missing directory {}", source.display())];
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let repo = match c.prepare {
        Some(prepare) => {
            let repo = tmp.path().join("repo");
            let outside = tmp.path().join("outside");
            copy_dir(&source, &repo);
            fs::create_dir_all(&outside).expect("outside dir");
            prepare(&repo, &outside);
            repo
        }
        None => source,
    };

    let v = eksync(&["validate", "-o", "json"], &repo, c.args);
    let p = eksync(&["plan"], &repo, c.args);
    for (what, run) in [("validate", &v), ("plan", &p)] {
        if run.code != Some(1) {
            problems.push(format!("{what}: exit code {:?}, want 1", run.code));
        }
        if run.stderr.contains("panicked") {
            problems.push(format!("{what}: panicked:\n{}", run.stderr));
        }
        for secret in c.never_printed {
            if run.stdout.contains(secret) || run.stderr.contains(secret) {
                problems.push(format!("{what}: printed the secret value `{secret}`"));
            }
        }
    }

    match serde_json::from_str::<Value>(&v.stdout) {
        Ok(json) => {
            let diags = json["diagnostics"].as_array().cloned().unwrap_or_default();
            let unexpected: Vec<&Value> = diags
                .iter()
                .filter(|d| d["severity"] == "error" && !matches(c, d) && !matches_also(c, d))
                .filter(|d| !c.other_errors.iter().any(|code| d["code"] == *code))
                .collect();
            if !unexpected.is_empty() {
                problems.push(format!(
                    "validate: errors besides the expected one (is the repo broken twice?):\n{}",
                    serde_json::to_string_pretty(&unexpected).unwrap_or_default()
                ));
            }
            // JSON and text count documents the same way (from 1).
            for d in diags.iter().filter(|d| matches(c, d)) {
                if let Some(doc) = d["location"]["document"].as_u64() {
                    let text = format!("(document {doc})");
                    if doc == 0 || !p.stderr.contains(&text) {
                        problems.push(format!(
                            "validate -o json says document {doc}, plan's text lacks `{text}`:\n{}",
                            p.stderr
                        ));
                    }
                }
            }
            for a @ (code, line, column, message) in c.also {
                if !diags.iter().any(|d| also_matches(c, d, a)) {
                    problems.push(format!(
                        "validate: no further {code} at {}:{line}:{column} with {message:?}",
                        c.file
                    ));
                }
            }
            if !diags.iter().any(|d| matches(c, d)) {
                problems.push(format!(
                    "validate: no {} at {}:{:?}:{:?} with {:?}; got:\n{}",
                    c.code,
                    c.file,
                    c.line,
                    c.column,
                    c.message,
                    serde_json::to_string_pretty(&diags).unwrap_or_default()
                ));
            }
        }
        Err(e) => problems.push(format!("validate: stdout is not JSON ({e}):\n{}", v.stdout)),
    }

    // Human output: the same code, pointing at file:line; and nothing planned.
    let place = match c.line {
        Some(line) => format!("--> {}:{line}", c.file),
        None => format!("--> {}", c.file),
    };
    if !p.stderr.contains(&format!("error[{}]", c.code)) || !p.stderr.contains(&place) {
        problems.push(format!(
            "plan: stderr lacks `error[{}]` and `{place}`:\n{}",
            c.code, p.stderr
        ));
    }
    if let Some((file, line)) = c.related {
        let note = format!("first defined here ({file}:{line}");
        if !p.stderr.contains(&note) {
            problems.push(format!("plan: stderr lacks `{note}`:\n{}", p.stderr));
        }
    }
    if !p.stdout.is_empty() {
        problems.push(format!(
            "plan: printed a plan despite errors:\n{}",
            p.stdout
        ));
    }
    problems
}

#[test]
fn every_bad_repo_gives_a_located_diagnostic_and_exit_code_1() {
    // Each case is two short subprocesses; run them on every core, report them in table order.
    let cases = cases();
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let results: Vec<(usize, Vec<String>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let cases = &cases;
                scope.spawn(move || {
                    (w..cases.len())
                        .step_by(workers)
                        .map(|i| (i, check(&cases[i])))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a case thread panicked"))
            .collect()
    });
    let mut results = results;
    results.sort_by_key(|(i, _)| *i);
    let failures: Vec<String> = results
        .into_iter()
        .filter(|(_, problems)| !problems.is_empty())
        .map(|(i, problems)| format!("{}:\n  {}", cases[i].dir, problems.join("\n  ")))
        .collect();
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn table_and_corpus_agree() {
    let cases = cases();
    let names: BTreeSet<&str> = cases.iter().map(|c| c.dir).collect();
    assert_eq!(names.len(), cases.len(), "a directory is used by two cases");
    assert!(cases.len() >= 40, "only {} cases", cases.len());
    let on_disk: BTreeSet<String> = fs::read_dir(corpus())
        .expect("read corpus")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    let named: BTreeSet<String> = names.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        on_disk, named,
        "every directory under tests/bad-repos has exactly one case"
    );
}

#[test]
fn a_repo_that_is_not_a_directory_is_an_error_naming_it() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = tmp.path().join("repo.yaml");
    fs::write(&file, "apiVersion: v1\n").expect("write file");
    for repo in [tmp.path().join("missing"), file] {
        for args in [&["validate", "-o", "json"][..], &["plan"][..]] {
            let run = eksync(args, &repo, &[]);
            assert_eq!(run.code, Some(1), "{args:?} {}", repo.display());
            assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
            assert!(
                run.stderr.contains(&repo.display().to_string()),
                "{}",
                run.stderr
            );
        }
    }
}

/// The exact message: the repo named once, the system's error once (it used to be repeated).
#[test]
fn a_missing_repo_is_named_once_with_the_system_error_once() {
    let run = eksync(&["validate"], Path::new("/does/not/exist"), &[]);
    assert_eq!(run.code, Some(1));
    assert_eq!(
        run.stderr,
        "error: reading repo /does/not/exist: No such file or directory (os error 2)\n"
    );
    assert_eq!(run.stdout, "");
}

/// kube-rs puts the I/O error in its own message and returns it as the source as well; the
/// printed chain says it once.
#[test]
fn a_missing_kubeconfig_is_reported_without_repeating_the_cause() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let missing = tmp.path().join("no-kubeconfig");
    let missing = missing.to_string_lossy();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples-repo");
    let run = eksync(
        &["diff"],
        &repo,
        &["--no-aws", "--kubeconfig", missing.as_ref()],
    );
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let cause = "No such file or directory (os error 2)";
    assert_eq!(run.stderr.matches(cause).count(), 1, "{}", run.stderr);
    assert!(run.stderr.contains(missing.as_ref()), "{}", run.stderr);
}

#[test]
fn examples_repo_is_valid() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples-repo");
    let v = eksync(&["validate", "-o", "json"], &repo, &[]);
    assert_eq!(v.code, Some(0), "stderr: {}", v.stderr);
    let json: Value = serde_json::from_str(&v.stdout).expect("validate prints JSON");
    let errors: Vec<&Value> = json["diagnostics"]
        .as_array()
        .expect("diagnostics list")
        .iter()
        .filter(|d| d["severity"] == "error")
        .collect();
    assert!(errors.is_empty(), "errors in examples-repo: {errors:#?}");
    let p = eksync(&["plan"], &repo, &[]);
    assert_eq!(p.code, Some(0), "stderr: {}", p.stderr);
    assert!(!p.stdout.is_empty(), "plan printed nothing");
    assert!(!p.stderr.contains("error["), "stderr: {}", p.stderr);
}
