//! Loader tests: bad input gives located diagnostics.

use super::*;

fn source(files: &[(&str, &[u8])]) -> Source {
    Source {
        files: files
            .iter()
            .map(|(path, bytes)| SourceFile {
                path: (*path).to_string(),
                bytes: bytes.to_vec(),
            })
            .collect(),
        skipped: Vec::new(),
    }
}

/// The one error of `code`, as (file, line, column, message).
fn only_error(loaded: &Loaded, code: &str) -> (String, Option<usize>, Option<usize>, String) {
    let errors: Vec<&Diagnostic> = loaded.diagnostics.iter().filter(|d| d.is_error()).collect();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    let d = errors[0];
    assert_eq!(d.code, code, "{d:#?}");
    let loc = d.location.clone().unwrap_or_else(|| Location::file(""));
    (loc.file, loc.line, loc.column, d.message.clone())
}

const CLUSTER: &[u8] = b"apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata:\n  name: one\n  region: us-west-2\n";

#[test]
fn non_utf8_is_located_at_its_first_bad_byte() {
    let loaded = load(&source(&[(
        "cm.yaml",
        // Two spaces, `k: "`, a two-byte `é` and `t` are eight characters; the Latin-1 byte is the ninth.
        b"kind: ConfigMap\ndata:\n  k: \"\xc3\xa9t\xe9\"\n",
    )]));
    let (file, line, column, msg) = only_error(&loaded, "E-encoding");
    assert_eq!((file.as_str(), line, column), ("cm.yaml", Some(3), Some(9)));
    assert!(msg.contains("not valid UTF-8"), "{msg}");
}

#[test]
fn missing_name_points_at_metadata_when_there_is_one() {
    let with_meta = load(&source(&[(
        "cm.yaml",
        b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  namespace: default\n",
    )]));
    let (_, line, column, _) = only_error(&with_meta, "E-missing-field");
    assert_eq!((line, column), (Some(3), Some(1)));
    let without = load(&source(&[(
        "cm.yaml",
        b"# a config map\napiVersion: v1\nkind: ConfigMap\ndata: {}\n",
    )]));
    let (_, line, _, _) = only_error(&without, "E-missing-field");
    assert_eq!(line, Some(2));
}

#[test]
fn bad_settings_patterns_are_located_and_reported_once() {
    let loaded = load(&source(&[(
        "eksync.yaml",
        b"apiVersion: eksync.io/v1alpha1\nkind: Settings\nspec:\n  include: [\"**/*.yaml\"]\n  exclude:\n    - \"ok/**\"\n    - \"bad/[**\"\n",
    )]));
    let (file, line, column, msg) = only_error(&loaded, "E-settings");
    assert_eq!(
        (file.as_str(), line, column),
        ("eksync.yaml", Some(7), Some(7))
    );
    assert!(msg.contains("`bad/[**`"), "{msg}");
}

#[test]
fn a_cluster_mapping_to_an_undefined_cluster_is_located() {
    let loaded = load(&source(&[
        (
            "eksync.yaml",
            b"apiVersion: eksync.io/v1alpha1\nkind: Settings\nspec:\n  clusters:\n    - name: one\n      paths: [\"a/**\"]\n    - name: two\n      paths: [\"b/**\"]\n",
        ),
        ("cluster.yaml", CLUSTER),
    ]));
    let (file, line, column, msg) = only_error(&loaded, "E-settings");
    assert_eq!(
        (file.as_str(), line, column),
        ("eksync.yaml", Some(7), Some(7))
    );
    assert!(msg.contains("`two`"), "{msg}");
}

#[test]
fn json_files_get_json_syntax_errors() {
    let loaded = load(&source(&[(
        "cm.json",
        b"{\n  \"apiVersion\": \"v1\"\n  \"kind\": \"ConfigMap\"\n}\n",
    )]));
    let (file, line, _, msg) = only_error(&loaded, "E-yaml");
    assert_eq!((file.as_str(), line), ("cm.json", Some(3)));
    assert!(msg.starts_with("invalid JSON: "), "{msg}");
}

#[test]
fn an_unquoted_version_is_explained() {
    let loaded = load(&source(&[(
        "cluster.yaml",
        b"apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata:\n  name: one\n  region: us-west-2\n  version: 1.30\n",
    )]));
    let (_, line, column, msg) = only_error(&loaded, "E-invalid-field");
    assert_eq!((line, column), (Some(6), Some(3)));
    assert!(msg.contains("floating point `1.3`"), "{msg}");
    let help = loaded.diagnostics[0].help.clone().unwrap_or_default();
    assert!(help.contains("put it in quotes"), "{help}");
}

