//! Loading and validating eksctl `ClusterConfig` documents: every unknown field (walking eksctl's
//! schema table, at any depth), strict decoding, then the checks eksctl makes (names, sizes, labels,
//! taints, Spot settings, ARNs, AMI ids, log types and retention, the service CIDR, the upgrade
//! policy, the authentication mode and access entries) plus a few it misses, and a warning for each
//! field eksync ignores. Reports every problem of a document in one run; never corrects them.

use std::collections::HashMap;

use super::{decode_all, syntax, Ctx, RawDoc};
use crate::diag::Diagnostic;
use crate::eksctl::{self, shape, ClusterConfig, InstancesDistribution, NodeGroupSsh, Taint};
use crate::model::Cluster;
use crate::path::FieldPath;

pub(super) fn load(d: RawDoc, ctx: &mut Ctx) -> Option<Cluster> {
    let RawDoc {
        origin,
        value,
        base,
    } = d;
    let api = value
        .get("apiVersion")
        .and_then(|v| v.as_str())
        .unwrap_or("");
    let kind = value.get("kind").and_then(|v| v.as_str()).unwrap_or("");
    if api != eksctl::API_VERSION || kind != eksctl::KIND {
        let at = ctx.origin_loc(&origin, &base.key("apiVersion"));
        ctx.error(
            "E-eksctl-kind",
            format!(
                "unsupported eksctl document `{api}` `{kind}`; eksync reads `apiVersion: {}` `kind: {}`",
                eksctl::API_VERSION,
                eksctl::KIND
            ),
            at,
        );
        return None;
    }
    // Every unknown field first, at any depth; the rest still decodes and is checked.
    let mut value = value;
    for u in shape::take_unknown_fields(&mut value, &shape::CLUSTER_CONFIG) {
        let at = ctx.origin_loc(&origin, &base.join(&u.path));
        let parent = u.path.parent();
        let place = if parent.is_root() {
            "at the top level".to_string()
        } else {
            format!("in `{parent}`")
        };
        let mut d = Diagnostic::error(
            "E-unknown-field",
            format!(
                "ClusterConfig: unknown field `{}` {place} (eksctl's {} has no such field)",
                u.name, u.object
            ),
        )
        .at(at);
        if let Some(s) = u.suggestion {
            d = d.help(format!("did you mean `{s}`?"));
        }
        ctx.push(d);
    }
    let config: ClusterConfig = decode_all(value, &origin, &base, "ClusterConfig", ctx)?;
    validate(&config, &mut |path, code, msg, warning| {
        let at = ctx.origin_loc(&origin, &base.join(path));
        if warning {
            ctx.warn(code, msg, at);
        } else {
            ctx.error(code, msg, at);
        }
    });
    // eksctl asks EC2 for the zones of a VPC it creates; eksync cannot, and says which it takes.
    if config.creates_vpc() && config.availability_zones.is_empty() {
        let (zones, _) = config.vpc_zones();
        let at = ctx.origin_loc(
            &origin,
            &base.join(&FieldPath::keys(&["metadata", "region"])),
        );
        ctx.warn(
            "W-eksctl-zones",
            format!(
                "no availabilityZones: the VPC is created in {} (eksctl picks zones of the region at random; eksync takes these, always the same); list availabilityZones if your account has other zones",
                zones.join(", ")
            ),
            at,
        );
    }
    for path in config.unrendered_fields() {
        let at = ctx.origin_loc(&origin, &base.join(&path));
        let message = if path.to_string() == "cloudWatch.clusterLogging.logRetentionInDays" {
            format!("`{path}` is ignored: eksctl sets the retention of the log group /aws/eks/{}/cluster through the CloudWatch Logs API (PutRetentionPolicy) after creating the cluster, not in a stack, and eksync does not call that API; the control plane logs are kept indefinitely unless you set the retention yourself", config.metadata.name)
        } else {
            format!("`{path}` is valid eksctl but eksync does not act on it yet (it does not change the rendered stacks); it is ignored")
        };
        ctx.warn("W-eksctl-unrendered", message, at);
    }
    // eksctl imports a key from a local file or from the key's text as an EC2 key pair; eksync
    // reads only the repo and installs only a key pair named in publicKeyName.
    let unmanaged = config.node_groups.iter().map(|g| g.ssh.as_ref());
    let managed = config.managed_node_groups.iter().map(|g| g.ssh.as_ref());
    let ssh = unmanaged
        .enumerate()
        .map(|(i, s)| (FieldPath::keys(&["nodeGroups"]).index(i), s))
        .chain(
            managed
                .enumerate()
                .map(|(i, s)| (FieldPath::keys(&["managedNodeGroups"]).index(i), s)),
        );
    for (path, s) in ssh {
        let Some((field, what)) = s.and_then(NodeGroupSsh::key_not_installed) else {
            continue;
        };
        let at = ctx.origin_loc(&origin, &base.join(&path.key("ssh").key(field)));
        ctx.warn(
            "W-eksctl-ssh-key",
            format!(
                "SSH is allowed, but no key is installed on the nodes: eksctl would import {what} as an EC2 key pair, and eksync installs only a key pair named in ssh.publicKeyName (port 22 is opened as eksctl opens it)"
            ),
            at,
        );
    }
    // A Pod Identity association whose role eksync would have to create.
    for (i, pia) in config.service_pod_identity().iter().enumerate() {
        if pia.role_arn.is_none() {
            let path = FieldPath::keys(&["iam", "podIdentityAssociations"]).index(i);
            let at = ctx.origin_loc(&origin, &base.join(&path));
            ctx.warn(
                "W-eksctl-unrendered",
                format!("`{path}` has no roleARN: the IAM role eksctl would create for it is not rendered yet, so the association is ignored"),
                at,
            );
        }
    }
    // Node group names are unique across nodeGroups and managedNodeGroups (each is a stack).
    let mut first_by_name: HashMap<&str, FieldPath> = HashMap::new();
    for ng in config.node_groups() {
        let name_path = base.join(&ng.path.key("name"));
        if let Some(first) = first_by_name.get(ng.name) {
            let d = Diagnostic::error(
                "E-duplicate",
                format!("node group `{}` is defined twice", ng.name),
            )
            .at(ctx.origin_loc(&origin, &name_path))
            .related(ctx.origin_loc(&origin, first), "first defined here");
            ctx.push(d);
        } else {
            first_by_name.insert(ng.name, name_path);
        }
    }
    Some(Cluster { config, origin })
}

