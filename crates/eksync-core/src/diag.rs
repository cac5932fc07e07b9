//! Diagnostics: what went wrong (or looks wrong), where, and how to fix it. Pure data plus
//! formatting; collecting them is the loader's and validators' job. Loading never stops at the first
//! problem: every stage appends to a list of these.

use serde::Serialize;
use std::fmt;

use super::path::FieldPath;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// A place in the repo: file, document (0-based index within a multi-document file), 1-based line
/// and column, and the field path inside the document where there is one.
///
/// Every output counts as people do: text and JSON both show the first document as 1 (the index
/// stays 0-based inside, like the parser's).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Location {
    pub file: String,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "document_as_people_count"
    )]
    pub document: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// Writes a 0-based document index as the 1-based number people count by.
fn document_as_people_count<S: serde::Serializer>(
    doc: &Option<usize>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match doc {
        Some(d) => s.serialize_some(&d.saturating_add(1)),
        None => s.serialize_none(),
    }
}

impl Location {
    pub fn file(file: impl Into<String>) -> Self {
        Location {
            file: file.into(),
            document: None,
            line: None,
            column: None,
            field: None,
        }
    }

    pub fn at(file: impl Into<String>, document: usize, line: usize, column: usize) -> Self {
        Location {
            file: file.into(),
            document: Some(document),
            line: Some(line),
            column: Some(column),
            field: None,
        }
    }

    pub fn with_field(mut self, field: &FieldPath) -> Self {
        if !field.is_root() {
            self.field = Some(field.to_string());
        }
        self
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        if let Some(doc) = self.document {
            write!(f, " (document {})", doc + 1)?;
        }
        if let Some(field) = &self.field {
            write!(f, " at {field}")?;
        }
        Ok(())
    }
}

/// A secondary location that explains the primary one ("first defined here").
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Related {
    pub location: Location,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// A stable short code (`E-yaml`, `E-unknown-field`, ...) for tests, docs and suppression.
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<Related>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            location: None,
            related: Vec::new(),
            help: None,
        }
    }

    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    pub fn at(mut self, location: Location) -> Self {
        self.location = Some(location);
        self
    }

    pub fn related(mut self, location: Location, message: impl Into<String>) -> Self {
        self.related.push(Related {
            location,
            message: message.into(),
        });
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{sev}[{}]: {}", self.code, self.message)?;
        if let Some(loc) = &self.location {
            write!(f, "\n  --> {loc}")?;
        }
        for r in &self.related {
            write!(f, "\n  note: {} ({})", r.message, r.location)?;
        }
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

/// True when any diagnostic is an error.
pub fn has_errors(diags: &[Diagnostic]) -> bool {
    diags.iter().any(Diagnostic::is_error)
}

/// Sorts diagnostics for stable output: by file, line, column, then code and message.
pub fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by(|a, b| {
        let key = |d: &Diagnostic| {
            (
                d.location.as_ref().map(|l| l.file.clone()),
                d.location.as_ref().and_then(|l| l.document),
                d.location.as_ref().and_then(|l| l.line),
                d.location.as_ref().and_then(|l| l.column),
            )
        };
        key(a)
            .cmp(&key(b))
            .then_with(|| a.code.cmp(b.code))
            .then_with(|| a.message.cmp(&b.message))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_location_field_and_help() {
        let d = Diagnostic::error("E-test", "bad value")
            .at(Location::at("a.yaml", 1, 7, 3).with_field(&FieldPath::keys(&["spec", "x"])))
            .related(Location::at("b.yaml", 0, 2, 1), "first defined here")
            .help("use a number");
        assert_eq!(
            d.to_string(),
            "error[E-test]: bad value\n  --> a.yaml:7:3 (document 2) at spec.x\n  note: first defined here (b.yaml:2:1 (document 1))\n  help: use a number"
        );
        // JSON counts documents as the text does: from 1.
        let json = serde_json::to_value(&d).expect("serializes");
        assert_eq!(json["location"]["document"], 2);
        assert_eq!(json["related"][0]["location"]["document"], 1);
        let no_doc = serde_json::to_value(Location::file("a.yaml")).expect("serializes");
        assert!(no_doc.get("document").is_none(), "{no_doc}");
    }
}