#[test]
fn a_list_without_a_list_of_items_is_an_error() {
    for (text, line) in [
        (
            &b"apiVersion: v1\nkind: List\nitems:\n  kind: Namespace\n"[..],
            3,
        ),
        (&b"# empty\napiVersion: v1\nkind: List\n"[..], 2),
    ] {
        let loaded = load(&source(&[("list.yaml", text)]));
        let (_, at, _, msg) = only_error(&loaded, "E-document");
        assert_eq!(at, Some(line));
        assert!(msg.contains("needs `items`"), "{msg}");
    }
    let empty = load(&source(&[(
        "list.yaml",
        b"apiVersion: v1\nkind: List\nitems: []\n",
    )]));
    assert!(empty.diagnostics.is_empty(), "{:?}", empty.diagnostics);
}

#[test]
fn two_role_policies_with_one_name_are_a_duplicate() {
    let policy = b"apiVersion: eksync.io/v1alpha1\nkind: IAMRolePolicy\nmetadata:\n  name: p\nspec:\n  roleName: r\n  policyDocument:\n    Version: \"2012-10-17\"\n    Statement:\n      - Effect: Allow\n        Action: \"s3:GetObject\"\n        Resource: \"*\"\n";
    let loaded = load(&source(&[("a.yaml", policy), ("b.yaml", policy)]));
    let (file, line, column, msg) = only_error(&loaded, "E-duplicate");
    assert_eq!((file.as_str(), line, column), ("b.yaml", Some(4), Some(3)));
    assert!(msg.contains("IAMRolePolicy p is defined twice"), "{msg}");
    let related = &loaded.diagnostics[0].related;
    assert_eq!(related.len(), 1);
    assert_eq!(related[0].location.file, "a.yaml");
    assert_eq!(loaded.model.role_policies.len(), 1);
}

#[test]
fn a_bad_reference_is_placed_by_character() {
    let loaded = load(&source(&[(
        "cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: \"réglé {{aws:nope}}\"\n"
            .as_bytes(),
    )]));
    let (_, line, column, msg) = only_error(&loaded, "E-ref");
    assert_eq!((line, column), (Some(6), Some(3)));
    assert!(msg.ends_with("(at character 7)"), "{msg}");
}

#[test]
fn a_bad_reference_in_a_secret_is_placed_but_not_quoted() {
    let loaded = load(&source(&[(
        "s.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  pw: \"hunter2{{aws:hunter3}}\"\n"
            .as_bytes(),
    )]));
    let (_, line, column, msg) = only_error(&loaded, "E-ref");
    assert_eq!((line, column), (Some(6), Some(3)));
    assert!(!msg.contains("hunter"), "{msg}");
    assert!(!msg.contains("at character"), "{msg}");
}

#[test]
fn a_duplicate_inside_a_list_points_at_both_items() {
    let loaded = load(&source(&[(
        "list.yaml",
        b"apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: Namespace\n    metadata:\n      name: a\n  - apiVersion: v1\n    kind: Namespace\n    metadata:\n      name: a\n",
    )]));
    let (_, line, column, _) = only_error(&loaded, "E-duplicate");
    assert_eq!((line, column), (Some(11), Some(7)));
    let first = &loaded.diagnostics[0].related[0].location;
    assert_eq!((first.line, first.column), (Some(7), Some(7)));
}

#[test]
fn a_name_that_is_not_a_string_is_not_called_missing() {
    let loaded = load(&source(&[(
        "cm.yaml",
        b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: 2024\n",
    )]));
    let (_, line, column, msg) = only_error(&loaded, "E-invalid-field");
    assert_eq!((line, column), (Some(4), Some(3)));
    assert!(
        msg.contains("metadata.name must be a string, not `2024`"),
        "{msg}"
    );
}

#[test]
fn two_settings_files_are_an_error() {
    let settings = b"apiVersion: eksync.io/v1alpha1\nkind: Settings\n";
    let loaded = load(&source(&[
        ("eksync.yaml", settings),
        ("eksync.yml", settings),
    ]));
    let (file, line, _, msg) = only_error(&loaded, "E-settings");
    assert_eq!((file.as_str(), line), ("eksync.yml", Some(1)));
    assert!(
        msg.contains("both eksync.yaml and eksync.yml exist"),
        "{msg}"
    );
}