/// Reports duplicate cluster names across files.
pub(super) fn check_unique(clusters: &[Cluster], ctx: &mut Ctx) {
    let mut seen: HashMap<&str, &Cluster> = HashMap::new();
    for c in clusters {
        if let Some(first) = seen.get(c.name()) {
            let name_path = FieldPath::keys(&["metadata", "name"]);
            let d = Diagnostic::error(
                "E-duplicate",
                format!("cluster `{}` is defined twice", c.name()),
            )
            .at(ctx.origin_loc(&c.origin, &name_path))
            .related(
                ctx.origin_loc(&first.origin, &name_path),
                "first defined here",
            );
            ctx.push(d);
        } else {
            seen.insert(c.name(), c);
        }
    }
}

type Report<'a> = dyn FnMut(&FieldPath, &'static str, String, bool) + 'a;

fn err(report: &mut Report, p: &FieldPath, code: &'static str, msg: String) {
    report(p, code, msg, false);
}

/// The semantic checks of one ClusterConfig. `report(path, code, message, is_warning)`.
pub fn validate(c: &ClusterConfig, report: &mut Report) {
    let meta = FieldPath::keys(&["metadata"]);
    if let Err(why) = syntax::eksctl_name(&c.metadata.name) {
        err(
            report,
            &meta.key("name"),
            "E-name",
            format!("invalid cluster name: {why}"),
        );
    }
    if !valid_region(&c.metadata.region) {
        err(
            report,
            &meta.key("region"),
            "E-region",
            format!(
                "`{}` is not an AWS region name (like us-west-2)",
                c.metadata.region
            ),
        );
    }
    if let Some(v) = c
        .metadata
        .annotations
        .get(crate::desired::CLUSTER_STACK_ANNOTATION)
    {
        if v != "manage" && v != "observe" {
            err(
                report,
                &meta
                    .key("annotations")
                    .key(crate::desired::CLUSTER_STACK_ANNOTATION),
                "E-annotation",
                format!("`{v}` is not a cluster-stack mode; use manage or observe"),
            );
        }
    }
    if let Some(v) = &c.metadata.version {
        let ok = v.split_once('.').is_some_and(|(a, b)| {
            a == "1" && !b.is_empty() && b.bytes().all(|x| x.is_ascii_digit())
        });
        if !ok {
            err(
                report,
                &meta.key("version"),
                "E-version",
                format!("`{v}` is not a Kubernetes version like \"1.33\" (quote it in YAML)"),
            );
        }
    }
    for ng in c.node_groups() {
        if let Err(why) = nodegroup_name(ng.name) {
            err(
                report,
                &ng.path.key("name"),
                "E-name",
                format!("invalid node group name: {why}"),
            );
        }
        let s = ng.sizes;
        let size_path = |f: &str| ng.path.key(f);
        for (field, v) in [
            ("minSize", s.min),
            ("maxSize", s.max),
            ("desiredCapacity", s.desired),
        ] {
            if v < 0 {
                err(
                    report,
                    &size_path(field),
                    "E-size",
                    format!("{field} must not be negative (got {v})"),
                );
            }
        }
        if s.min > s.max {
            err(
                report,
                &size_path("minSize"),
                "E-size",
                format!("minSize ({}) is greater than maxSize ({})", s.min, s.max),
            );
        } else if s.desired < s.min || s.desired > s.max {
            err(
                report,
                &size_path("desiredCapacity"),
                "E-size",
                format!(
                    "desiredCapacity ({}) must be between minSize ({}) and maxSize ({})",
                    s.desired, s.min, s.max
                ),
            );
        }
        for (k, v) in ng.labels {
            let p = ng.path.key("labels").key(k.as_str());
            if let Err(why) = syntax::qualified_name(k) {
                err(report, &p, "E-label", format!("invalid node label {why}"));
            }
            if let Err(why) = syntax::label_value(v) {
                err(
                    report,
                    &p,
                    "E-label",
                    format!("invalid node label `{k}`: {why}"),
                );
            }
            if k.starts_with("kubernetes.io/") || k.starts_with("k8s.io/") {
                let allowed = [
                    "kubernetes.io/os",
                    "kubernetes.io/arch",
                    "node.kubernetes.io/instance-type",
                ];
                if !allowed.contains(&k.as_str()) {
                    report(
                        &p,
                        "W-label",
                        format!("the kubelet may refuse to set label `{k}`: the kubernetes.io and k8s.io prefixes are reserved"),
                        true,
                    );
                }
            }
        }
        check_taints(&ng.taints, &ng.path.key("taints"), report);
    }
    for (i, ng) in c.node_groups.iter().enumerate() {
        let path = FieldPath::keys(&["nodeGroups"]).index(i);
        check_volume_size(ng.volume_size, &path, report);
        if let Some(d) = &ng.instances_distribution {
            check_spot(d, ng.instance_type.as_deref(), &path, report);
        }
    }
    for (i, ng) in c.managed_node_groups.iter().enumerate() {
        let path = FieldPath::keys(&["managedNodeGroups"]).index(i);
        if ng.instance_type.is_some() && !ng.instance_types.is_empty() {
            report(
                &path.key("instanceTypes"),
                "E-spot",
                "set either instanceType or instanceTypes, not both".to_string(),
                false,
            );
        }
        if ng.spot == Some(true) && ng.instance_types.len() < 2 {
            report(
                &path.key("spot"),
                "W-spot",
                "a Spot node group with fewer than two instance types is interrupted more often; list several in instanceTypes".to_string(),
                true,
            );
        }
        check_volume_size(ng.volume_size, &path, report);
    }
    check_arns(c, report);
    check_cluster_settings(c, report);
    check_access(c, report);
    check_windows(c, report);
    check_fargate(c, report);
    check_addons(c, report);
    check_pod_identity(c, report);
    for (i, ng) in c.node_groups.iter().enumerate() {
        let path = FieldPath::keys(&["nodeGroups"]).index(i).key("ami");
        check_ami(ng.ami.as_deref(), false, &path, report);
    }
    for (i, ng) in c.managed_node_groups.iter().enumerate() {
        let path = FieldPath::keys(&["managedNodeGroups"]).index(i).key("ami");
        check_ami(ng.ami.as_deref(), true, &path, report);
    }
}

