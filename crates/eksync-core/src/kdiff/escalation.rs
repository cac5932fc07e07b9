//! What to grant when the API server refuses an RBAC object as privilege escalation: the
//! apiserver's message lists the rights the writer lacks, not the one right that would settle
//! it (`bind` on the role a binding references, `escalate` on the role being written). Text
//! only; whether an error is one is read from its message.

use serde_json::Value;

/// The apiserver's escalation refusal, as it words it.
const ESCALATION: &str = "attempting to grant RBAC permissions not currently held";

/// The right that would settle an escalation refusal of `body` (a kind of
/// `rbac.authorization.k8s.io`), or `None` when `message` is not one.
pub fn escalation_hint(kind: &str, body: &Value, message: &str) -> Option<String> {
    if !message.contains(ESCALATION) {
        return None;
    }
    let name_of = |p: &str| body.pointer(p).and_then(Value::as_str).unwrap_or("?");
    let (verb, resource, name) = match kind {
        "RoleBinding" | "ClusterRoleBinding" => {
            let resource = match name_of("/roleRef/kind") {
                "Role" => "roles",
                _ => "clusterroles",
            };
            ("bind", resource, name_of("/roleRef/name"))
        }
        "ClusterRole" => ("escalate", "clusterroles", name_of("/metadata/name")),
        "Role" => ("escalate", "roles", name_of("/metadata/name")),
        _ => return None,
    };
    Some(format!(
        "eksync cannot {verb} resource \"{resource}\" named \"{name}\": grant it `{verb}` on {resource}/{name} (as `eksync permissions` does), or every right that role holds"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const REFUSED: &str = "clusterrolebindings.rbac.authorization.k8s.io \"ca\" is forbidden: user \"u\" (groups=[\"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[\"\"], Resources:[\"events\"], Verbs:[\"create\"]}";

    #[test]
    fn bindings_need_bind_on_their_role_and_roles_need_escalate() {
        let b = json!({"roleRef": {"kind": "ClusterRole", "name": "cluster-autoscaler"}});
        assert_eq!(
            escalation_hint("ClusterRoleBinding", &b, REFUSED).as_deref(),
            Some("eksync cannot bind resource \"clusterroles\" named \"cluster-autoscaler\": grant it `bind` on clusterroles/cluster-autoscaler (as `eksync permissions` does), or every right that role holds")
        );
        let b = json!({"roleRef": {"kind": "Role", "name": "agents"}});
        assert!(escalation_hint("RoleBinding", &b, REFUSED)
            .unwrap()
            .contains("cannot bind resource \"roles\" named \"agents\""));
        let r = json!({"metadata": {"name": "reader"}});
        assert!(escalation_hint("ClusterRole", &r, REFUSED)
            .unwrap()
            .contains("cannot escalate resource \"clusterroles\" named \"reader\""));
        assert_eq!(
            escalation_hint("ClusterRole", &r, "forbidden: something else"),
            None
        );
        assert_eq!(escalation_hint("ConfigMap", &r, REFUSED), None);
    }
}