#[test]
fn a_duplicate_node_group_names_both_places() {
    let loaded = load(&source(&[(
        "cluster.yaml",
        b"apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata:\n  name: one\n  region: us-west-2\nnodeGroups:\n  - name: ng\n    instanceType: t3.large\nmanagedNodeGroups:\n  - name: ng\n    instanceType: t3.large\n",
    )]));
    let (_, line, column, msg) = only_error(&loaded, "E-duplicate");
    assert_eq!((line, column), (Some(10), Some(5)));
    assert!(msg.contains("node group `ng` is defined twice"), "{msg}");
    let first = &loaded
        .diagnostics
        .iter()
        .find(|d| d.is_error())
        .map(|d| d.related.clone());
    let first = first
        .as_ref()
        .and_then(|r| r.first())
        .map(|r| (r.location.line, r.location.column));
    assert_eq!(first, Some((Some(7), Some(5))));
}

#[test]
fn a_typed_list_is_read_like_a_list_and_its_items_take_its_kind() {
    let list = b"apiVersion: apps/v1\nkind: DeploymentList\nitems:\n- metadata:\n    name: web\n  spec:\n    selector:\n      matchLabels: {app: web}\n    template:\n      metadata:\n        labels: {app: web}\n      spec:\n        containers: [{name: web, image: nginx}]\n- apiVersion: apps/v1\n  kind: Deployment\n  metadata:\n    name: api\n  spec:\n    selector:\n      matchLabels: {app: api}\n    template:\n      metadata:\n        labels: {app: api}\n      spec:\n        containers: [{name: api, image: nginx}]\n";
    let loaded = load(&source(&[("k8s/deployments.yaml", list)]));
    let errors: Vec<&Diagnostic> = loaded.diagnostics.iter().filter(|d| d.is_error()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let mut names: Vec<(String, String, String)> = loaded
        .model
        .objects
        .iter()
        .map(|o| {
            (
                o.key.kind.clone(),
                o.api_version.clone(),
                o.key.name.clone(),
            )
        })
        .collect();
    names.sort();
    let want = |n: &str| {
        (
            "Deployment".to_string(),
            "apps/v1".to_string(),
            n.to_string(),
        )
    };
    assert_eq!(names, vec![want("api"), want("web")]);
    // The item's origin is the item, not the list.
    let web = loaded.model.objects.iter().find(|o| o.key.name == "web");
    assert_eq!(
        web.map(|o| o.body["kind"].clone()),
        Some("Deployment".into())
    );

    // An item of another kind is an error at its `kind`; the list's other items still load.
    let mixed = load(&source(&[(
        "k8s/cms.yaml",
        b"apiVersion: v1\nkind: ConfigMapList\nitems:\n- metadata: {name: a}\n- kind: Secret\n  metadata: {name: b}\n",
    )]));
    let (file, line, column, msg) = only_error(&mixed, "E-document");
    assert_eq!(
        (file.as_str(), line, column),
        ("k8s/cms.yaml", Some(5), Some(3))
    );
    assert!(
        msg.contains("`ConfigMapList` holds ConfigMap objects, but this item is `Secret`"),
        "{msg}"
    );
    assert_eq!(mixed.model.objects.len(), 1);

    // A kind that merely ends in `List` without `items` is an object like any other.
    let plain = load(&source(&[(
        "k8s/x.yaml",
        b"apiVersion: example.com/v1\nkind: ShoppingList\nmetadata: {name: x, namespace: default}\n",
    )]));
    assert!(
        plain.diagnostics.iter().all(|d| d.code != "E-document"),
        "{:#?}",
        plain.diagnostics
    );
}

#[test]
fn a_file_that_is_not_a_manifest_gets_an_exclude_hint() {
    let help = |files: &[(&str, &[u8])], file: &str| {
        let loaded = load(&source(files));
        loaded
            .diagnostics
            .iter()
            .find(|d| {
                d.code == "E-missing-field" && d.location.as_ref().is_some_and(|l| l.file == file)
            })
            .unwrap_or_else(|| panic!("no E-missing-field for {file}: {:#?}", loaded.diagnostics))
            .help
            .clone()
    };
    let values: &[u8] = b"replicaCount: 2\nimage:\n  repository: nginx\n";
    let chart: &[u8] = b"apiVersion: v2\nname: web\nversion: 1.0.0\n";
    // A values file alone: the file itself.
    let h = help(&[("k8s/values.yaml", values)], "k8s/values.yaml");
    assert!(
        h.as_deref()
            .is_some_and(|h| h.contains("\"k8s/values.yaml\"") && h.contains("spec.exclude")),
        "{h:?}"
    );
    // Inside a chart: the chart's folder, for the values and for Chart.yaml.
    let files = [
        ("charts/web/Chart.yaml", chart),
        ("charts/web/values-prod.yaml", values),
    ];
    for file in ["charts/web/Chart.yaml", "charts/web/values-prod.yaml"] {
        let h = help(&files, file);
        assert!(
            h.as_deref()
                .is_some_and(|h| h.contains("\"charts/web/**\"")),
            "{file}: {h:?}"
        );
    }
    // A chart's template is not YAML before Helm renders it: the same hint.
    let loaded = load(&source(&[
        ("charts/web/Chart.yaml", chart),
        (
            "charts/web/templates/svc.yaml",
            b"apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}\n  labels:\n    {{- include \"web.labels\" . | nindent 4 }}\n",
        ),
    ]));
    let template = loaded
        .diagnostics
        .iter()
        .find(|d| d.code == "E-yaml")
        .unwrap_or_else(|| panic!("{:#?}", loaded.diagnostics));
    assert!(
        template
            .help
            .as_deref()
            .is_some_and(|h| h.contains("\"charts/web/**\"")),
        "{template:#?}"
    );
    // A manifest that lacks one field is not told to leave itself out.
    let h = help(
        &[("k8s/ns.yaml", b"apiVersion: v1\nmetadata:\n  name: x\n")],
        "k8s/ns.yaml",
    );
    assert_eq!(h, None);
}

#[test]
fn skipped_files_say_why_and_what_to_do() {
    let mut src = source(&[]);
    src.skipped = vec![
        SkippedFile {
            path: "k8s/big.yaml".into(),
            reason: SkipReason::TooLarge {
                size: 5000,
                limit: 100,
            },
        },
        SkippedFile {
            path: "k8s/pipe.yaml".into(),
            reason: SkipReason::NotRegular {
                what: "a named pipe (FIFO)".into(),
            },
        },
    ];
    let loaded = load(&src);
    let text: Vec<String> = loaded.diagnostics.iter().map(ToString::to_string).collect();
    assert_eq!(text.len(), 2, "{text:#?}");
    assert!(
        text[0].contains("5000 bytes, over the 100-byte limit (--max-file-size)"),
        "{}",
        text[0]
    );
    assert!(
        text[0].contains("help: raise the limit with `--max-file-size 5000`"),
        "{}",
        text[0]
    );
    assert!(
        text[1].contains("a named pipe (FIFO), not a regular file"),
        "{}",
        text[1]
    );
    assert!(text[1].contains("--> k8s/pipe.yaml"), "{}", text[1]);
}

#[test]
fn json_files_refuse_raw_control_characters_in_strings() {
    let loaded = load(&source(&[(
        "k8s/cm.json",
        b"{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\",\n \"metadata\": {\"name\": \"x\"},\n \"data\": {\"k\": \"a\tb\"}}\n",
    )]));
    let (file, line, column, msg) = only_error(&loaded, "E-yaml");
    assert_eq!(
        (file.as_str(), line, column),
        ("k8s/cm.json", Some(3), Some(18))
    );
    assert!(
        msg.starts_with("invalid JSON: control character U+0009 (tab)"),
        "{msg}"
    );
    assert!(loaded.model.objects.is_empty());
}

/// The errors of `code`-prefixed diagnostics as (field, message), in order.
fn errors_at(loaded: &Loaded) -> Vec<(String, String)> {
    loaded
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| {
            let field = d
                .location
                .as_ref()
                .and_then(|l| l.field.clone())
                .unwrap_or_default();
            (field, format!("{} {}", d.code, d.message))
        })
        .collect()
}

