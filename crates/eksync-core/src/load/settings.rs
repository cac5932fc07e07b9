//! `eksync.yaml`: the repo's settings (which paths hold what, excludes, default namespace, which
//! cluster manifests belong to). Decoding and validation only; applying them is the loader's job.

use globset::Glob;
use serde::Deserialize;
use serde_json::Value;

use super::{decode, syntax, Ctx};
use crate::model::{ClusterPaths, Origin, Settings, EKSYNC_API_VERSION};
use crate::path::FieldPath;
use crate::yaml;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SettingsDoc {
    api_version: String,
    kind: String,
    #[serde(default)]
    #[allow(dead_code)]
    metadata: Option<Value>,
    #[serde(default)]
    spec: SettingsSpec,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SettingsSpec {
    default_namespace: Option<String>,
    include: Option<Vec<String>>,
    #[serde(default)]
    exclude: Vec<String>,
    #[serde(default)]
    clusters: Vec<ClusterPathsDoc>,
    source: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClusterPathsDoc {
    name: String,
    paths: Vec<String>,
}

/// Reads `eksync.yaml`: the settings (defaults where it says nothing or is broken) and where its
/// document starts, for diagnostics about it that are found later.
pub(super) fn load(path: &str, text: &str, ctx: &mut Ctx) -> (Settings, Option<Origin>) {
    let mut settings = Settings::default();
    let parsed = yaml::parse(text);
    ctx.syntax_errors(path, &parsed.errors);
    if parsed.docs.len() > 1 {
        let at = ctx.loc(path, parsed.docs[1].index, &FieldPath::root());
        ctx.error("E-settings", "eksync.yaml must hold a single document", at);
    }
    let Some(doc) = parsed.docs.into_iter().next() else {
        return (settings, None);
    };
    let origin = Origin {
        file: path.to_string(),
        document: doc.index,
        line: doc.pos.line,
    };
    let Some(d) = decode::<SettingsDoc>(doc.value, &origin, &FieldPath::root(), "Settings", ctx)
    else {
        return (settings, Some(origin));
    };
    if d.api_version != EKSYNC_API_VERSION || d.kind != "Settings" {
        let at = ctx.origin_loc(&origin, &FieldPath::keys(&["kind"]));
        ctx.error(
            "E-settings",
            format!(
                "eksync.yaml must be `apiVersion: {EKSYNC_API_VERSION}`, `kind: Settings` (found {} {})",
                d.api_version, d.kind
            ),
            at,
        );
    }
    if let Some(ns) = d.spec.default_namespace {
        match syntax::dns_label(&ns) {
            Ok(()) => settings.default_namespace = ns,
            Err(why) => {
                let at = ctx.origin_loc(&origin, &FieldPath::keys(&["spec", "defaultNamespace"]));
                ctx.error(
                    "E-settings",
                    format!("invalid default namespace: {why}"),
                    at,
                );
            }
        }
    }
    let spec = FieldPath::keys(&["spec"]);
    let pattern_lists = [
        (
            spec.key("include"),
            d.spec.include.as_deref().unwrap_or_default(),
        ),
        (spec.key("exclude"), d.spec.exclude.as_slice()),
    ]
    .into_iter()
    .chain(d.spec.clusters.iter().enumerate().map(|(i, c)| {
        (
            spec.key("clusters").index(i).key("paths"),
            c.paths.as_slice(),
        )
    }));
    for (field, patterns) in pattern_lists {
        for (i, p) in patterns.iter().enumerate() {
            if let Err(e) = Glob::new(p) {
                let at = ctx.origin_loc(&origin, &field.index(i));
                ctx.error("E-settings", format!("invalid path pattern `{p}`: {e}"), at);
            }
        }
    }
    if let Some(source) = d.spec.source {
        if crate::source::valid_source_name(&source) {
            settings.source = Some(source);
        } else {
            let at = ctx.origin_loc(&origin, &spec.key("source"));
            ctx.error(
                "E-settings",
                format!(
                    "source name `{source}` must be lowercase letters, digits and `-`, start and end with a letter or digit, at most {} characters",
                    crate::source::MAX_SOURCE_NAME
                ),
                at,
            );
        }
    }
    if let Some(include) = d.spec.include {
        settings.include = include;
    }
    settings.exclude = d.spec.exclude;
    settings.clusters = d
        .spec
        .clusters
        .into_iter()
        .map(|c| ClusterPaths {
            name: c.name,
            paths: c.paths,
        })
        .collect();
    (settings, Some(origin))
}