/// eksctl's notes on Windows node groups (`LogWindowsCompatibility`), as warnings at the first
/// Windows group's `amiFamily`: Windows workloads need a Linux node group (CoreDNS and the VPC
/// resource controller's webhook run on Linux), and the VPC resource controller's Windows IPAM,
/// which eksctl turns on after creating the cluster (the `enable-windows-ipam` key of the
/// kube-system/amazon-vpc-cni ConfigMap, `pkg/windows/ipam.go`) and eksync does not.
fn check_windows(c: &ClusterConfig, report: &mut Report) {
    let family = |f: &Option<String>| f.as_deref().unwrap_or_default().to_string();
    let families: Vec<(FieldPath, String)> = c
        .node_groups
        .iter()
        .enumerate()
        .map(|(i, ng)| {
            let p = FieldPath::keys(&["nodeGroups"]).index(i);
            (p, family(&ng.ami_family))
        })
        .chain(c.managed_node_groups.iter().enumerate().map(|(i, ng)| {
            let p = FieldPath::keys(&["managedNodeGroups"]).index(i);
            (p, family(&ng.ami_family))
        }))
        .collect();
    let Some((first, _)) = families.iter().find(|(_, f)| eksctl::is_windows_family(f)) else {
        return;
    };
    let at = first.key("amiFamily");
    if families.iter().all(|(_, f)| eksctl::is_windows_family(f)) {
        report(
            &at,
            "W-windows",
            "a Linux node group is required to support Windows workloads (CoreDNS and the VPC resource controller's webhook run on Linux nodes); add one to nodeGroups or managedNodeGroups".to_string(),
            true,
        );
    }
    report(
        &at,
        "W-windows",
        "Windows pods get their IP addresses from the VPC resource controller, which needs `enable-windows-ipam: \"true\"` in the kube-system/amazon-vpc-cni ConfigMap: eksctl writes it after creating the cluster, eksync does not; add that ConfigMap to the repo".to_string(),
        true,
    );
}

/// eksctl's rule for node group names (`validateNodeGroupName` in `pkg/apis/eksctl.io/v1alpha5`):
/// only letters, digits and '-', so a name may start with a digit (`1-gpu`), unlike a cluster name.
/// eksync also wants it non-empty and at most 100 characters, like the cluster name.
fn nodegroup_name(s: &str) -> Result<(), String> {
    if !s.is_empty() && s.len() <= 100 && s.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
    {
        Ok(())
    } else {
        Err(format!(
            "`{s}` must contain only letters, digits and '-' (1 to 100 characters)"
        ))
    }
}