fn cluster_with(extra: &str) -> Loaded {
    let text = format!(
        "{}{extra}",
        std::str::from_utf8(CLUSTER).expect("UTF-8 test data")
    );
    load(&source(&[("cluster.yaml", text.as_bytes())]))
}

/// eksctl's `validateAccessEntries` rules, each reported at its field (all of them, not the first).
#[test]
fn access_entries_are_validated_like_eksctl_at_their_paths() {
    let loaded = cluster_with(
        "accessConfig:
  accessEntries:
    - principalARN: not-an-arn
    - principalARN: arn:aws:iam::111122223333:role/a
      accessPolicies:
        - policyARN: arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy
          accessScope: { type: cluster, namespaces: [default] }
        - policyARN: arn:aws:iam::aws:policy/ReadOnlyAccess
          accessScope: { type: namespace }
        - policyARN: arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy
          accessScope: { type: everywhere }
        - policyARN: arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy
    - principalARN: arn:aws:iam::111122223333:role/a
    - principalARN: arn:aws:iam::111122223333:role/node
      type: EC2_LINUX
      kubernetesGroups: [admins]
      accessPolicies:
        - policyARN: arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy
          accessScope: { type: cluster }
    - principalARN: arn:aws:iam::111122223333:role/odd
      type: ROBOT
    - {}
",
    );
    let got: Vec<(String, String)> = errors_at(&loaded);
    let want: &[(&str, &str)] = &[
        ("accessConfig.accessEntries[0].principalARN", "E-arn `not-an-arn` is not a valid ARN"),
        (
            "accessConfig.accessEntries[1].accessPolicies[0].accessScope.namespaces",
            "E-access namespaces cannot be listed when accessScope.type is cluster",
        ),
        (
            "accessConfig.accessEntries[1].accessPolicies[1].policyARN",
            "E-access `arn:aws:iam::aws:policy/ReadOnlyAccess` is not an EKS access policy",
        ),
        (
            "accessConfig.accessEntries[1].accessPolicies[1].accessScope.namespaces",
            "E-access at least one namespace must be listed",
        ),
        (
            "accessConfig.accessEntries[1].accessPolicies[2].accessScope.type",
            "E-access access scope type `everywhere` is neither namespace nor cluster",
        ),
        (
            "accessConfig.accessEntries[1].accessPolicies[3].accessScope.type",
            "E-access accessScope.type must be set",
        ),
        (
            "accessConfig.accessEntries[2].principalARN",
            "E-duplicate principal `arn:aws:iam::111122223333:role/a` already has an access entry (accessConfig.accessEntries[1])",
        ),
        (
            "accessConfig.accessEntries[3].kubernetesGroups",
            "E-access kubernetesGroups cannot be set on an access entry of type EC2_LINUX",
        ),
        (
            "accessConfig.accessEntries[3].accessPolicies",
            "E-access accessPolicies cannot be set on an access entry of type EC2_LINUX",
        ),
        (
            "accessConfig.accessEntries[4].type",
            "E-access access entry type `ROBOT` is not one of",
        ),
        (
            "accessConfig.accessEntries[5].principalARN",
            "E-access principalARN must be set",
        ),
    ];
    // Diagnostics come sorted by position; a missing field has none of its own.
    assert_eq!(got.len(), want.len(), "{got:#?}");
    for (wf, wm) in want {
        assert!(
            got.iter().any(|(f, m)| f == wf && m.starts_with(wm)),
            "no error at {wf} starting with {wm:?}: {got:#?}"
        );
    }
}

