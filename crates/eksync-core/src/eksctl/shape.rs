//! The shapes of eksctl's `ClusterConfig` schema (eksctl 0.231, `apiVersion: eksctl.io/v1alpha5`) as
//! a static table: for every object, its field names with eksctl's spelling, the shape of each
//! field's value (scalar, object, list or map of a shape, or a free-form document) and whether
//! eksync acts on it. The loader walks a raw document with it before the typed decode, so that every
//! unknown field at any depth is reported in one run, with a suggestion; and
//! [`super::ClusterConfig::unrendered_fields`] walks it to warn about each field eksync ignores.
//!
//! It deliberately does not check scalar types, required fields or values (the typed decode and
//! `load::cluster::validate` do), and it does not describe what a field means.

use serde_json::Value;

use crate::path::FieldPath;

/// The shape of a field's value.
#[derive(Debug, Clone, Copy)]
pub enum Shape {
    /// A string, number or boolean.
    Scalar,
    /// A free-form document (an IAM policy, kubelet settings): any keys are allowed.
    Any,
    Object(&'static Obj),
    ArrayOf(&'static Obj),
    ArrayOfScalar,
    MapOf(&'static Obj),
    MapOfScalar,
    /// Unmanaged node group taints: a list of taint objects, or eksctl's older map form
    /// (`key: "value:Effect"`).
    Taints(&'static Obj),
}

/// Whether eksync acts on a field (renders it, or refuses a value it cannot render), or accepts and
/// ignores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage {
    Rendered,
    /// Accepted because eksctl accepts it, ignored by eksync: the loader warns when it is set.
    Ignored,
}

#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub shape: Shape,
    pub usage: Usage,
}

/// An object of the schema: its name in eksctl's schema and its fields, sorted by name.
#[derive(Debug)]
pub struct Obj {
    pub name: &'static str,
    pub fields: &'static [Field],
}

impl Obj {
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// A field the schema does not have where it was found.
#[derive(Debug, Clone, PartialEq)]
pub struct Unknown {
    /// The path of the unknown field itself (its parent's path, then its name).
    pub path: FieldPath,
    pub name: String,
    /// The schema object it sits in (`NodeGroup`).
    pub object: &'static str,
    /// The closest field name of that object, when one is close enough to be a likely typo.
    pub suggestion: Option<&'static str>,
}

/// Removes every field `value` holds that `obj`'s schema lacks, at any depth, and returns them in
/// document order. What remains decodes into the typed model unless a value has the wrong type.
pub fn take_unknown_fields(value: &mut Value, obj: &'static Obj) -> Vec<Unknown> {
    let mut out = Vec::new();
    walk_object(value, obj, &FieldPath::root(), &mut out);
    out
}

fn walk_object(value: &mut Value, obj: &'static Obj, path: &FieldPath, out: &mut Vec<Unknown>) {
    let Value::Object(map) = value else {
        return; // a type error, which the typed decode reports
    };
    let mut unknown = Vec::new();
    for (k, v) in map.iter_mut() {
        match obj.field(k) {
            Some(f) => walk_shape(v, f.shape, &path.key(k.as_str()), out),
            None => unknown.push(k.clone()),
        }
    }
    for k in unknown {
        map.shift_remove(&k);
        out.push(Unknown {
            path: path.key(k.as_str()),
            suggestion: suggest(&k, obj),
            name: k,
            object: obj.name,
        });
    }
}

fn walk_shape(value: &mut Value, shape: Shape, path: &FieldPath, out: &mut Vec<Unknown>) {
    match (shape, value) {
        (Shape::Object(o), v) => walk_object(v, o, path, out),
        (Shape::ArrayOf(o) | Shape::Taints(o), Value::Array(items)) => {
            for (i, item) in items.iter_mut().enumerate() {
                walk_object(item, o, &path.index(i), out);
            }
        }
        (Shape::MapOf(o), Value::Object(m)) => {
            for (k, item) in m.iter_mut() {
                walk_object(item, o, &path.key(k.as_str()), out);
            }
        }
        _ => {}
    }
}

/// The paths of the fields `value` sets that eksync ignores ([`Usage::Ignored`]), in document
/// order; an ignored object is named once, not each of its fields.
pub fn ignored_fields(value: &Value, obj: &'static Obj) -> Vec<FieldPath> {
    let mut out = Vec::new();
    ignored_in_object(value, obj, &FieldPath::root(), &mut out);
    out
}

fn ignored_in_object(value: &Value, obj: &'static Obj, path: &FieldPath, out: &mut Vec<FieldPath>) {
    let Value::Object(map) = value else {
        return;
    };
    for (k, v) in map {
        let Some(f) = obj.field(k) else { continue };
        let p = path.key(k.as_str());
        if f.usage == Usage::Ignored {
            out.push(p);
            continue;
        }
        match (f.shape, v) {
            (Shape::Object(o), v) => ignored_in_object(v, o, &p, out),
            (Shape::ArrayOf(o) | Shape::Taints(o), Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    ignored_in_object(item, o, &p.index(i), out);
                }
            }
            (Shape::MapOf(o), Value::Object(m)) => {
                for (k, item) in m {
                    ignored_in_object(item, o, &p.key(k.as_str()), out);
                }
            }
            _ => {}
        }
    }
}

/// The field of `obj` closest to `name`, if it is close enough to be a typo: a case-insensitive
/// match, or an edit distance of at most a third of the name (and at least 1, at most 3).
fn suggest(name: &str, obj: &Obj) -> Option<&'static str> {
    let lower = name.to_lowercase();
    let limit = (lower.chars().count() / 3).clamp(1, 3);
    obj.fields
        .iter()
        .map(|f| (distance(&lower, &f.name.to_lowercase()), f.name))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}

/// Levenshtein distance over characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            let del = prev[j + 1] + 1;
            let ins = cur[j] + 1;
            cur.push(sub.min(del).min(ins));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Every object of the schema reachable from `ClusterConfig`, for tests and tools.
pub fn all_objects() -> Vec<&'static Obj> {
    let mut seen: Vec<&'static Obj> = Vec::new();
    let mut todo = vec![&CLUSTER_CONFIG];
    while let Some(o) = todo.pop() {
        if seen.iter().any(|s| std::ptr::eq(*s, o)) {
            continue;
        }
        seen.push(o);
        for f in o.fields {
            match f.shape {
                Shape::Object(c) | Shape::ArrayOf(c) | Shape::MapOf(c) | Shape::Taints(c) => {
                    todo.push(c)
                }
                _ => {}
            }
        }
    }
    seen.sort_by_key(|o| o.name);
    seen
}