/// Whether `s` has the six parts of an ARN: `arn:partition:service:region:account:resource` (region
/// and account may be empty; the resource may hold further colons).
fn valid_arn(s: &str) -> bool {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && !parts[1].is_empty()
        && !parts[2].is_empty()
        && !parts[5].is_empty()
}

/// Every ARN field of the typed model must be an ARN, as eksctl's `arn.Parse` requires.
fn check_arns(c: &ClusterConfig, report: &mut Report) {
    let mut arns: Vec<(FieldPath, &str)> = Vec::new();
    if let Some(iam) = &c.iam {
        let p = FieldPath::keys(&["iam"]);
        for (f, v) in [
            ("serviceRoleARN", &iam.service_role_arn),
            (
                "serviceRolePermissionsBoundary",
                &iam.service_role_permissions_boundary,
            ),
            (
                "fargatePodExecutionRoleARN",
                &iam.fargate_pod_execution_role_arn,
            ),
            (
                "fargatePodExecutionRolePermissionsBoundary",
                &iam.fargate_pod_execution_role_permissions_boundary,
            ),
        ] {
            if let Some(v) = v {
                arns.push((p.key(f), v));
            }
        }
        for (i, pia) in iam.pod_identity_associations.iter().enumerate() {
            if let Some(v) = &pia.role_arn {
                arns.push((p.key("podIdentityAssociations").index(i).key("roleARN"), v));
            }
        }
        for (i, a) in c.addons.iter().enumerate() {
            if let Some(v) = &a.service_account_role_arn {
                arns.push((
                    FieldPath::keys(&["addons"])
                        .index(i)
                        .key("serviceAccountRoleARN"),
                    v,
                ));
            }
        }
        for (i, fp) in c.fargate_profiles.iter().enumerate() {
            if let Some(v) = &fp.pod_execution_role_arn {
                arns.push((
                    FieldPath::keys(&["fargateProfiles"])
                        .index(i)
                        .key("podExecutionRoleARN"),
                    v,
                ));
            }
        }
        for (i, sa) in iam.service_accounts.iter().enumerate() {
            let p = p.key("serviceAccounts").index(i);
            for (j, a) in sa.attach_policy_arns.iter().enumerate() {
                arns.push((p.key("attachPolicyARNs").index(j), a));
            }
            for (f, v) in [
                ("attachRoleARN", &sa.attach_role_arn),
                ("permissionsBoundary", &sa.permissions_boundary),
            ] {
                if let Some(v) = v {
                    arns.push((p.key(f), v));
                }
            }
        }
    }
    if let Some(key) = c
        .secrets_encryption
        .as_ref()
        .and_then(|s| s.key_arn.as_ref())
    {
        arns.push((FieldPath::keys(&["secretsEncryption", "keyARN"]), key));
    }
    for (i, ng) in c.node_groups.iter().enumerate() {
        let p = FieldPath::keys(&["nodeGroups"]).index(i);
        for (j, a) in ng.target_group_arns.iter().enumerate() {
            arns.push((p.key("targetGroupARNs").index(j), a));
        }
        node_group_arns(&p, ng.iam.as_ref(), ng.outpost_arn.as_deref(), &mut arns);
    }
    for (i, ng) in c.managed_node_groups.iter().enumerate() {
        let p = FieldPath::keys(&["managedNodeGroups"]).index(i);
        node_group_arns(&p, ng.iam.as_ref(), ng.outpost_arn.as_deref(), &mut arns);
    }
    for (path, v) in arns {
        if !valid_arn(v) {
            err(
                report,
                &path,
                "E-arn",
                format!("`{v}` is not a valid ARN: expected arn:partition:service:region:account-id:resource"),
            );
        }
    }
}