#[test]
fn access_entries_need_an_api_authentication_mode() {
    let loaded = cluster_with(
        "accessConfig:
  authenticationMode: CONFIG_MAP
  accessEntries:
    - principalARN: arn:aws:iam::111122223333:role/a
",
    );
    let got = errors_at(&loaded);
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!(got[0].0, "accessConfig.accessEntries");
    assert!(got[0].1.contains("API or API_AND_CONFIG_MAP"), "{got:#?}");
    // The same entries with API or the default mode are fine.
    for mode in ["API", "API_AND_CONFIG_MAP"] {
        let ok = cluster_with(&format!(
            "accessConfig:\n  authenticationMode: {mode}\n  accessEntries:\n    - principalARN: arn:aws:iam::111122223333:role/a\n"
        ));
        assert!(errors_at(&ok).is_empty(), "{mode}: {:#?}", ok.diagnostics);
    }
    let locked_out = cluster_with(
        "accessConfig:\n  authenticationMode: CONFIG_MAP\n  bootstrapClusterCreatorAdminPermissions: false\n",
    );
    assert_eq!(
        errors_at(&locked_out)
            .iter()
            .map(|(f, _)| f.as_str())
            .collect::<Vec<_>>(),
        ["accessConfig.bootstrapClusterCreatorAdminPermissions"]
    );
    let bad_mode = cluster_with("accessConfig:\n  authenticationMode: IAM\n");
    assert_eq!(
        errors_at(&bad_mode)
            .iter()
            .map(|(f, _)| f.as_str())
            .collect::<Vec<_>>(),
        ["accessConfig.authenticationMode"]
    );
}

