//! Reads YAML (and therefore JSON) text into `serde_json::Value` documents, remembering where each
//! document starts, and finds the line and column of any field path on demand.
//!
//! Positions are not stored per node: the happy path keeps only values, and [`locate`] re-reads one
//! file when a diagnostic needs a position (errors are rare, repos are large). Scalars resolve by the
//! YAML 1.2 core schema; anchors, aliases and `<<` merge keys are supported; duplicate keys and
//! non-scalar keys are errors, as kubectl's strict decoding treats them. No I/O here.

use serde_json::{Map, Number, Value};
use std::collections::HashMap;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use super::path::{FieldPath, Seg};

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

impl Pos {
    fn from_marker(m: &Marker) -> Pos {
        // yaml-rust2 reports 1-based lines and 0-based columns.
        Pos {
            line: m.line(),
            column: m.col() + 1,
        }
    }
}

/// One document of a (possibly multi-document) stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Doc {
    /// 0-based index of the document in its file, counting empty documents too.
    pub index: usize,
    /// Where the document's content starts.
    pub pos: Pos,
    pub value: Value,
}

/// A problem inside the YAML text itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct YamlError {
    /// The document the problem is in (0-based).
    pub document: usize,
    pub pos: Pos,
    pub message: String,
}

/// The documents read and every problem found. Documents before a syntax error are kept so that
/// later stages can still report on them.
#[derive(Debug, Default)]
pub struct Parsed {
    pub docs: Vec<Doc>,
    pub errors: Vec<YamlError>,
}

/// Parses all documents of `text`. Empty documents (only comments, or a stray `---`) are skipped
/// but still counted in the document index.
pub fn parse(text: &str) -> Parsed {
    let mut b = Builder::default();
    let mut parser = Parser::new_from_str(without_bom(text));
    if let Err(e) = parser.load(&mut b, true) {
        let doc = b.doc_index.saturating_sub(1);
        b.errors.push(YamlError {
            document: doc,
            pos: Pos::from_marker(e.marker()),
            message: format!("invalid YAML: {}", e.info()),
        });
    }
    Parsed {
        docs: b.docs,
        errors: b.errors,
    }
}

/// The text without a leading UTF-8 byte order mark. YAML allows one at the start of a stream
/// (editors on Windows write it, kubectl accepts it), but the parser would read it as part of the
/// first key. Columns then count as an editor shows them, which does not show the mark.
fn without_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// How many nodes aliases may copy into one file. Each alias copies its anchor's whole value, so a
/// few hundred bytes of nested aliases ("billion laughs") would otherwise expand to billions of
/// nodes and exhaust memory. Real manifests alias a few small mappings.
pub const MAX_ALIAS_NODES: usize = 1_000_000;

/// The number of nodes in a value (itself included).
fn node_count(v: &Value) -> usize {
    1 + match v {
        Value::Array(items) => items.iter().map(node_count).sum(),
        Value::Object(map) => map.values().map(node_count).sum(),
        _ => 0,
    }
}

enum Frame {
    Seq {
        items: Vec<Value>,
        anchor: usize,
    },
    Map {
        map: Map<String, Value>,
        key: Option<(String, Marker)>,
        merges: Vec<Map<String, Value>>,
        anchor: usize,
    },
}

#[derive(Default)]
struct Builder {
    docs: Vec<Doc>,
    stack: Vec<Frame>,
    /// Anchored values and their node counts (what an alias to them costs).
    anchors: HashMap<usize, (Value, usize)>,
    /// Nodes copied in by aliases so far in this file, against [`MAX_ALIAS_NODES`].
    alias_nodes: usize,
    /// Whether the alias budget was exceeded (reported once).
    alias_overflow: bool,
    errors: Vec<YamlError>,
    /// Number of documents started so far.
    doc_index: usize,
    doc_pos: Option<Pos>,
    done: Option<Value>,
}

impl Builder {
    fn err(&mut self, mark: &Marker, message: String) {
        self.errors.push(YamlError {
            document: self.doc_index.saturating_sub(1),
            pos: Pos::from_marker(mark),
            message,
        });
    }