/// Fargate profiles as EKS and eksctl accept them: a name that is unique, EKS-valid and not in
/// eksctl's reserved `eks-` prefix, one to five selectors, each with a namespace and at most five
/// labels (EKS's limits).
fn check_fargate(c: &ClusterConfig, report: &mut Report) {
    let mut seen = std::collections::BTreeSet::new();
    for (i, fp) in c.fargate_profiles.iter().enumerate() {
        let p = FieldPath::keys(&["fargateProfiles"]).index(i);
        // EKS: `^[0-9A-Za-z][A-Za-z0-9\-_]*`, at most 100 characters.
        let valid = fp
            .name
            .as_bytes()
            .first()
            .is_some_and(u8::is_ascii_alphanumeric)
            && fp
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            && fp.name.len() <= 100;
        if !valid {
            err(
                report,
                &p.key("name"),
                "E-name",
                format!(
                    "invalid Fargate profile name `{}`: it must start with a letter or digit and hold only letters, digits, '-' and '_' (at most 100 characters)",
                    fp.name
                ),
            );
        } else if fp.name.starts_with("eks-") {
            err(
                report,
                &p.key("name"),
                "E-name",
                format!(
                    "Fargate profile name `{}` starts with `eks-`, which EKS and eksctl reserve",
                    fp.name
                ),
            );
        }
        if !seen.insert(fp.name.as_str()) {
            err(
                report,
                &p.key("name"),
                "E-duplicate",
                format!("Fargate profile `{}` is defined twice", fp.name),
            );
        }
        if fp.selectors.is_empty() || fp.selectors.len() > 5 {
            err(
                report,
                &p.key("selectors"),
                "E-fargate",
                format!(
                    "a Fargate profile needs 1 to 5 selectors, `{}` has {}",
                    fp.name,
                    fp.selectors.len()
                ),
            );
        }
        for (j, sel) in fp.selectors.iter().enumerate() {
            let sp = p.key("selectors").index(j);
            if sel.namespace.is_empty() {
                err(
                    report,
                    &sp.key("namespace"),
                    "E-fargate",
                    "a Fargate profile selector needs a namespace".into(),
                );
            }
            if sel.labels.len() > 5 {
                err(
                    report,
                    &sp.key("labels"),
                    "E-fargate",
                    format!(
                        "a Fargate profile selector takes at most 5 labels, this one has {}",
                        sel.labels.len()
                    ),
                );
            }
        }
    }
}

/// Pod Identity associations: a namespace and a service account name, once per pair.
fn check_pod_identity(c: &ClusterConfig, report: &mut Report) {
    let mut seen = std::collections::BTreeSet::new();
    for (i, a) in c.service_pod_identity().iter().enumerate() {
        let p = FieldPath::keys(&["iam", "podIdentityAssociations"]).index(i);
        for (f, v) in [
            ("namespace", &a.namespace),
            ("serviceAccountName", &a.service_account_name),
        ] {
            if v.is_empty() {
                err(
                    report,
                    &p.key(f),
                    "E-pod-identity",
                    format!("a Pod Identity association needs {f}"),
                );
            }
        }
        if !seen.insert((a.namespace.as_str(), a.service_account_name.as_str())) {
            err(
                report,
                &p,
                "E-duplicate",
                format!(
                    "service account {}/{} has two Pod Identity associations",
                    a.namespace, a.service_account_name
                ),
            );
        }
    }
}

/// Add-ons as EKS takes them: a name, once per cluster, and `resolveConflicts` one of EKS's
/// values.
fn check_addons(c: &ClusterConfig, report: &mut Report) {
    let mut seen = std::collections::BTreeSet::new();
    for (i, a) in c.addons.iter().enumerate() {
        let p = FieldPath::keys(&["addons"]).index(i);
        if a.name.is_empty() {
            err(
                report,
                &p.key("name"),
                "E-name",
                "an add-on needs a name".into(),
            );
        } else if !seen.insert(a.name.as_str()) {
            err(
                report,
                &p.key("name"),
                "E-duplicate",
                format!("add-on `{}` is listed twice", a.name),
            );
        }
        if let Some(r) = &a.resolve_conflicts {
            if !["none", "overwrite", "preserve"].contains(&r.to_ascii_lowercase().as_str()) {
                err(
                    report,
                    &p.key("resolveConflicts"),
                    "E-addon",
                    format!("`{r}` is not one of none, overwrite, preserve"),
                );
            }
        }
    }
}

/// The ARN fields both node group kinds share.
fn node_group_arns<'a>(
    p: &FieldPath,
    iam: Option<&'a eksctl::NodeGroupIam>,
    outpost: Option<&'a str>,
    arns: &mut Vec<(FieldPath, &'a str)>,
) {
    if let Some(v) = outpost {
        arns.push((p.key("outpostARN"), v));
    }
    let Some(iam) = iam else { return };
    let p = p.key("iam");
    for (j, a) in iam.attach_policy_arns.iter().enumerate() {
        arns.push((p.key("attachPolicyARNs").index(j), a));
    }
    for (f, v) in [
        ("instanceProfileARN", &iam.instance_profile_arn),
        ("instanceRoleARN", &iam.instance_role_arn),
        (
            "instanceRolePermissionsBoundary",
            &iam.instance_role_permissions_boundary,
        ),
    ] {
        if let Some(v) = v {
            arns.push((p.key(f), v));
        }
    }
}

/// An AMI id (`ami-` and 8 or 17 hex digits); unmanaged node groups also take eksctl's resolvers
/// (`auto`, `auto-ssm`, `static`).
fn check_ami(ami: Option<&str>, managed: bool, path: &FieldPath, report: &mut Report) {
    let Some(ami) = ami else { return };
    let id = ami.strip_prefix("ami-").is_some_and(|hex| {
        matches!(hex.len(), 8 | 17) && hex.bytes().all(|b| b.is_ascii_hexdigit())
    });
    let resolver = !managed && ["auto", "auto-ssm", "static"].contains(&ami);
    if !id && !resolver {
        let also = if managed {
            ""
        } else {
            ", or one of auto, auto-ssm, static"
        };
        err(
            report,
            path,
            "E-ami",
            format!("`{ami}` is not an AMI id (ami- followed by 8 or 17 hexadecimal digits{also}); replace the placeholder with a real AMI id"),
        );
    }
}