#[test]
fn cluster_settings_are_validated_at_their_paths() {
    let loaded = cluster_with(
        "cloudWatch:
  clusterLogging:
    enableTypes: [api, kubelet, \"*\"]
    logRetentionInDays: 42
secretsEncryption: {}
kubernetesNetworkConfig:
  serviceIPv4CIDR: 10.100.0.0/33
upgradePolicy:
  supportType: FOREVER
",
    );
    let fields: Vec<String> = errors_at(&loaded).into_iter().map(|(f, _)| f).collect();
    assert_eq!(
        fields,
        [
            "cloudWatch.clusterLogging.enableTypes[1]",
            "cloudWatch.clusterLogging.enableTypes[2]",
            "cloudWatch.clusterLogging.logRetentionInDays",
            "secretsEncryption.keyARN",
            "kubernetesNetworkConfig.serviceIPv4CIDR",
            "upgradePolicy.supportType",
        ],
        "{:#?}",
        loaded.diagnostics
    );
    let no_types = cluster_with("cloudWatch:\n  clusterLogging:\n    logRetentionInDays: 7\n");
    assert_eq!(
        errors_at(&no_types)
            .iter()
            .map(|(f, _)| f.as_str())
            .collect::<Vec<_>>(),
        ["cloudWatch.clusterLogging.logRetentionInDays"]
    );
    let bad_key = cluster_with("secretsEncryption:\n  keyARN: my-key\n");
    assert_eq!(
        errors_at(&bad_key)
            .iter()
            .map(|(f, m)| (f.as_str(), m.starts_with("E-arn")))
            .collect::<Vec<_>>(),
        [("secretsEncryption.keyARN", true)]
    );
}

#[test]
fn log_retention_is_warned_about_with_what_eksctl_does_instead() {
    let loaded = cluster_with(
        "cloudWatch:\n  clusterLogging:\n    enableTypes: [\"*\"]\n    logRetentionInDays: 60\n",
    );
    assert!(errors_at(&loaded).is_empty(), "{:#?}", loaded.diagnostics);
    let warnings: Vec<&Diagnostic> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.code == "W-eksctl-unrendered")
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    assert_eq!(
        warnings[0]
            .location
            .as_ref()
            .and_then(|l| l.field.as_deref()),
        Some("cloudWatch.clusterLogging.logRetentionInDays")
    );
    assert!(warnings[0].message.contains("PutRetentionPolicy"));
    assert!(warnings[0].message.contains("/aws/eks/one/cluster"));
}

/// eksctl's Windows notes (`LogWindowsCompatibility`, `pkg/windows/ipam.go`) as warnings at the
/// first Windows group's `amiFamily`; no errors.
#[test]
fn windows_node_groups_draw_eksctls_notes_as_warnings() {
    let windows_only = b"apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata:\n  name: one\n  region: us-west-2\nnodeGroups:\n  - name: linux\n    amiFamily: WindowsServer2022CoreContainer\n  - name: win\n    amiFamily: WindowsServer2019FullContainer\n";
    let warnings = |text: &[u8]| -> Vec<(String, Option<usize>, String)> {
        let loaded = load(&source(&[("cluster.yaml", text)]));
        assert!(
            loaded.diagnostics.iter().all(|d| !d.is_error()),
            "{:#?}",
            loaded.diagnostics
        );
        loaded
            .diagnostics
            .iter()
            .filter(|d| d.code == "W-windows")
            .map(|d| {
                let loc = d.location.clone().unwrap_or_else(|| Location::file(""));
                (loc.field.unwrap_or_default(), loc.line, d.message.clone())
            })
            .collect()
    };
    let w = warnings(windows_only);
    assert_eq!(w.len(), 2, "{w:#?}");
    assert!(w
        .iter()
        .all(|(f, l, _)| f == "nodeGroups[0].amiFamily" && *l == Some(8)));
    assert!(
        w.iter()
            .any(|x| x.2.contains("a Linux node group is required")),
        "{w:#?}"
    );
    assert!(
        w.iter().any(|x| x.2.contains("enable-windows-ipam")),
        "{w:#?}"
    );
    // A managed Linux group beside them: only the IPAM note.
    let mut with_linux = windows_only.to_vec();
    with_linux.extend_from_slice(b"managedNodeGroups:\n  - name: mng\n");
    let w = warnings(&with_linux);
    assert_eq!(w.len(), 1, "{w:#?}");
    assert!(w[0].2.contains("enable-windows-ipam"));
    // No Windows group, no note.
    assert!(warnings(CLUSTER).is_empty());
}