    /// Delivers a finished node to its parent (or makes it the document's root).
    fn push_value(&mut self, v: Value, anchor: usize, mark: Marker) {
        if anchor > 0 {
            self.anchors.insert(anchor, (v.clone(), node_count(&v)));
        }
        let mut error = None;
        match self.stack.last_mut() {
            None => self.done = Some(v),
            Some(Frame::Seq { items, .. }) => items.push(v),
            Some(Frame::Map {
                map, key, merges, ..
            }) => match key.take() {
                None => match v {
                    Value::String(s) => *key = Some((s, mark)),
                    Value::Null => *key = Some(("null".to_string(), mark)),
                    Value::Bool(b) => *key = Some((b.to_string(), mark)),
                    Value::Number(n) => *key = Some((n.to_string(), mark)),
                    Value::Array(_) | Value::Object(_) => {
                        // Keep parsing; the key is replaced so the value has somewhere to go.
                        *key = Some((String::new(), mark));
                        error = Some((mark, "a mapping key must be a scalar".to_string()));
                    }
                },
                Some((k, kmark)) => {
                    if k == "<<" {
                        match v {
                            Value::Object(m) => merges.push(m),
                            Value::Array(items) if items.iter().all(Value::is_object) => merges
                                .extend(items.into_iter().filter_map(|i| match i {
                                    Value::Object(m) => Some(m),
                                    _ => None,
                                })),
                            _ => {
                                error = Some((
                                    kmark,
                                    "a `<<` merge key needs a mapping or a list of mappings"
                                        .to_string(),
                                ))
                            }
                        }
                    } else if map.contains_key(&k) {
                        error = Some((kmark, format!("duplicate key `{k}`")));
                    } else {
                        map.insert(k, v);
                    }
                }
            },
        }
        if let Some((m, msg)) = error {
            self.err(&m, msg);
        }
    }
}