fn check_volume_size(size: Option<i64>, ng: &FieldPath, report: &mut Report) {
    if let Some(v) = size.filter(|v| *v <= 0) {
        let msg = format!("volumeSize must be positive (got {v})");
        report(&ng.key("volumeSize"), "E-size", msg, false);
    }
}

fn valid_region(r: &str) -> bool {
    // e.g. us-west-2, eu-central-1, us-gov-west-1, ap-southeast-5
    let parts: Vec<&str> = r.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[0].bytes().all(|c| c.is_ascii_lowercase())
        && parts[1..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].parse::<u8>().is_ok()
}

fn check_taints(taints: &[Taint], path: &FieldPath, report: &mut Report) {
    let mut seen = HashMap::new();
    for (i, t) in taints.iter().enumerate() {
        let p = path.index(i);
        if let Err(why) = syntax::qualified_name(&t.key) {
            report(
                &p.key("key"),
                "E-taint",
                format!("invalid taint {why}"),
                false,
            );
        }
        if let Some(v) = &t.value {
            if let Err(why) = syntax::label_value(v) {
                report(
                    &p.key("value"),
                    "E-taint",
                    format!("invalid taint `{}`: {why}", t.key),
                    false,
                );
            }
        }
        if !syntax::TAINT_EFFECTS.contains(&t.effect.as_str()) {
            report(
                &p.key("effect"),
                "E-taint",
                format!(
                    "taint `{}` has effect `{}`; it must be one of {}",
                    t.key,
                    t.effect,
                    syntax::TAINT_EFFECTS.join(", ")
                ),
                false,
            );
        }
        if seen.insert((t.key.clone(), t.effect.clone()), i).is_some() {
            report(
                &p,
                "E-taint",
                format!("taint `{}:{}` is given twice", t.key, t.effect),
                false,
            );
        }
    }
}

const SPOT_STRATEGIES: &[&str] = &[
    "lowest-price",
    "capacity-optimized",
    "capacity-optimized-prioritized",
    "price-capacity-optimized",
];

fn check_spot(
    d: &InstancesDistribution,
    instance_type: Option<&str>,
    ng: &FieldPath,
    report: &mut Report,
) {
    let p = ng.key("instancesDistribution");
    if d.instance_types.is_empty() {
        report(
            &p.key("instanceTypes"),
            "E-spot",
            "instancesDistribution needs at least one entry in instanceTypes".to_string(),
            false,
        );
    }
    if let Some(t) = instance_type {
        if t != "mixed" {
            report(
                &ng.key("instanceType"),
                "E-spot",
                format!("instanceType `{t}` conflicts with instancesDistribution; leave it out (or set it to \"mixed\") and list types in instancesDistribution.instanceTypes"),
                false,
            );
        }
    }
    let mut seen = std::collections::HashSet::new();
    for (i, t) in d.instance_types.iter().enumerate() {
        if !seen.insert(t) {
            report(
                &p.key("instanceTypes").index(i),
                "E-spot",
                format!("instance type `{t}` is listed twice"),
                false,
            );
        }
    }
    if let Some(v) = d.on_demand_percentage_above_base_capacity {
        if !(0..=100).contains(&v) {
            report(
                &p.key("onDemandPercentageAboveBaseCapacity"),
                "E-spot",
                format!("must be between 0 and 100 (got {v})"),
                false,
            );
        }
    }
    if let Some(v) = d.on_demand_base_capacity {
        if v < 0 {
            report(
                &p.key("onDemandBaseCapacity"),
                "E-spot",
                format!("must not be negative (got {v})"),
                false,
            );
        }
    }
    if let Some(v) = d.max_price {
        if v <= 0.0 {
            report(
                &p.key("maxPrice"),
                "E-spot",
                format!("must be positive (got {v})"),
                false,
            );
        }
    }
    let strategy = d.spot_allocation_strategy.as_deref();
    if let Some(s) = strategy {
        if !SPOT_STRATEGIES.contains(&s) {
            report(
                &p.key("spotAllocationStrategy"),
                "E-spot",
                format!(
                    "unknown spotAllocationStrategy `{s}`; expected one of {}",
                    SPOT_STRATEGIES.join(", ")
                ),
                false,
            );
        }
    }
    if let Some(pools) = d.spot_instance_pools {
        if strategy.is_some_and(|s| s != "lowest-price") {
            report(
                &p.key("spotInstancePools"),
                "E-spot",
                "spotInstancePools only applies to spotAllocationStrategy lowest-price".to_string(),
                false,
            );
        } else if !(1..=20).contains(&pools) {
            report(
                &p.key("spotInstancePools"),
                "E-spot",
                format!("must be between 1 and 20 (got {pools})"),
                false,
            );
        }
    }
    if d.uses_spot() && d.instance_types.len() == 1 {
        report(
            &p.key("instanceTypes"),
            "W-spot",
            "a Spot node group with a single instance type is interrupted more often; list several"
                .to_string(),
            true,
        );
    }
}

