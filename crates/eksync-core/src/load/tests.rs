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