fn resolve_plain(s: &str) -> Value {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    let bytes = s.as_bytes();
    let first = bytes[0];
    if !(first.is_ascii_digit() || first == b'-' || first == b'+' || first == b'.') {
        return Value::String(s.to_string());
    }
    let (neg, body) = match first {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let radix = if let Some(h) = body.strip_prefix("0x") {
        Some((h, 16))
    } else {
        body.strip_prefix("0o").map(|o| (o, 8))
    };
    if let Some((digits, radix)) = radix {
        if !neg && first != b'+' && !digits.is_empty() {
            if let Ok(n) = u64::from_str_radix(digits, radix) {
                return Value::Number(Number::from(n));
            }
        }
        return Value::String(s.to_string());
    }
    if !body.is_empty() && body.bytes().all(|c| c.is_ascii_digit()) {
        if let Ok(n) = s.parse::<i64>() {
            return Value::Number(Number::from(n));
        }
        if let Ok(n) = body.parse::<u64>() {
            if !neg {
                return Value::Number(Number::from(n));
            }
        }
    }
    if is_float(body) {
        if let Ok(f) = s.parse::<f64>() {
            if let Some(n) = Number::from_f64(f) {
                return Value::Number(n);
            }
        }
    }
    Value::String(s.to_string())
}

/// The YAML 1.2 core schema float form (without sign): `.5`, `1.`, `1.5e3`, `2e-1`.
fn is_float(s: &str) -> bool {
    let (mantissa, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (int, frac) = match mantissa.find('.') {
        Some(i) => (&mantissa[..i], Some(&mantissa[i + 1..])),
        None => (mantissa, None),
    };
    let digits = |x: &str| x.bytes().all(|c| c.is_ascii_digit());
    let mantissa_ok = match frac {
        Some(f) => digits(int) && digits(f) && !(int.is_empty() && f.is_empty()),
        None => !int.is_empty() && digits(int),
    };
    let exp_ok = match exp {
        None => frac.is_some(),
        Some(e) => {
            let e = e.strip_prefix(['+', '-']).unwrap_or(e);
            !e.is_empty() && digits(e)
        }
    };
    mantissa_ok && exp_ok
}

fn resolve_scalar(value: String, style: TScalarStyle, tag: Option<&Tag>) -> Result<Value, String> {
    if let Some(tag) = tag {
        if tag.handle == "tag:yaml.org,2002:" || tag.handle == "!!" {
            return match tag.suffix.as_str() {
                "str" => Ok(Value::String(value)),
                "int" | "float" => match resolve_plain(&value) {
                    v @ Value::Number(_) => Ok(v),
                    _ => Err(format!(
                        "`{value}` is not a number but is tagged !!{}",
                        tag.suffix
                    )),
                },
                "bool" => match resolve_plain(&value) {
                    v @ Value::Bool(_) => Ok(v),
                    _ => Err(format!("`{value}` is not a boolean but is tagged !!bool")),
                },
                "null" => Ok(Value::Null),
                "binary" => Ok(Value::String(value)),
                other => Err(format!("unsupported tag !!{other}")),
            };
        }
        return Err(format!("unsupported tag {}{}", tag.handle, tag.suffix));
    }
    Ok(match style {
        TScalarStyle::Plain => resolve_plain(&value),
        _ => Value::String(value),
    })
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        match ev {
            Event::DocumentStart => {
                self.doc_index += 1;
                self.doc_pos = None;
                self.anchors.clear();
                self.done = None;
            }
            Event::DocumentEnd => {
                let index = self.doc_index.saturating_sub(1);
                if let Some(value) = self.done.take() {
                    if !value.is_null() {
                        let pos = self.doc_pos.unwrap_or(Pos { line: 1, column: 1 });
                        self.docs.push(Doc { index, pos, value });
                    }
                }
            }
            Event::Scalar(value, style, anchor, tag) => {
                self.doc_pos.get_or_insert(Pos::from_marker(&mark));
                match resolve_scalar(value, style, tag.as_ref()) {
                    Ok(v) => self.push_value(v, anchor, mark),
                    Err(msg) => {
                        self.err(&mark, msg);
                        self.push_value(Value::Null, anchor, mark);
                    }
                }
            }
            Event::Alias(id) => match self.anchors.get(&id) {
                Some((_, n)) if self.alias_nodes.saturating_add(*n) > MAX_ALIAS_NODES => {
                    if !std::mem::replace(&mut self.alias_overflow, true) {
                        self.err(
                            &mark,
                            format!("excessive aliasing: aliases expand to more than {MAX_ALIAS_NODES} nodes"),
                        );
                    }
                    self.push_value(Value::Null, 0, mark);
                }
                Some((v, n)) => {
                    self.alias_nodes += *n;
                    let v = v.clone();
                    self.push_value(v, 0, mark);
                }
                None => {
                    self.err(&mark, "alias to an unknown anchor".to_string());
                    self.push_value(Value::Null, 0, mark);
                }
            },
            Event::SequenceStart(anchor, _) => {
                self.doc_pos.get_or_insert(Pos::from_marker(&mark));
                self.stack.push(Frame::Seq {
                    items: Vec::new(),
                    anchor,
                });
            }
            Event::MappingStart(anchor, _) => {
                // A block mapping's start mark points at its first `:`; the first key's scalar
                // event gives the real start, so the document position is not taken here.
                self.stack.push(Frame::Map {
                    map: Map::new(),
                    key: None,
                    merges: Vec::new(),
                    anchor,
                });
            }
            Event::SequenceEnd => {
                if let Some(Frame::Seq { items, anchor }) = self.stack.pop() {
                    self.push_value(Value::Array(items), anchor, mark);
                }
            }
            Event::MappingEnd => {
                if let Some(Frame::Map {
                    mut map,
                    merges,
                    anchor,
                    ..
                }) = self.stack.pop()
                {
                    for merged in merges {
                        for (k, v) in merged {
                            map.entry(k).or_insert(v);
                        }
                    }
                    self.push_value(Value::Object(map), anchor, mark);
                }
            }
            Event::Nothing | Event::StreamStart | Event::StreamEnd => {}
        }
    }
}

/// Finds where the node at `path` in document `document` starts. For a mapping entry this is the
/// position of its key, which is where a person looks. Falls back to the nearest ancestor that
/// exists (a missing field is reported at its parent).
pub fn locate(text: &str, document: usize, path: &FieldPath) -> Option<Pos> {
    let mut finder = Finder {
        target_doc: document,
        target: path.0.clone(),
        doc_index: 0,
        stack: Vec::new(),
        best: None,
        best_depth: 0,
        doc_start: None,
    };
    let mut parser = Parser::new_from_str(without_bom(text));
    // A syntax error after the target is irrelevant; before it, `best` holds what was found.
    let _ = parser.load(&mut finder, true);
    finder.best.or(finder.doc_start)
}

enum FFrame {
    Seq {
        next: usize,
    },
    Map {
        key: Option<(String, Marker)>,
        /// The mapping itself still needs a position: taken from its first key.
        unplaced: bool,
    },
}

struct Finder {
    target_doc: usize,
    target: Vec<Seg>,
    doc_index: usize,
    /// The path segment each open container was entered by, and the container's state.
    stack: Vec<(Option<Seg>, FFrame)>,
    best: Option<Pos>,
    best_depth: usize,
    doc_start: Option<Pos>,
}

impl Finder {
    fn in_target_doc(&self) -> bool {
        self.doc_index == self.target_doc + 1
    }

    /// Called for each node start; returns the segment under which the node sits (None for the
    /// document root or for a mapping key).
    fn node_start(&mut self, mark: Marker, is_scalar_key_candidate: Option<&str>) -> NodeRole {
        match self.stack.last_mut() {
            None => NodeRole::Value(None, mark),
            Some((_, FFrame::Seq { next })) => {
                let i = *next;
                *next += 1;
                NodeRole::Value(Some(Seg::Index(i)), mark)
            }
            Some((_, FFrame::Map { key, unplaced })) => match key.take() {
                None => {
                    *key = Some((is_scalar_key_candidate.unwrap_or("").to_string(), mark));
                    if std::mem::take(unplaced) {
                        NodeRole::FirstKeyOfUnplacedMap(mark)
                    } else {
                        NodeRole::Key
                    }
                }
                Some((k, kmark)) => NodeRole::Value(Some(Seg::Key(k)), kmark),
            },
        }
    }

    /// Records `mark` as the best position so far if the node (the open containers' segments plus
    /// `seg`; with `seg == None` the innermost open container itself) lies on the target path.
    fn consider(&mut self, seg: &Option<Seg>, mark: Marker) {
        if !self.in_target_doc() {
            return;
        }
        if self.doc_start.is_none() {
            self.doc_start = Some(Pos::from_marker(&mark));
        }
        let mut path: Vec<&Seg> = self.stack.iter().filter_map(|(s, _)| s.as_ref()).collect();
        if let Some(s) = seg {
            path.push(s);
        }
        if path.len() <= self.target.len()
            && path.iter().zip(self.target.iter()).all(|(a, b)| *a == b)
            && (self.best.is_none() || path.len() > self.best_depth)
        {
            self.best = Some(Pos::from_marker(&mark));
            self.best_depth = path.len();
        }
    }
}

enum NodeRole {
    Key,
    FirstKeyOfUnplacedMap(Marker),
    Value(Option<Seg>, Marker),
}

impl MarkedEventReceiver for Finder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        match ev {
            Event::DocumentStart => {
                self.doc_index += 1;
                self.stack.clear();
            }
            Event::Scalar(value, _, _, _) => match self.node_start(mark, Some(&value)) {
                NodeRole::Value(seg, m) => self.consider(&seg, m),
                NodeRole::FirstKeyOfUnplacedMap(m) => self.consider(&None, m),
                NodeRole::Key => {}
            },
            Event::Alias(_) => match self.node_start(mark, None) {
                NodeRole::Value(seg, m) => self.consider(&seg, m),
                NodeRole::FirstKeyOfUnplacedMap(m) => self.consider(&None, m),
                NodeRole::Key => {}
            },
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                let is_map = matches!(ev, Event::MappingStart(..));
                let (seg, unplaced) = match self.node_start(mark, None) {
                    NodeRole::Key => (None, false),
                    NodeRole::FirstKeyOfUnplacedMap(m) => {
                        self.consider(&None, m);
                        (None, false)
                    }
                    // A mapping entered under a key is placed at that key; a block mapping in a
                    // sequence or at the root waits for its first key.
                    NodeRole::Value(seg, m) => {
                        let under_key = matches!(seg, Some(Seg::Key(_)));
                        if !is_map || under_key {
                            self.consider(&seg, m);
                        }
                        (seg, is_map && !under_key)
                    }
                };
                let frame = if is_map {
                    FFrame::Map {
                        key: None,
                        unplaced,
                    }
                } else {
                    FFrame::Seq { next: 0 }
                };
                self.stack.push((seg, frame));
            }
            Event::SequenceEnd | Event::MappingEnd => {
                self.stack.pop();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_multi_document_streams_with_positions() {
        let text = "a: 1\n---\n# only a comment\n---\nkind: X\nlist:\n  - b: true\n    c: ~\n";
        let p = parse(text);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!(p.docs.len(), 2);
        assert_eq!(p.docs[0].index, 0);
        assert_eq!(p.docs[0].value, json!({"a": 1}));
        assert_eq!(p.docs[1].index, 2);
        assert_eq!(p.docs[1].pos, Pos { line: 5, column: 1 });
        assert_eq!(
            p.docs[1].value,
            json!({"kind": "X", "list": [{"b": true, "c": null}]})
        );
    }

    #[test]
    fn resolves_scalars_by_the_core_schema() {
        let cases: &[(&str, Value)] = &[
            ("x: 10", json!({"x": 10})),
            ("x: -3", json!({"x": -3})),
            ("x: 0x1F", json!({"x": 31})),
            ("x: 1.5", json!({"x": 1.5})),
            ("x: 1e3", json!({"x": 1000.0})),
            ("x: '10'", json!({"x": "10"})),
            ("x: !!str 10", json!({"x": "10"})),
            ("x: yes", json!({"x": "yes"})),
            ("x: 1.2.3", json!({"x": "1.2.3"})),
            ("x: 0:5:asg", json!({"x": "0:5:asg"})),
            ("x: ''", json!({"x": ""})),
            ("x:", json!({"x": null})),
            ("x: .inf", json!({"x": ".inf"})),
            (
                "x: 18446744073709551615",
                json!({"x": 18446744073709551615u64}),
            ),
            ("{\"j\": [1, \"a\", null]}", json!({"j": [1, "a", null]})),
        ];
        for (text, want) in cases {
            let p = parse(text);
            assert!(p.errors.is_empty(), "{text}: {:?}", p.errors);
            assert_eq!(&p.docs[0].value, want, "{text}");
        }
    }

    #[test]
    fn a_byte_order_mark_is_not_part_of_the_first_key() {
        let text = "\u{feff}apiVersion: v1\nkind: X\n";
        let p = parse(text);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!(p.docs[0].value, json!({"apiVersion": "v1", "kind": "X"}));
        let at = locate(text, 0, &FieldPath::keys(&["apiVersion"]));
        assert_eq!(at, Some(Pos { line: 1, column: 1 }));
        let json = parse("\u{feff}{\"a\": 1}");
        assert!(json.errors.is_empty(), "{:?}", json.errors);
        assert_eq!(json.docs[0].value, json!({"a": 1}));
    }

    #[test]
    fn alias_expansion_is_bounded() {
        // Seven levels of ten aliases would be ten million strings.
        let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for (prev, name) in ["a", "b", "c", "d", "e", "f"]
            .iter()
            .zip(["b", "c", "d", "e", "f", "g"])
        {
            let items = vec![format!("*{prev}"); 10].join(", ");
            text.push_str(&format!("{name}: &{name} [{items}]\n"));
        }
        let p = parse(&text);
        assert_eq!(p.errors.len(), 1, "{:?}", p.errors);
        assert!(p.errors[0].message.contains("excessive aliasing"));
        // Level f would bring the copies to 1,234,560 nodes.
        assert_eq!(p.errors[0].pos.line, 6);
        let total: usize = p.docs.iter().map(|d| node_count(&d.value)).sum();
        assert!(total <= MAX_ALIAS_NODES + 100, "{total} nodes");
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let text = "base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\ncopy: *b\n";
        let p = parse(text);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!(
            p.docs[0].value,
            json!({"base": {"x": 1, "y": 2}, "use": {"y": 3, "x": 1}, "copy": {"x": 1, "y": 2}})
        );
    }

    #[test]
    fn reports_duplicate_keys_and_syntax_errors_with_positions() {
        let p = parse("a: 1\nb: 2\na: 3\n");
        assert_eq!(p.errors.len(), 1);
        assert_eq!(p.errors[0].message, "duplicate key `a`");
        assert_eq!(p.errors[0].pos, Pos { line: 3, column: 1 });

        let p = parse("ok: 1\n---\nkey: [unclosed\n");
        assert_eq!(
            p.docs.len(),
            1,
            "the good document before the error is kept"
        );
        assert_eq!(p.errors.len(), 1);
        assert_eq!(p.errors[0].document, 1);
        assert!(p.errors[0].message.starts_with("invalid YAML"));
        assert!(p.errors[0].pos.line >= 3);

        let p = parse("a:\n  b: 1\n   c: 2\n");
        assert_eq!(p.errors.len(), 1, "{:?}", p.errors);
        assert_eq!(p.errors[0].pos.line, 3);
    }

    #[test]
    fn locate_finds_keys_items_and_falls_back_to_parents() {
        let text = "first: doc\n---\nmetadata:\n  name: x\nspec:\n  items:\n    - a: 1\n    - a: 2\n      b: 3\n";
        let at = |p: FieldPath| locate(text, 1, &p);
        assert_eq!(
            at(FieldPath::keys(&["metadata", "name"])),
            Some(Pos { line: 4, column: 3 })
        );
        assert_eq!(
            at(FieldPath::keys(&["spec", "items"]).index(1).key("b")),
            Some(Pos { line: 9, column: 7 })
        );
        assert_eq!(
            at(FieldPath::keys(&["spec", "items"]).index(1)),
            Some(Pos { line: 8, column: 7 })
        );
        // A missing field is reported where its parent is.
        assert_eq!(
            at(FieldPath::keys(&["spec", "missing"])),
            Some(Pos { line: 5, column: 1 })
        );
        assert_eq!(at(FieldPath::root()), Some(Pos { line: 3, column: 1 }));
        assert_eq!(
            locate(text, 0, &FieldPath::keys(&["first"])),
            Some(Pos { line: 1, column: 1 })
        );
    }
}