/// The values eksctl (and EKS) accept for the control plane settings eksync renders: log types,
/// log retention, Secrets encryption's key, the service CIDR and the upgrade policy.
fn check_cluster_settings(c: &ClusterConfig, report: &mut Report) {
    if let Some(logging) = c
        .cloud_watch
        .as_ref()
        .and_then(|w| w.cluster_logging.as_ref())
    {
        let p = FieldPath::keys(&["cloudWatch", "clusterLogging"]);
        let types = &logging.enable_types;
        for (i, t) in types.iter().enumerate() {
            let wildcard = t == "*" || t == "all";
            if wildcard && types.len() > 1 {
                err(
                    report,
                    &p.key("enableTypes").index(i),
                    "E-logging",
                    format!("`{t}` means every log type and must be the only entry of enableTypes"),
                );
            } else if !wildcard && !eksctl::CLUSTER_LOG_TYPES.contains(&t.as_str()) {
                err(
                    report,
                    &p.key("enableTypes").index(i),
                    "E-logging",
                    format!(
                        "log type `{t}` is unknown; use {}, or \"*\" for all of them",
                        eksctl::CLUSTER_LOG_TYPES.join(", ")
                    ),
                );
            }
        }
        // eksctl treats 0 as unset.
        if let Some(days) = logging.log_retention_in_days.filter(|d| *d != 0) {
            if types.is_empty() {
                err(
                    report,
                    &p.key("logRetentionInDays"),
                    "E-logging",
                    "logRetentionInDays needs enableTypes: there is no log group without log types"
                        .into(),
                );
            } else if !LOG_RETENTION_DAYS.contains(&days) {
                err(
                    report,
                    &p.key("logRetentionInDays"),
                    "E-logging",
                    format!(
                        "{days} is not a retention CloudWatch Logs accepts; use one of {}",
                        LOG_RETENTION_DAYS
                            .iter()
                            .map(i64::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
            }
        }
    }
    if let Some(se) = &c.secrets_encryption {
        if se.key_arn.as_deref().is_none_or(str::is_empty) {
            err(
                report,
                &FieldPath::keys(&["secretsEncryption", "keyARN"]),
                "E-arn",
                "secretsEncryption needs keyARN, the ARN of the KMS key that encrypts Secrets"
                    .into(),
            );
        }
    }
    if let Some(cidr) = c
        .kubernetes_network_config
        .as_ref()
        .and_then(|k| k.get("serviceIPv4CIDR"))
        .and_then(serde_json::Value::as_str)
    {
        if !valid_ipv4_cidr(cidr) {
            err(
                report,
                &FieldPath::keys(&["kubernetesNetworkConfig", "serviceIPv4CIDR"]),
                "E-cidr",
                format!("`{cidr}` is not an IPv4 CIDR like 10.100.0.0/16"),
            );
        }
    }
    if let Some(t) = c
        .upgrade_policy
        .as_ref()
        .and_then(|u| u.support_type.as_deref())
    {
        if t != "STANDARD" && t != "EXTENDED" {
            err(
                report,
                &FieldPath::keys(&["upgradePolicy", "supportType"]),
                "E-upgrade-policy",
                format!("support type `{t}` is neither STANDARD nor EXTENDED"),
            );
        }
    }
}

/// The retention periods CloudWatch Logs accepts (`PutRetentionPolicy`), which eksctl checks.
const LOG_RETENTION_DAYS: [i64; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// `a.b.c.d/n` with `n` at most 32.
fn valid_ipv4_cidr(s: &str) -> bool {
    s.split_once('/').is_some_and(|(ip, prefix)| {
        ip.parse::<std::net::Ipv4Addr>().is_ok()
            && !prefix.is_empty()
            && prefix.bytes().all(|b| b.is_ascii_digit())
            && prefix.parse::<u8>().is_ok_and(|n| n <= 32)
    })
}

/// The access entry types eksctl accepts (`AccessEntryType`); all but STANDARD are for nodes and
/// take no Kubernetes groups, username or access policies.
const ACCESS_ENTRY_TYPES: [&str; 4] = ["STANDARD", "EC2_LINUX", "EC2_WINDOWS", "FARGATE_LINUX"];

/// eksctl's checks of `accessConfig` (`validateAccessEntries` in `pkg/apis/eksctl.io/v1alpha5`,
/// and the authentication mode they need), each reported at its field rather than stopping at the
/// first: the mode is one of EKS's three; access entries need API or API_AND_CONFIG_MAP (and, as
/// EKS requires, CONFIG_MAP keeps the creator's admin permissions); each
/// principal is an ARN, listed once; a node type carries no groups, username or policies; each
/// policy is an EKS `cluster-access-policy` ARN with a `cluster` scope (no namespaces) or a
/// `namespace` scope (at least one namespace).
fn check_access(c: &ClusterConfig, report: &mut Report) {
    let Some(access) = &c.access_config else {
        return;
    };
    let p = FieldPath::keys(&["accessConfig"]);
    let mode = access.authentication_mode();
    if !["API", "API_AND_CONFIG_MAP", "CONFIG_MAP"].contains(&mode) {
        err(
            report,
            &p.key("authenticationMode"),
            "E-access",
            format!(
                "authentication mode `{mode}` is not one of API, API_AND_CONFIG_MAP, CONFIG_MAP"
            ),
        );
    }
    if mode == "CONFIG_MAP" && !access.access_entries.is_empty() {
        err(
            report,
            &p.key("accessEntries"),
            "E-access",
            "access entries need accessConfig.authenticationMode API or API_AND_CONFIG_MAP; with CONFIG_MAP the cluster only reads the aws-auth ConfigMap".into(),
        );
    }
    if mode == "CONFIG_MAP" && access.bootstrap_cluster_creator_admin_permissions == Some(false) {
        err(
            report,
            &p.key("bootstrapClusterCreatorAdminPermissions"),
            "E-access",
            "bootstrapClusterCreatorAdminPermissions cannot be false with authenticationMode CONFIG_MAP (EKS refuses it: nobody could reach the new cluster)".into(),
        );
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, e) in access.access_entries.iter().enumerate() {
        let ep = p.key("accessEntries").index(i);
        let principal = e.principal_arn.as_str();
        if principal.is_empty() {
            err(
                report,
                &ep.key("principalARN"),
                "E-access",
                "principalARN must be set to the ARN of an IAM user or role".into(),
            );
        } else if !valid_arn(principal) {
            err(
                report,
                &ep.key("principalARN"),
                "E-arn",
                format!("`{principal}` is not a valid ARN: expected arn:partition:service:region:account-id:resource"),
            );
        } else if let Some(first) = seen.get(principal) {
            err(
                report,
                &ep.key("principalARN"),
                "E-duplicate",
                format!("principal `{principal}` already has an access entry (accessConfig.accessEntries[{first}]); an IAM principal has one access entry per cluster"),
            );
        } else {
            seen.insert(principal, i);
        }
        let kind = e.entry_type.as_deref().unwrap_or("");
        if !kind.is_empty() && kind != "STANDARD" {
            if !ACCESS_ENTRY_TYPES.contains(&kind) {
                err(
                    report,
                    &ep.key("type"),
                    "E-access",
                    format!(
                        "access entry type `{kind}` is not one of {}",
                        ACCESS_ENTRY_TYPES.join(", ")
                    ),
                );
            } else {
                for (field, set) in [
                    ("kubernetesGroups", !e.kubernetes_groups.is_empty()),
                    (
                        "kubernetesUsername",
                        e.kubernetes_username
                            .as_deref()
                            .is_some_and(|u| !u.is_empty()),
                    ),
                    ("accessPolicies", !e.access_policies.is_empty()),
                ] {
                    if set {
                        err(
                            report,
                            &ep.key(field),
                            "E-access",
                            format!("{field} cannot be set on an access entry of type {kind} (node access entries get their permissions from EKS)"),
                        );
                    }
                }
            }
        }
        for (j, policy) in e.access_policies.iter().enumerate() {
            let pp = ep.key("accessPolicies").index(j);
            check_access_policy(policy, &pp, report);
        }
    }
}

fn check_access_policy(policy: &eksctl::AccessPolicy, pp: &FieldPath, report: &mut Report) {
    let arn = policy.policy_arn.as_str();
    // `arn:aws:eks::aws:cluster-access-policy/<Name>`: the resource is a type and a name.
    let resource = arn.splitn(6, ':').nth(5).unwrap_or("");
    if arn.is_empty() || !valid_arn(arn) {
        err(
            report,
            &pp.key("policyARN"),
            "E-arn",
            format!("`{arn}` is not a valid ARN: an access policy is named like arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"),
        );
    } else if !resource
        .split_once('/')
        .is_some_and(|(kind, name)| kind == "cluster-access-policy" && !name.is_empty())
    {
        err(
            report,
            &pp.key("policyARN"),
            "E-access",
            format!("`{arn}` is not an EKS access policy: its resource must be cluster-access-policy/<name>"),
        );
    }
    let scope = &policy.access_scope;
    let sp = pp.key("accessScope");
    match scope.scope_type.as_str() {
        "" => err(
            report,
            &sp.key("type"),
            "E-access",
            "accessScope.type must be set to namespace or cluster".into(),
        ),
        "cluster" if !scope.namespaces.is_empty() => err(
            report,
            &sp.key("namespaces"),
            "E-access",
            "namespaces cannot be listed when accessScope.type is cluster (the policy applies to the whole cluster)".into(),
        ),
        "namespace" if scope.namespaces.is_empty() => err(
            report,
            &sp.key("namespaces"),
            "E-access",
            "at least one namespace must be listed when accessScope.type is namespace".into(),
        ),
        "cluster" | "namespace" => {}
        other => err(
            report,
            &sp.key("type"),
            "E-access",
            format!("access scope type `{other}` is neither namespace nor cluster"),
        ),
    }
}