// The table. Objects are eksctl's schema definitions under their schema names; `IdentityProvider`
// holds the fields of its only variant (`OIDCIdentityProvider`). `ClusterConfig.status` and
// `ClusterMeta.accountID` are not in eksctl's schema; eksync has always accepted them and ignores
// them.

pub static AZ_SUBNET_SPEC: Obj = Obj {
    name: "AZSubnetSpec",
    fields: &[
        Field {
            name: "az",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "cidr",
            shape: Shape::Scalar,
            usage: Usage::Ignored,
        },
        Field {
            name: "id",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
    ],
};

pub static ACCESS_CONFIG: Obj = Obj {
    name: "AccessConfig",
    fields: &[
        Field {
            name: "accessEntries",
            shape: Shape::ArrayOf(&ACCESS_ENTRY),
            usage: Usage::Rendered,
        },
        Field {
            name: "authenticationMode",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "bootstrapClusterCreatorAdminPermissions",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
    ],
};

pub static ACCESS_ENTRY: Obj = Obj {
    name: "AccessEntry",
    fields: &[
        Field {
            name: "accessPolicies",
            shape: Shape::ArrayOf(&ACCESS_POLICY),
            usage: Usage::Rendered,
        },
        Field {
            name: "kubernetesGroups",
            shape: Shape::ArrayOfScalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "kubernetesUsername",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "principalARN",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "type",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
    ],
};

pub static ACCESS_POLICY: Obj = Obj {
    name: "AccessPolicy",
    fields: &[
        Field {
            name: "accessScope",
            shape: Shape::Object(&ACCESS_SCOPE),
            usage: Usage::Rendered,
        },
        Field {
            name: "policyARN",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
    ],
};

pub static ACCESS_SCOPE: Obj = Obj {
    name: "AccessScope",
    fields: &[
        Field {
            name: "namespaces",
            shape: Shape::ArrayOfScalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "type",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
    ],
};

pub static ADDON: Obj = Obj {
    name: "Addon",
    fields: &[
        Field {
            name: "attachPolicy",
            shape: Shape::Any,
            usage: Usage::Ignored,
        },
        Field {
            name: "attachPolicyARNs",
            shape: Shape::ArrayOfScalar,
            usage: Usage::Ignored,
        },
        Field {
            name: "configurationValues",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "name",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "namespaceConfig",
            shape: Shape::Object(&ADDON_NAMESPACE_CONFIG),
            usage: Usage::Ignored,
        },
        Field {
            name: "owners",
            shape: Shape::ArrayOfScalar,
            usage: Usage::Ignored,
        },
        Field {
            name: "permissionsBoundary",
            shape: Shape::Scalar,
            usage: Usage::Ignored,
        },
        Field {
            name: "podIdentityAssociations",
            shape: Shape::ArrayOf(&POD_IDENTITY_ASSOCIATION),
            usage: Usage::Ignored,
        },
        Field {
            name: "publishers",
            shape: Shape::ArrayOfScalar,
            usage: Usage::Ignored,
        },
        Field {
            name: "resolveConflicts",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "serviceAccountRoleARN",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "tags",
            shape: Shape::MapOfScalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "types",
            shape: Shape::ArrayOfScalar,
            usage: Usage::Ignored,
        },
        Field {
            name: "useDefaultPodIdentityAssociations",
            shape: Shape::Scalar,
            usage: Usage::Ignored,
        },
        Field {
            name: "version",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "wellKnownPolicies",
            shape: Shape::Object(&WELL_KNOWN_POLICIES),
            usage: Usage::Ignored,
        },
    ],
};

pub static ADDON_NAMESPACE_CONFIG: Obj = Obj {
    name: "AddonNamespaceConfig",
    fields: &[Field {
        name: "namespace",
        shape: Shape::Scalar,
        usage: Usage::Rendered,
    }],
};

pub static ADDONS_CONFIG: Obj = Obj {
    name: "AddonsConfig",
    fields: &[
        Field {
            name: "autoApplyPodIdentityAssociations",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "disableDefaultAddons",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
    ],
};

pub static ARGO_CDAWSIDC: Obj = Obj {
    name: "ArgoCDAWSIDC",
    fields: &[
        Field {
            name: "idcInstanceArn",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "idcRegion",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
    ],
};

pub static ARGO_CD_CONFIGURATION: Obj = Obj {
    name: "ArgoCDConfiguration",
    fields: &[
        Field {
            name: "awsIdc",
            shape: Shape::Object(&ARGO_CDAWSIDC),
            usage: Usage::Rendered,
        },
        Field {
            name: "namespace",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "networkAccess",
            shape: Shape::Object(&ARGO_CD_NETWORK_ACCESS),
            usage: Usage::Rendered,
        },
        Field {
            name: "rbacRoleMappings",
            shape: Shape::ArrayOf(&ARGO_CD_ROLE_MAPPING),
            usage: Usage::Rendered,
        },
    ],
};

pub static ARGO_CD_NETWORK_ACCESS: Obj = Obj {
    name: "ArgoCDNetworkAccess",
    fields: &[Field {
        name: "vpceIds",
        shape: Shape::ArrayOfScalar,
        usage: Usage::Rendered,
    }],
};

pub static ARGO_CD_ROLE_MAPPING: Obj = Obj {
    name: "ArgoCDRoleMapping",
    fields: &[
        Field {
            name: "identities",
            shape: Shape::ArrayOf(&SSO_IDENTITY),
            usage: Usage::Rendered,
        },
        Field {
            name: "role",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
    ],
};

pub static AUTO_MODE_CONFIG: Obj = Obj {
    name: "AutoModeConfig",
    fields: &[
        Field {
            name: "enabled",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "nodePools",
            shape: Shape::ArrayOfScalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "nodeRoleARN",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "permissionsBoundaryARN",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
    ],
};

pub static CAPABILITY: Obj = Obj {
    name: "Capability",
    fields: &[
        Field {
            name: "accessPolicies",
            shape: Shape::ArrayOf(&ACCESS_POLICY),
            usage: Usage::Rendered,
        },
        Field {
            name: "attachPolicy",
            shape: Shape::Any,
            usage: Usage::Rendered,
        },
        Field {
            name: "attachPolicyARNs",
            shape: Shape::ArrayOfScalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "configuration",
            shape: Shape::Object(&CAPABILITY_CONFIGURATION),
            usage: Usage::Rendered,
        },
        Field {
            name: "deletePropagationPolicy",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "name",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "permissionsBoundary",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "roleArn",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "tags",
            shape: Shape::MapOfScalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "type",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
    ],
};

pub static CAPABILITY_CONFIGURATION: Obj = Obj {
    name: "CapabilityConfiguration",
    fields: &[Field {
        name: "argocd",
        shape: Shape::Object(&ARGO_CD_CONFIGURATION),
        usage: Usage::Rendered,
    }],
};

pub static CAPACITY_RESERVATION: Obj = Obj {
    name: "CapacityReservation",
    fields: &[
        Field {
            name: "capacityReservationPreference",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "capacityReservationTarget",
            shape: Shape::Object(&CAPACITY_RESERVATION_TARGET),
            usage: Usage::Rendered,
        },
    ],
};

pub static CAPACITY_RESERVATION_TARGET: Obj = Obj {
    name: "CapacityReservationTarget",
    fields: &[
        Field {
            name: "capacityReservationID",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "capacityReservationResourceGroupARN",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
    ],
};

pub static CLUSTER_CLOUD_WATCH: Obj = Obj {
    name: "ClusterCloudWatch",
    fields: &[Field {
        name: "clusterLogging",
        shape: Shape::Object(&CLUSTER_CLOUD_WATCH_LOGGING),
        usage: Usage::Rendered,
    }],
};

pub static CLUSTER_CLOUD_WATCH_LOGGING: Obj = Obj {
    name: "ClusterCloudWatchLogging",
    fields: &[
        Field {
            name: "enableTypes",
            shape: Shape::ArrayOfScalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "logRetentionInDays",
            shape: Shape::Scalar,
            usage: Usage::Ignored,
        },
    ],
};

pub static CLUSTER_CONFIG: Obj = Obj {
    name: "ClusterConfig",
    fields: &[
        Field {
            name: "accessConfig",
            shape: Shape::Object(&ACCESS_CONFIG),
            usage: Usage::Rendered,
        },
        Field {
            name: "addons",
            shape: Shape::ArrayOf(&ADDON),
            usage: Usage::Rendered,
        },
        Field {
            name: "addonsConfig",
            shape: Shape::Object(&ADDONS_CONFIG),
            usage: Usage::Ignored,
        },
        Field {
            name: "apiVersion",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "autoModeConfig",
            shape: Shape::Object(&AUTO_MODE_CONFIG),
            usage: Usage::Ignored,
        },
        Field {
            name: "availabilityZones",
            shape: Shape::ArrayOfScalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "capabilities",
            shape: Shape::ArrayOf(&CAPABILITY),
            usage: Usage::Ignored,
        },
        Field {
            name: "cloudWatch",
            shape: Shape::Object(&CLUSTER_CLOUD_WATCH),
            usage: Usage::Rendered,
        },
        Field {
            name: "controlPlaneScalingConfig",
            shape: Shape::Object(&CONTROL_PLANE_SCALING_CONFIG),
            usage: Usage::Rendered,
        },
        Field {
            name: "fargateProfiles",
            shape: Shape::ArrayOf(&FARGATE_PROFILE),
            usage: Usage::Rendered,
        },
        Field {
            name: "gitops",
            shape: Shape::Object(&GIT_OPS),
            usage: Usage::Ignored,
        },
        Field {
            name: "iam",
            shape: Shape::Object(&CLUSTER_IAM),
            usage: Usage::Rendered,
        },
        Field {
            name: "iamIdentityMappings",
            shape: Shape::ArrayOf(&IAM_IDENTITY_MAPPING),
            usage: Usage::Ignored,
        },
        Field {
            name: "identityProviders",
            shape: Shape::ArrayOf(&IDENTITY_PROVIDER),
            usage: Usage::Ignored,
        },
        Field {
            name: "karpenter",
            shape: Shape::Object(&KARPENTER),
            usage: Usage::Ignored,
        },
        Field {
            name: "kind",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "kubeAPIServerConfig",
            shape: Shape::Object(&KUBE_API_SERVER_CONFIG),
            usage: Usage::Ignored,
        },
        Field {
            name: "kubeControllerManagerConfig",
            shape: Shape::Object(&KUBE_CONTROLLER_MANAGER_CONFIG),
            usage: Usage::Ignored,
        },
        Field {
            name: "kubeSchedulerConfig",
            shape: Shape::Object(&KUBE_SCHEDULER_CONFIG),
            usage: Usage::Ignored,
        },
        Field {
            name: "kubernetesNetworkConfig",
            shape: Shape::Object(&KUBERNETES_NETWORK_CONFIG),
            usage: Usage::Rendered,
        },
        Field {
            name: "localZones",
            shape: Shape::ArrayOfScalar,
            usage: Usage::Ignored,
        },
        Field {
            name: "managedNodeGroups",
            shape: Shape::ArrayOf(&MANAGED_NODE_GROUP),
            usage: Usage::Rendered,
        },
        Field {
            name: "metadata",
            shape: Shape::Object(&CLUSTER_META),
            usage: Usage::Rendered,
        },
        Field {
            name: "nodeGroups",
            shape: Shape::ArrayOf(&NODE_GROUP),
            usage: Usage::Rendered,
        },
        Field {
            name: "outpost",
            shape: Shape::Object(&OUTPOST),
            usage: Usage::Rendered,
        },
        Field {
            name: "privateCluster",
            shape: Shape::Object(&PRIVATE_CLUSTER),
            usage: Usage::Rendered,
        },
        Field {
            name: "remoteNetworkConfig",
            shape: Shape::Object(&REMOTE_NETWORK_CONFIG),
            usage: Usage::Ignored,
        },
        Field {
            name: "secretsEncryption",
            shape: Shape::Object(&SECRETS_ENCRYPTION),
            usage: Usage::Rendered,
        },
        Field {
            name: "status",
            shape: Shape::Any,
            usage: Usage::Ignored,
        },
        Field {
            name: "upgradePolicy",
            shape: Shape::Object(&UPGRADE_POLICY),
            usage: Usage::Rendered,
        },
        Field {
            name: "vpc",
            shape: Shape::Object(&CLUSTER_VPC),
            usage: Usage::Rendered,
        },
        Field {
            name: "zonalShiftConfig",
            shape: Shape::Object(&ZONAL_SHIFT_CONFIG),
            usage: Usage::Rendered,
        },
    ],
};

pub static CLUSTER_ENDPOINTS: Obj = Obj {
    name: "ClusterEndpoints",
    fields: &[
        Field {
            name: "privateAccess",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "publicAccess",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
    ],
};

pub static CLUSTER_IAM: Obj = Obj {
    name: "ClusterIAM",
    fields: &[
        Field {
            name: "fargatePodExecutionRoleARN",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "fargatePodExecutionRolePermissionsBoundary",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "podIdentityAssociations",
            shape: Shape::ArrayOf(&POD_IDENTITY_ASSOCIATION),
            usage: Usage::Rendered,
        },
        Field {
            name: "serviceAccounts",
            shape: Shape::ArrayOf(&CLUSTER_IAM_SERVICE_ACCOUNT),
            usage: Usage::Rendered,
        },
        Field {
            name: "serviceRoleARN",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "serviceRolePermissionsBoundary",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "vpcResourceControllerPolicy",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "withOIDC",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
    ],
};

pub static CLUSTER_IAM_META: Obj = Obj {
    name: "ClusterIAMMeta",
    fields: &[
        Field {
            name: "annotations",
            shape: Shape::MapOfScalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "labels",
            shape: Shape::MapOfScalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "name",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "namespace",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
    ],
};

pub static CLUSTER_IAM_SERVICE_ACCOUNT: Obj = Obj {
    name: "ClusterIAMServiceAccount",
    fields: &[
        Field {
            name: "attachPolicy",
            shape: Shape::Any,
            usage: Usage::Rendered,
        },
        Field {
            name: "attachPolicyARNs",
            shape: Shape::ArrayOfScalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "attachRoleARN",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "metadata",
            shape: Shape::Object(&CLUSTER_IAM_META),
            usage: Usage::Rendered,
        },
        Field {
            name: "permissionsBoundary",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "roleName",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "roleOnly",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "status",
            shape: Shape::Object(&CLUSTER_IAM_SERVICE_ACCOUNT_STATUS),
            usage: Usage::Ignored,
        },
        Field {
            name: "subjectPattern",
            shape: Shape::Scalar,
            usage: Usage::Ignored,
        },
        Field {
            name: "tags",
            shape: Shape::MapOfScalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "wellKnownPolicies",
            shape: Shape::Object(&WELL_KNOWN_POLICIES),
            usage: Usage::Rendered,
        },
    ],
};

pub static CLUSTER_IAM_SERVICE_ACCOUNT_STATUS: Obj = Obj {
    name: "ClusterIAMServiceAccountStatus",
    fields: &[
        Field {
            name: "capabilities",
            shape: Shape::ArrayOfScalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "roleARN",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "stackName",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "tags",
            shape: Shape::MapOfScalar,
            usage: Usage::Rendered,
        },
    ],
};

pub static CLUSTER_META: Obj = Obj {
    name: "ClusterMeta",
    fields: &[
        Field {
            name: "accountID",
            shape: Shape::Scalar,
            usage: Usage::Ignored,
        },
        Field {
            name: "annotations",
            shape: Shape::MapOfScalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "forceUpdateVersion",
            shape: Shape::Scalar,
            usage: Usage::Ignored,
        },
        Field {
            name: "name",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "region",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "rollbackConfig",
            shape: Shape::Object(&ROLLBACK_CONFIG),
            usage: Usage::Ignored,
        },
        Field {
            name: "tags",
            shape: Shape::MapOfScalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "version",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
    ],
};

pub static CLUSTER_NAT: Obj = Obj {
    name: "ClusterNAT",
    fields: &[Field {
        name: "gateway",
        shape: Shape::Scalar,
        usage: Usage::Rendered,
    }],
};

pub static CLUSTER_SUBNETS: Obj = Obj {
    name: "ClusterSubnets",
    fields: &[
        Field {
            name: "private",
            shape: Shape::MapOf(&AZ_SUBNET_SPEC),
            usage: Usage::Rendered,
        },
        Field {
            name: "public",
            shape: Shape::MapOf(&AZ_SUBNET_SPEC),
            usage: Usage::Rendered,
        },
    ],
};

pub static CLUSTER_VPC: Obj = Obj {
    name: "ClusterVPC",
    fields: &[
        Field {
            name: "autoAllocateIPv6",
            shape: Shape::Scalar,
            usage: Usage::Ignored,
        },
        Field {
            name: "cidr",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "clusterEndpoints",
            shape: Shape::Object(&CLUSTER_ENDPOINTS),
            usage: Usage::Rendered,
        },
        Field {
            name: "controlPlaneEgressMode",
            shape: Shape::Scalar,
            usage: Usage::Ignored,
        },
        Field {
            name: "controlPlaneOnPrivateSubnets",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "controlPlaneSecurityGroupIDs",
            shape: Shape::ArrayOfScalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "controlPlaneSubnetIDs",
            shape: Shape::ArrayOfScalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "extraCIDRs",
            shape: Shape::ArrayOfScalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "extraIPv6CIDRs",
            shape: Shape::ArrayOfScalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "hostnameType",
            shape: Shape::Scalar,
            usage: Usage::Ignored,
        },
        Field {
            name: "id",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "ipv6Cidr",
            shape: Shape::Scalar,
            usage: Usage::Ignored,
        },
        Field {
            name: "ipv6Pool",
            shape: Shape::Scalar,
            usage: Usage::Ignored,
        },
        Field {
            name: "manageSharedNodeSecurityGroupRules",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "nat",
            shape: Shape::Object(&CLUSTER_NAT),
            usage: Usage::Rendered,
        },
        Field {
            name: "publicAccessCIDRs",
            shape: Shape::ArrayOfScalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "securityGroup",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "sharedNodeSecurityGroup",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "subnets",
            shape: Shape::Object(&CLUSTER_SUBNETS),
            usage: Usage::Rendered,
        },
    ],
};

pub static CONTROL_PLANE_SCALING_CONFIG: Obj = Obj {
    name: "ControlPlaneScalingConfig",
    fields: &[Field {
        name: "tier",
        shape: Shape::Scalar,
        usage: Usage::Rendered,
    }],
};

pub static FARGATE_PROFILE: Obj = Obj {
    name: "FargateProfile",
    fields: &[
        Field {
            name: "name",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "podExecutionRoleARN",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "selectors",
            shape: Shape::ArrayOf(&FARGATE_PROFILE_SELECTOR),
            usage: Usage::Rendered,
        },
        Field {
            name: "status",
            shape: Shape::Scalar,
            usage: Usage::Ignored,
        },
        Field {
            name: "subnets",
            shape: Shape::ArrayOfScalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "tags",
            shape: Shape::MapOfScalar,
            usage: Usage::Rendered,
        },
    ],
};

pub static FARGATE_PROFILE_SELECTOR: Obj = Obj {
    name: "FargateProfileSelector",
    fields: &[
        Field {
            name: "labels",
            shape: Shape::MapOfScalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "namespace",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
    ],
};

pub static FLUX: Obj = Obj {
    name: "Flux",
    fields: &[
        Field {
            name: "flags",
            shape: Shape::MapOfScalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "gitProvider",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
    ],
};

pub static GIT_OPS: Obj = Obj {
    name: "GitOps",
    fields: &[Field {
        name: "flux",
        shape: Shape::Object(&FLUX),
        usage: Usage::Rendered,
    }],
};

pub static HORIZONTAL_POD_AUTOSCALER_CONTROLLER_CONFIG: Obj = Obj {
    name: "HorizontalPodAutoscalerControllerConfig",
    fields: &[Field {
        name: "horizontalPodAutoscalerSyncPeriod",
        shape: Shape::Scalar,
        usage: Usage::Rendered,
    }],
};

pub static IAM_IDENTITY_MAPPING: Obj = Obj {
    name: "IAMIdentityMapping",
    fields: &[
        Field {
            name: "account",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "arn",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "groups",
            shape: Shape::ArrayOfScalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "namespace",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "noDuplicateARNs",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "serviceName",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "username",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
    ],
};

pub static IDENTITY_PROVIDER: Obj = Obj {
    name: "IdentityProvider",
    fields: &[
        Field {
            name: "clientID",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "groupsClaim",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "groupsPrefix",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "issuerURL",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "name",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "requiredClaims",
            shape: Shape::MapOfScalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "tags",
            shape: Shape::MapOfScalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "type",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "usernameClaim",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "usernamePrefix",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
    ],
};

pub static INSTANCE_MARKET_OPTIONS: Obj = Obj {
    name: "InstanceMarketOptions",
    fields: &[Field {
        name: "marketType",
        shape: Shape::Scalar,
        usage: Usage::Rendered,
    }],
};

pub static INSTANCE_SELECTOR: Obj = Obj {
    name: "InstanceSelector",
    fields: &[
        Field {
            name: "allow",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "cpuArchitecture",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "deny",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "gpus",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "memory",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "neuron_devices",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "vCPUs",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
    ],
};

pub static KARPENTER: Obj = Obj {
    name: "Karpenter",
    fields: &[
        Field {
            name: "createServiceAccount",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "defaultInstanceProfile",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "version",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "withSpotInterruptionQueue",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
    ],
};

pub static KUBE_API_SERVER_CONFIG: Obj = Obj {
    name: "KubeAPIServerConfig",
    fields: &[
        Field {
            name: "eventTTL",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "serviceNodePortRange",
            shape: Shape::Object(&SERVICE_NODE_PORT_RANGE),
            usage: Usage::Rendered,
        },
    ],
};

pub static KUBE_CONTROLLER_MANAGER_CONFIG: Obj = Obj {
    name: "KubeControllerManagerConfig",
    fields: &[Field {
        name: "horizontalPodAutoscalerControllerConfig",
        shape: Shape::Object(&HORIZONTAL_POD_AUTOSCALER_CONTROLLER_CONFIG),
        usage: Usage::Rendered,
    }],
};

pub static KUBE_SCHEDULER_CONFIG: Obj = Obj {
    name: "KubeSchedulerConfig",
    fields: &[Field {
        name: "nodeResourcesFit",
        shape: Shape::Object(&NODE_RESOURCES_FIT_CONFIG),
        usage: Usage::Rendered,
    }],
};

pub static KUBERNETES_NETWORK_CONFIG: Obj = Obj {
    name: "KubernetesNetworkConfig",
    fields: &[
        Field {
            name: "ipFamily",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "serviceIPv4CIDR",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "serviceIPv6CIDR",
            shape: Shape::Scalar,
            usage: Usage::Ignored,
        },
    ],
};

pub static LAUNCH_TEMPLATE: Obj = Obj {
    name: "LaunchTemplate",
    fields: &[
        Field {
            name: "id",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "version",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
    ],
};

pub static MANAGED_NODE_GROUP: Obj = Obj {
    name: "ManagedNodeGroup",
    fields: &[
        Field {
            name: "additionalVolumes",
            shape: Shape::ArrayOf(&VOLUME_MAPPING),
            usage: Usage::Ignored,
        },
        Field {
            name: "ami",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "amiFamily",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "asgSuspendProcesses",
            shape: Shape::ArrayOfScalar,
            usage: Usage::Ignored,
        },
        Field {
            name: "availabilityZones",
            shape: Shape::ArrayOfScalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "bottlerocket",
            shape: Shape::Object(&NODE_GROUP_BOTTLEROCKET),
            usage: Usage::Ignored,
        },
        Field {
            name: "capacityReservation",
            shape: Shape::Object(&CAPACITY_RESERVATION),
            usage: Usage::Ignored,
        },
        Field {
            name: "desiredCapacity",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "disableIMDSv1",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "disablePodIMDS",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "ebsOptimized",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "efaEnabled",
            shape: Shape::Scalar,
            usage: Usage::Ignored,
        },
        Field {
            name: "enableDetailedMonitoring",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "iam",
            shape: Shape::Object(&MANAGED_NODE_GROUP_IAM),
            usage: Usage::Rendered,
        },
        Field {
            name: "instanceMarketOptions",
            shape: Shape::Object(&INSTANCE_MARKET_OPTIONS),
            usage: Usage::Ignored,
        },
        Field {
            name: "instanceName",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "instancePrefix",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "instanceSelector",
            shape: Shape::Object(&INSTANCE_SELECTOR),
            usage: Usage::Ignored,
        },
        Field {
            name: "instanceType",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "instanceTypes",
            shape: Shape::ArrayOfScalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "labels",
            shape: Shape::MapOfScalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "launchTemplate",
            shape: Shape::Object(&LAUNCH_TEMPLATE),
            usage: Usage::Rendered,
        },
        Field {
            name: "maxPodsPerNode",
            shape: Shape::Scalar,
            usage: Usage::Ignored,
        },
        Field {
            name: "maxSize",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "minSize",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "name",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "nodeRepairConfig",
            shape: Shape::Object(&NODE_GROUP_NODE_REPAIR_CONFIG),
            usage: Usage::Ignored,
        },
        Field {
            name: "outpostARN",
            shape: Shape::Scalar,
            usage: Usage::Ignored,
        },
        Field {
            name: "overrideBootstrapCommand",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "placement",
            shape: Shape::Object(&PLACEMENT),
            usage: Usage::Ignored,
        },
        Field {
            name: "preBootstrapCommands",
            shape: Shape::ArrayOfScalar,
            usage: Usage::Ignored,
        },
        Field {
            name: "privateNetworking",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "propagateASGTags",
            shape: Shape::Scalar,
            usage: Usage::Ignored,
        },
        Field {
            name: "releaseVersion",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "securityGroups",
            shape: Shape::Object(&MANAGED_NODE_GROUP_SGS),
            usage: Usage::Rendered,
        },
        Field {
            name: "spot",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "ssh",
            shape: Shape::Object(&NODE_GROUP_SSH),
            usage: Usage::Rendered,
        },
        Field {
            name: "subnets",
            shape: Shape::ArrayOfScalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "tags",
            shape: Shape::MapOfScalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "taints",
            shape: Shape::ArrayOf(&NODE_GROUP_TAINT),
            usage: Usage::Rendered,
        },
        Field {
            name: "updateConfig",
            shape: Shape::Object(&NODE_GROUP_UPDATE_CONFIG),
            usage: Usage::Rendered,
        },
        Field {
            name: "volumeEncrypted",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "volumeIOPS",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "volumeKmsKeyID",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "volumeName",
            shape: Shape::Scalar,
            usage: Usage::Ignored,
        },
        Field {
            name: "volumeSize",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "volumeThroughput",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "volumeType",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
    ],
};

/// As used by managed node groups.
pub static MANAGED_NODE_GROUP_SGS: Obj = Obj {
    name: "NodeGroupSGs",
    fields: &[
        Field {
            name: "attachIDs",
            shape: Shape::ArrayOfScalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "withLocal",
            shape: Shape::Scalar,
            usage: Usage::Ignored,
        },
        Field {
            name: "withShared",
            shape: Shape::Scalar,
            usage: Usage::Ignored,
        },
    ],
};

/// As used by managed node groups.
pub static MANAGED_NODE_GROUP_IAM: Obj = Obj {
    name: "NodeGroupIAM",
    fields: &[
        Field {
            name: "attachPolicy",
            shape: Shape::Any,
            usage: Usage::Rendered,
        },
        Field {
            name: "attachPolicyARNs",
            shape: Shape::ArrayOfScalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "instanceProfileARN",
            shape: Shape::Scalar,
            usage: Usage::Ignored,
        },
        Field {
            name: "instanceRoleARN",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "instanceRoleName",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "instanceRolePermissionsBoundary",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "withAddonPolicies",
            shape: Shape::Object(&NODE_GROUP_IAM_ADDON_POLICIES),
            usage: Usage::Rendered,
        },
    ],
};

pub static METRICS_COLLECTION: Obj = Obj {
    name: "MetricsCollection",
    fields: &[
        Field {
            name: "granularity",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "metrics",
            shape: Shape::ArrayOfScalar,
            usage: Usage::Rendered,
        },
    ],
};

pub static NODE_GROUP: Obj = Obj {
    name: "NodeGroup",
    fields: &[
        Field {
            name: "additionalVolumes",
            shape: Shape::ArrayOf(&VOLUME_MAPPING),
            usage: Usage::Ignored,
        },
        Field {
            name: "ami",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "amiFamily",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "asgMetricsCollection",
            shape: Shape::ArrayOf(&METRICS_COLLECTION),
            usage: Usage::Ignored,
        },
        Field {
            name: "asgSuspendProcesses",
            shape: Shape::ArrayOfScalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "availabilityZones",
            shape: Shape::ArrayOfScalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "bottlerocket",
            shape: Shape::Object(&NODE_GROUP_BOTTLEROCKET),
            usage: Usage::Rendered,
        },
        Field {
            name: "capacityReservation",
            shape: Shape::Object(&CAPACITY_RESERVATION),
            usage: Usage::Ignored,
        },
        Field {
            name: "classicLoadBalancerNames",
            shape: Shape::ArrayOfScalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "clusterDNS",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "containerRuntime",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "cpuCredits",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "desiredCapacity",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "disableIMDSv1",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "disablePodIMDS",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "ebsOptimized",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "efaEnabled",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "enableDetailedMonitoring",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "enclaveEnabled",
            shape: Shape::Scalar,
            usage: Usage::Ignored,
        },
        Field {
            name: "iam",
            shape: Shape::Object(&NODE_GROUP_IAM),
            usage: Usage::Rendered,
        },
        Field {
            name: "instanceMarketOptions",
            shape: Shape::Object(&INSTANCE_MARKET_OPTIONS),
            usage: Usage::Ignored,
        },
        Field {
            name: "instanceName",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "instancePrefix",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "instanceSelector",
            shape: Shape::Object(&INSTANCE_SELECTOR),
            usage: Usage::Ignored,
        },
        Field {
            name: "instanceType",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "instancesDistribution",
            shape: Shape::Object(&NODE_GROUP_INSTANCES_DISTRIBUTION),
            usage: Usage::Rendered,
        },
        Field {
            name: "kubeletExtraConfig",
            shape: Shape::Any,
            usage: Usage::Ignored,
        },
        Field {
            name: "labels",
            shape: Shape::MapOfScalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "localZones",
            shape: Shape::ArrayOfScalar,
            usage: Usage::Ignored,
        },
        Field {
            name: "maxInstanceLifetime",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "maxPodsPerNode",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "maxSize",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "minSize",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "name",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "outpostARN",
            shape: Shape::Scalar,
            usage: Usage::Ignored,
        },
        Field {
            name: "overrideBootstrapCommand",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "placement",
            shape: Shape::Object(&PLACEMENT),
            usage: Usage::Ignored,
        },
        Field {
            name: "preBootstrapCommands",
            shape: Shape::ArrayOfScalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "privateNetworking",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "propagateASGTags",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "securityGroups",
            shape: Shape::Object(&NODE_GROUP_SGS),
            usage: Usage::Rendered,
        },
        Field {
            name: "ssh",
            shape: Shape::Object(&NODE_GROUP_SSH),
            usage: Usage::Rendered,
        },
        Field {
            name: "subnets",
            shape: Shape::ArrayOfScalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "tags",
            shape: Shape::MapOfScalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "taints",
            shape: Shape::Taints(&NODE_GROUP_TAINT),
            usage: Usage::Rendered,
        },
        Field {
            name: "targetGroupARNs",
            shape: Shape::ArrayOfScalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "updateConfig",
            shape: Shape::Object(&NODE_GROUP_UPDATE_CONFIG),
            usage: Usage::Ignored,
        },
        Field {
            name: "volumeEncrypted",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "volumeIOPS",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "volumeKmsKeyID",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "volumeName",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "volumeSize",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "volumeThroughput",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "volumeType",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
    ],
};

pub static NODE_GROUP_BOTTLEROCKET: Obj = Obj {
    name: "NodeGroupBottlerocket",
    fields: &[
        Field {
            name: "enableAdminContainer",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "settings",
            shape: Shape::Any,
            usage: Usage::Rendered,
        },
    ],
};

pub static NODE_GROUP_IAM: Obj = Obj {
    name: "NodeGroupIAM",
    fields: &[
        Field {
            name: "attachPolicy",
            shape: Shape::Any,
            usage: Usage::Rendered,
        },
        Field {
            name: "attachPolicyARNs",
            shape: Shape::ArrayOfScalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "instanceProfileARN",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "instanceRoleARN",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "instanceRoleName",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "instanceRolePermissionsBoundary",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "withAddonPolicies",
            shape: Shape::Object(&NODE_GROUP_IAM_ADDON_POLICIES),
            usage: Usage::Rendered,
        },
    ],
};

pub static NODE_GROUP_IAM_ADDON_POLICIES: Obj = Obj {
    name: "NodeGroupIAMAddonPolicies",
    fields: &[
        Field {
            name: "albIngress",
            shape: Shape::Scalar,
            usage: Usage::Ignored,
        },
        Field {
            name: "appMesh",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "appMeshPreview",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "autoScaler",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "awsLoadBalancerController",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "certManager",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "cloudWatch",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "ebs",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "efs",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "externalDNS",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "fsx",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "imageBuilder",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "xRay",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
    ],
};

pub static NODE_GROUP_INSTANCES_DISTRIBUTION: Obj = Obj {
    name: "NodeGroupInstancesDistribution",
    fields: &[
        Field {
            name: "capacityRebalance",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "instanceTypes",
            shape: Shape::ArrayOfScalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "maxPrice",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "onDemandBaseCapacity",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "onDemandPercentageAboveBaseCapacity",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "spotAllocationStrategy",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "spotInstancePools",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
    ],
};

pub static NODE_GROUP_NODE_REPAIR_CONFIG: Obj = Obj {
    name: "NodeGroupNodeRepairConfig",
    fields: &[
        Field {
            name: "enabled",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "maxParallelNodesRepairedCount",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "maxParallelNodesRepairedPercentage",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "maxUnhealthyNodeThresholdCount",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "maxUnhealthyNodeThresholdPercentage",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "nodeRepairConfigOverrides",
            shape: Shape::ArrayOf(&NODE_REPAIR_CONFIG_OVERRIDE),
            usage: Usage::Rendered,
        },
    ],
};

pub static NODE_GROUP_SGS: Obj = Obj {
    name: "NodeGroupSGs",
    fields: &[
        Field {
            name: "attachIDs",
            shape: Shape::ArrayOfScalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "withLocal",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "withShared",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
    ],
};

pub static NODE_GROUP_SSH: Obj = Obj {
    name: "NodeGroupSSH",
    fields: &[
        Field {
            name: "allow",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "enableSsm",
            shape: Shape::Scalar,
            usage: Usage::Ignored,
        },
        Field {
            name: "publicKey",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "publicKeyName",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "publicKeyPath",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "sourceSecurityGroupIds",
            shape: Shape::ArrayOfScalar,
            usage: Usage::Rendered,
        },
    ],
};

pub static NODE_GROUP_TAINT: Obj = Obj {
    name: "NodeGroupTaint",
    fields: &[
        Field {
            name: "effect",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "key",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "value",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
    ],
};

pub static NODE_GROUP_UPDATE_CONFIG: Obj = Obj {
    name: "NodeGroupUpdateConfig",
    fields: &[
        Field {
            name: "maxUnavailable",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "maxUnavailablePercentage",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
    ],
};

pub static NODE_REPAIR_CONFIG_OVERRIDE: Obj = Obj {
    name: "NodeRepairConfigOverride",
    fields: &[
        Field {
            name: "minRepairWaitTimeMins",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "nodeMonitoringCondition",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "nodeUnhealthyReason",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "repairAction",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
    ],
};

pub static NODE_RESOURCES_FIT_CONFIG: Obj = Obj {
    name: "NodeResourcesFitConfig",
    fields: &[Field {
        name: "scoringStrategy",
        shape: Shape::Object(&SCORING_STRATEGY),
        usage: Usage::Rendered,
    }],
};

pub static OUTPOST: Obj = Obj {
    name: "Outpost",
    fields: &[
        Field {
            name: "controlPlaneInstanceType",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "controlPlaneOutpostARN",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "controlPlanePlacement",
            shape: Shape::Object(&PLACEMENT),
            usage: Usage::Rendered,
        },
        Field {
            name: "etcdInstanceType",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "etcdPlacement",
            shape: Shape::Object(&PLACEMENT),
            usage: Usage::Rendered,
        },
    ],
};

pub static PLACEMENT: Obj = Obj {
    name: "Placement",
    fields: &[
        Field {
            name: "groupName",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "spreadLevel",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
    ],
};

pub static POD_IDENTITY_ASSOCIATION: Obj = Obj {
    name: "PodIdentityAssociation",
    fields: &[
        Field {
            name: "createServiceAccount",
            shape: Shape::Scalar,
            usage: Usage::Ignored,
        },
        Field {
            name: "disableSessionTags",
            shape: Shape::Scalar,
            usage: Usage::Ignored,
        },
        Field {
            name: "namespace",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "permissionPolicy",
            shape: Shape::Any,
            usage: Usage::Ignored,
        },
        Field {
            name: "permissionPolicyARNs",
            shape: Shape::ArrayOfScalar,
            usage: Usage::Ignored,
        },
        Field {
            name: "permissionPolicyName",
            shape: Shape::Scalar,
            usage: Usage::Ignored,
        },
        Field {
            name: "permissionsBoundaryARN",
            shape: Shape::Scalar,
            usage: Usage::Ignored,
        },
        Field {
            name: "policy",
            shape: Shape::Scalar,
            usage: Usage::Ignored,
        },
        Field {
            name: "roleARN",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "roleName",
            shape: Shape::Scalar,
            usage: Usage::Ignored,
        },
        Field {
            name: "serviceAccountName",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "tags",
            shape: Shape::MapOfScalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "targetRoleARN",
            shape: Shape::Scalar,
            usage: Usage::Ignored,
        },
        Field {
            name: "wellKnownPolicies",
            shape: Shape::Object(&WELL_KNOWN_POLICIES),
            usage: Usage::Ignored,
        },
    ],
};

pub static PRIVATE_CLUSTER: Obj = Obj {
    name: "PrivateCluster",
    fields: &[
        Field {
            name: "additionalEndpointServices",
            shape: Shape::ArrayOfScalar,
            usage: Usage::Ignored,
        },
        Field {
            name: "enabled",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "skipEndpointCreation",
            shape: Shape::Scalar,
            usage: Usage::Ignored,
        },
    ],
};

pub static REMOTE_NETWORK: Obj = Obj {
    name: "RemoteNetwork",
    fields: &[Field {
        name: "cidrs",
        shape: Shape::ArrayOfScalar,
        usage: Usage::Rendered,
    }],
};

pub static REMOTE_NETWORK_CONFIG: Obj = Obj {
    name: "RemoteNetworkConfig",
    fields: &[
        Field {
            name: "iam",
            shape: Shape::Object(&REMOTE_NODES_IAM),
            usage: Usage::Rendered,
        },
        Field {
            name: "remoteNodeNetworks",
            shape: Shape::ArrayOf(&REMOTE_NETWORK),
            usage: Usage::Rendered,
        },
        Field {
            name: "remotePodNetworks",
            shape: Shape::ArrayOf(&REMOTE_NETWORK),
            usage: Usage::Rendered,
        },
        Field {
            name: "vpcGatewayID",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
    ],
};

pub static REMOTE_NODES_IAM: Obj = Obj {
    name: "RemoteNodesIAM",
    fields: &[
        Field {
            name: "caBundleCert",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "provider",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "roleARN",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
    ],
};

pub static RESOURCE_WEIGHT: Obj = Obj {
    name: "ResourceWeight",
    fields: &[
        Field {
            name: "name",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "weight",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
    ],
};

pub static ROLLBACK_CONFIG: Obj = Obj {
    name: "RollbackConfig",
    fields: &[Field {
        name: "timeoutMinutes",
        shape: Shape::Scalar,
        usage: Usage::Rendered,
    }],
};

pub static SSO_IDENTITY: Obj = Obj {
    name: "SSOIdentity",
    fields: &[
        Field {
            name: "id",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "type",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
    ],
};

pub static SCORING_STRATEGY: Obj = Obj {
    name: "ScoringStrategy",
    fields: &[
        Field {
            name: "resources",
            shape: Shape::ArrayOf(&RESOURCE_WEIGHT),
            usage: Usage::Rendered,
        },
        Field {
            name: "type",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
    ],
};

pub static SECRETS_ENCRYPTION: Obj = Obj {
    name: "SecretsEncryption",
    fields: &[Field {
        name: "keyARN",
        shape: Shape::Scalar,
        usage: Usage::Rendered,
    }],
};

pub static SERVICE_NODE_PORT_RANGE: Obj = Obj {
    name: "ServiceNodePortRange",
    fields: &[
        Field {
            name: "maxPort",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "minPort",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
    ],
};

pub static UPGRADE_POLICY: Obj = Obj {
    name: "UpgradePolicy",
    fields: &[Field {
        name: "supportType",
        shape: Shape::Scalar,
        usage: Usage::Rendered,
    }],
};

pub static VOLUME_MAPPING: Obj = Obj {
    name: "VolumeMapping",
    fields: &[
        Field {
            name: "snapshotID",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "volumeEncrypted",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "volumeIOPS",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "volumeKmsKeyID",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "volumeName",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "volumeSize",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "volumeThroughput",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "volumeType",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
    ],
};

pub static WELL_KNOWN_POLICIES: Obj = Obj {
    name: "WellKnownPolicies",
    fields: &[
        Field {
            name: "autoScaler",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "awsLoadBalancerController",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "certManager",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "ebsCSIController",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "efsCSIController",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "externalDNS",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
        Field {
            name: "imageBuilder",
            shape: Shape::Scalar,
            usage: Usage::Rendered,
        },
    ],
};

pub static ZONAL_SHIFT_CONFIG: Obj = Obj {
    name: "ZonalShiftConfig",
    fields: &[Field {
        name: "enabled",
        shape: Shape::Scalar,
        usage: Usage::Rendered,
    }],
};

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_object_lists_its_fields_once_in_order() {
        for o in all_objects() {
            let names: Vec<&str> = o.fields.iter().map(|f| f.name).collect();
            let mut sorted = names.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(names, sorted, "{}", o.name);
        }
    }

    #[test]
    fn unknown_fields_are_taken_out_at_any_depth_with_a_suggestion() {
        let mut v = json!({
            "metadata": {"name": "c", "regin": "eu-west-1"},
            "vpc": {"nat": {"gateway": "Single", "gatewya": 1}},
            "iam": {"serviceAccounts": [{"wellKnownPolicies": {"ebsCSIControler": true}}]},
            "nodeGroups": [{"name": "a", "taints": {"k": "v:NoSchedule"}, "zzz": 1}],
            "addons": [{"name": "vpc-cni", "configurationValues": "{}", "attachPolicy": {"any": 1}}]
        });
        let found: Vec<(String, Option<&str>)> = take_unknown_fields(&mut v, &CLUSTER_CONFIG)
            .into_iter()
            .map(|u| (u.path.to_string(), u.suggestion))
            .collect();
        assert_eq!(
            found,
            vec![
                ("metadata.regin".to_string(), Some("region")),
                ("vpc.nat.gatewya".to_string(), Some("gateway")),
                (
                    "iam.serviceAccounts[0].wellKnownPolicies.ebsCSIControler".to_string(),
                    Some("ebsCSIController")
                ),
                ("nodeGroups[0].zzz".to_string(), None),
            ]
        );
        assert_eq!(v["vpc"]["nat"], json!({"gateway": "Single"}));
        assert!(v["nodeGroups"][0].get("zzz").is_none());
    }

    #[test]
    fn ignored_objects_are_named_once() {
        let v = json!({
            "metadata": {"name": "c", "region": "eu-west-1", "forceUpdateVersion": true},
            "addons": [{"name": "vpc-cni", "wellKnownPolicies": {"ebsCSIController": true}}],
            "managedNodeGroups": [{"name": "m", "maxPodsPerNode": 20, "nodeRepairConfig": {"enabled": true}}]
        });
        let paths: Vec<String> = ignored_fields(&v, &CLUSTER_CONFIG)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            paths,
            [
                "metadata.forceUpdateVersion",
                "addons[0].wellKnownPolicies",
                "managedNodeGroups[0].maxPodsPerNode",
                "managedNodeGroups[0].nodeRepairConfig"
            ]
        );
    }
}
