//! Reads YAML (and therefore JSON) text into `serde_json::Value` documents, remembering where each
//! document starts, and finds the line and column of any field path on demand.
//!
//! Positions are not stored per node: the happy path keeps only values, and [`locate`] re-reads one
//! file when a diagnostic needs a position (errors are rare, repos are large). Scalars resolve by the
//! YAML 1.2 core schema; anchors, aliases and `<<` merge keys are supported; duplicate keys and
//! non-scalar keys are errors, as kubectl's strict decoding treats them. No I/O here.
//!
//! Hostile input is bounded: characters YAML 1.2 does not allow are refused before parsing (see
//! [`chars`]), lists and mappings may nest at most [`MAX_DEPTH`] deep (aliases included), and
//! aliases may copy at most [`MAX_ALIAS_NODES`] nodes. Events are read in a loop, never by
//! recursion, so no input can overflow the stack here or in code that walks the values later.

use serde_json::{Map, Number, Value};
use std::collections::HashMap;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use super::path::{FieldPath, Seg};

mod chars;

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

/// The language a file is written in. JSON files are read by the same parser (JSON is YAML), but
/// must also keep JSON's own rule for strings, and their errors say JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Syntax {
    #[default]
    Yaml,
    Json,
}

impl Syntax {
    /// The syntax of a file, by its name: `.json` files are JSON, every other one YAML.
    pub fn of_path(path: &str) -> Syntax {
        if path.ends_with(".json") {
            Syntax::Json
        } else {
            Syntax::Yaml
        }
    }
}

/// How deeply lists and mappings may nest in one document (the root is level 1). Real manifests
/// stay far below (a CRD's schema for a pod template reaches about 40). Deeper input is refused
/// with its position, before it can exhaust the stack or memory of whatever walks the value, and
/// with room to spare under serde_json's limit of 128 levels: an object's JSON comes back from
/// the API server wrapped a few levels deeper (lists, `managedFields`), and must still parse.
pub const MAX_DEPTH: usize = 100;

/// Parses all documents of YAML `text`. Empty documents (only comments, or a stray `---`) are
/// skipped but still counted in the document index.
pub fn parse(text: &str) -> Parsed {
    parse_as(text, Syntax::Yaml)
}

/// Parses all documents of `text`, written in `syntax`.
pub fn parse_as(text: &str, syntax: Syntax) -> Parsed {
    let text = without_bom(text);
    let Some(bad) = chars::first_forbidden(text, syntax) else {
        let mut b = Builder::default();
        if let Err(e) = drive(text, &mut b) {
            b.errors.push(YamlError {
                document: b.doc_index.saturating_sub(1),
                pos: e.pos,
                message: e.message,
            });
        }
        return Parsed {
            docs: b.docs,
            errors: b.errors,
        };
    };
    // The parser would end the text at a NUL, or read the character as text: keep only what
    // comes before the document holding it, and say where it is.
    let before: String = text.chars().take(bad.char_index).collect();
    let mut b = Builder::default();
    let _ = drive(&before, &mut b);
    let document = b.doc_index.saturating_sub(1);
    b.docs.retain(|d| d.index < document);
    b.errors.retain(|e| e.document < document);
    b.errors.push(YamlError {
        document,
        pos: Pos {
            line: bad.line,
            column: bad.column,
        },
        message: bad.message,
    });
    Parsed {
        docs: b.docs,
        errors: b.errors,
    }
}

/// Why [`drive`] stopped early.
struct Stop {
    pos: Pos,
    message: String,
}

/// Feeds `recv` every event of `text`, one at a time. yaml-rust2's own `Parser::load` recurses
/// once per nesting level, which overflows the stack on a few thousand levels of block YAML;
/// this loop does not, and stops at [`MAX_DEPTH`] or at the first syntax error.
fn drive<R: MarkedEventReceiver>(text: &str, recv: &mut R) -> Result<(), Stop> {
    let mut parser = Parser::new_from_str(text);
    let mut depth = 0usize;
    loop {
        let (ev, mark) = parser.next_token().map_err(|e| Stop {
            pos: Pos::from_marker(e.marker()),
            // The scanner reads ahead on a line of flow style and has its own limit (255 levels
            // of `[` and `{`), which it can reach before the events reach ours: the same fault.
            message: if e.info() == "recursion limit exceeded" {
                too_deep()
            } else {
                format!("invalid YAML: {}", e.info())
            },
        })?;
        match ev {
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(Stop {
                        pos: Pos::from_marker(&mark),
                        message: too_deep(),
                    });
                }
            }
            Event::SequenceEnd | Event::MappingEnd => depth = depth.saturating_sub(1),
            _ => {}
        }
        let end = ev == Event::StreamEnd;
        recv.on_event(ev, mark);
        if end {
            return Ok(());
        }
    }
}

fn too_deep() -> String {
    format!(
        "invalid YAML: lists and mappings nest more than {MAX_DEPTH} levels deep; eksync reads no deeper"
    )
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
#[cfg(test)]
fn node_count(v: &Value) -> usize {
    size(v).nodes
}

/// What copying a value costs: its nodes (itself included) and how many levels of lists and
/// mappings it holds (0 for a scalar).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Size {
    nodes: usize,
    levels: usize,
}

/// The size of a value. It recurses, but only into values this module built, which nest at most
/// [`MAX_DEPTH`] levels.
fn size(v: &Value) -> Size {
    let mut s = Size {
        nodes: 1,
        levels: 0,
    };
    let mut add = |child: &Value| {
        let c = size(child);
        s.nodes = s.nodes.saturating_add(c.nodes);
        s.levels = s.levels.max(c.levels + 1);
    };
    match v {
        Value::Array(items) => items.iter().for_each(&mut add),
        Value::Object(map) => map.values().for_each(&mut add),
        _ => return s,
    }
    s.levels = s.levels.max(1);
    s
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
    /// Anchored values and their sizes (what an alias to them costs).
    anchors: HashMap<usize, (Value, Size)>,
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
            let size = size(&v);
            self.anchors.insert(anchor, (v.clone(), size));
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
                // The copy would nest deeper than the parser lets text nest.
                Some((_, n)) if self.stack.len() + n.levels > MAX_DEPTH => {
                    self.err(&mark, too_deep());
                    self.push_value(Value::Null, 0, mark);
                }
                Some((_, n)) if self.alias_nodes.saturating_add(n.nodes) > MAX_ALIAS_NODES => {
                    if !std::mem::replace(&mut self.alias_overflow, true) {
                        self.err(
                            &mark,
                            format!("excessive aliasing: aliases expand to more than {MAX_ALIAS_NODES} nodes"),
                        );
                    }
                    self.push_value(Value::Null, 0, mark);
                }
                Some((v, n)) => {
                    self.alias_nodes += n.nodes;
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
                if let Some(Frame::Seq { mut items, anchor }) = self.stack.pop() {
                    // Lists grow by doubling; kept for the whole run, the slack adds up.
                    items.shrink_to_fit();
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
    // A syntax error after the target is irrelevant; before it, `best` holds what was found.
    let _ = drive(without_bom(text), &mut finder);
    finder.best.or(finder.doc_start)
}

/// Finds positions in one file by re-reading only the document asked about. Plain [`locate`]
/// re-reads the file up to that document, so a file of thousands of documents with a problem in
/// each cost the square of its size (20,000 small documents in 4 MB ran for over ten minutes);
/// this reads the file once to learn where documents start, then one document per question.
pub struct DocLocator<'a> {
    text: &'a str,
    /// The text's lines, each with its line break.
    lines: Vec<&'a str>,
    /// The line each document starts on, by document index; `None` when documents cannot be cut
    /// out by lines (a lone carriage return ends a line for the parser but not for `lines`).
    starts: Option<Vec<DocStart>>,
}

/// Where a document's first event is, and whether the document can be cut out from that line.
#[derive(Debug, Clone, Copy)]
struct DocStart {
    line: usize,
    /// False for a document whose root is a block scalar (`|`, `>`): the parser marks it where its
    /// content starts, after the header line, so a cut from there would leave the header out.
    cuttable: bool,
}

/// Records the line each document starts on.
#[derive(Default)]
struct DocStarts {
    starts: Vec<DocStart>,
    /// The last document's root has not been seen yet.
    before_root: bool,
}

impl MarkedEventReceiver for DocStarts {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if ev == Event::DocumentStart {
            self.starts.push(DocStart {
                line: mark.line(),
                cuttable: true,
            });
            self.before_root = true;
            return;
        }
        if std::mem::take(&mut self.before_root) {
            if let (Event::Scalar(_, TScalarStyle::Literal | TScalarStyle::Folded, _, _), Some(s)) =
                (&ev, self.starts.last_mut())
            {
                s.cuttable = false;
            }
        }
    }
}

impl<'a> DocLocator<'a> {
    pub fn new(text: &'a str) -> Self {
        let text = without_bom(text);
        let lone_cr = text
            .chars()
            .zip(text.chars().skip(1).chain(std::iter::once('\n')))
            .any(|(c, next)| c == '\r' && next != '\n');
        let starts = (!lone_cr).then(|| {
            let mut starts = DocStarts::default();
            // Documents after a syntax error are not known: they fall back to `locate`.
            let _ = drive(text, &mut starts);
            starts.starts
        });
        DocLocator {
            text,
            lines: text.split_inclusive('\n').collect(),
            starts,
        }
    }

    /// Where the node at `path` in `document` starts, as [`locate`] finds it.
    pub fn locate(&self, document: usize, path: &FieldPath) -> Option<Pos> {
        let from = self.starts.as_ref().and_then(|s| {
            let start = s.get(document).filter(|d| d.cuttable)?;
            // The next document's mark is never before its first line: at worst the cut takes a
            // few of its lines too, which `locate` (document 0 of the cut) ignores.
            let to = s.get(document + 1).map(|d| d.line);
            Some((start.line, to))
        });
        if let Some((from, to)) = from {
            let lines = to.map_or(usize::MAX, |to| to.saturating_sub(from));
            let one: String = self
                .lines
                .iter()
                .skip(from.saturating_sub(1))
                .take(lines)
                .copied()
                .collect();
            if let Some(p) = locate(&one, 0, path) {
                return Some(Pos {
                    line: p.line + from.saturating_sub(1),
                    column: p.column,
                });
            }
        }
        // A document that does not stand alone (a `%TAG` directive above it): read the file.
        locate(self.text, document, path)
    }
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

    /// Nesting deeper than the limit, in every style: one positioned error, no crash, and the
    /// documents before it kept.
    #[test]
    fn nesting_is_limited_in_block_flow_and_json_style() {
        let n = 4_000;
        let block_seq = format!("ok: 1\n---\n{}1\n", "- ".repeat(n));
        let mut block_map = String::from("ok: 1\n---\n");
        for i in 0..n {
            block_map.push_str(&format!("{}k{i}:\n", " ".repeat(i)));
        }
        block_map.push_str(&format!("{}v\n", " ".repeat(n)));
        let flow = format!("ok: 1\n---\n{}{}\n", "[".repeat(n), "]".repeat(n));
        let json = format!("ok: 1\n---\n{}1{}\n", "{\"a\": ".repeat(n), "}".repeat(n));
        let pretty_json = format!("ok: 1\n---\n{}1{}\n", "[\n".repeat(n), "]".repeat(n));
        let flow_150 = format!("ok: 1\n---\n{}{}\n", "[".repeat(150), "]".repeat(150));
        // Deeper than 255 levels, flow style stops where the scanner's own limit is reached.
        for (what, text, line, column, scanner_stops) in [
            ("block sequence", &block_seq, 3, 2 * MAX_DEPTH + 1, false),
            ("block mapping", &block_map, 3 + MAX_DEPTH, 0, false),
            ("flow sequence", &flow, 3, 256, true),
            ("JSON object", &json, 3, 6 * 255 + 1, true),
            ("JSON array, one per line", &pretty_json, 3 + 255, 1, true),
            (
                "flow sequence under the scanner's limit",
                &flow_150,
                3,
                MAX_DEPTH + 1,
                false,
            ),
        ] {
            let p = parse(text);
            assert_eq!(p.errors.len(), 1, "{what}: {:?}", p.errors);
            let e = &p.errors[0];
            assert!(
                e.message.contains("nest more than 100 levels deep"),
                "{what}: {}",
                e.message
            );
            assert_eq!(e.document, 1, "{what}");
            assert_eq!(e.pos.line, line, "{what}");
            // A block mapping's event marks its first `:`; only the line matters there.
            if column > 0 {
                assert_eq!(e.pos.column, column, "{what}");
            }
            assert_eq!(p.docs.len(), 1, "{what}: the document before is kept");
            assert_eq!(p.docs[0].value, json!({"ok": 1}));
            // Finding a position in the same text is bounded too (it would overflow the stack
            // like parsing did); where the scanner gave up before the document's first event,
            // nothing is found.
            let deep = FieldPath(vec![Seg::Index(0); n]);
            let found = locate(text, 1, &deep);
            assert_eq!(found.is_some(), !scanner_stops, "{what}");
        }
        // Exactly at the limit is fine, and the value is whole.
        let at_limit = format!("{}1\n", "- ".repeat(MAX_DEPTH));
        let p = parse(&at_limit);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!(size(&p.docs[0].value).levels, MAX_DEPTH);
    }

    #[test]
    fn aliases_cannot_nest_past_the_limit() {
        let half = MAX_DEPTH / 2 + 1;
        let text = format!(
            "a: &deep {}1{}\nb: {}*deep{}\n",
            "[".repeat(half),
            "]".repeat(half),
            "[".repeat(half),
            "]".repeat(half)
        );
        let p = parse(&text);
        assert_eq!(p.errors.len(), 1, "{:?}", p.errors);
        assert!(p.errors[0].message.contains("nest more than"));
        assert_eq!(p.errors[0].pos.line, 2);
        assert!(p.docs.iter().all(|d| size(&d.value).levels <= MAX_DEPTH));
    }

    /// The parser underneath ends the text at a NUL: before the check, the value stopped there
    /// and every later document vanished without a word.
    #[test]
    fn a_nul_byte_is_an_error_and_never_truncates_the_stream() {
        let text = "kind: A\n---\nkind: B\nvalue: hello\0world\n---\nkind: C\n";
        let p = parse(text);
        assert_eq!(p.errors.len(), 1, "{:?}", p.errors);
        let e = &p.errors[0];
        assert_eq!(
            (e.document, e.pos),
            (
                1,
                Pos {
                    line: 4,
                    column: 13
                }
            )
        );
        assert!(e.message.contains("U+0000 (NUL)"), "{}", e.message);
        assert_eq!(p.docs.len(), 1, "only the document before the NUL is kept");
        assert_eq!(p.docs[0].value, json!({"kind": "A"}));
        // Quoted: the same position, not "unexpected end of stream".
        let p = parse("value: \"hello\0world\"\n");
        assert_eq!(p.errors.len(), 1, "{:?}", p.errors);
        assert_eq!(
            p.errors[0].pos,
            Pos {
                line: 1,
                column: 14
            }
        );
        assert!(
            p.errors[0].message.contains("U+0000"),
            "{}",
            p.errors[0].message
        );
        // JSON files: a raw tab inside a string, named as JSON.
        let p = parse_as("{\"a\": \"b\tc\"}", Syntax::Json);
        assert_eq!(p.errors.len(), 1, "{:?}", p.errors);
        assert!(p.errors[0].message.starts_with("invalid JSON"));
        assert!(p.docs.is_empty());
        assert!(parse("{\"a\": \"b\tc\"}").errors.is_empty());
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

    /// The document locator finds what `locate` finds, in every document of a stream.
    #[test]
    fn the_document_locator_agrees_with_locate() {
        let texts = [
            "# head\na: 1\n---\nb:\n  - c: 2\n    d: [3, {e: 4}]\n--- # doc\nf: 5\n...\n---\n- g\n- h: 6\n",
            "\u{feff}a: 1\n---\nb: 2\n",
            "a: 1\r\n---\r\nb:\r\n  c: 2\r\n",
            "a: 1\r---\rb:\r  c: 2\r",
            "%TAG !e! tag:example.com,2000:\n--- !e!x\na: 1\n---\nb: {c: 2}\n",
            "a: 1\n---\nb: [unclosed\n---\nc: 3\n",
        ];
        let paths = [
            FieldPath::root(),
            FieldPath::keys(&["a"]),
            FieldPath::keys(&["b"]),
            FieldPath::keys(&["b"]).index(0).key("d").index(1).key("e"),
            FieldPath::keys(&["b", "c"]),
            FieldPath::keys(&["f"]),
            FieldPath::root().index(1).key("h"),
            FieldPath::keys(&["c"]),
        ];
        for text in texts {
            let l = DocLocator::new(text);
            for doc in 0..5 {
                for path in &paths {
                    assert_eq!(
                        l.locate(doc, path),
                        locate(text, doc, path),
                        "{text:?} document {doc} at {path}"
                    );
                }
            }
        }
        // Documents are cut out by lines: the last one's key is on line 12.
        let l = DocLocator::new(texts[0]);
        assert_eq!(
            l.locate(3, &FieldPath::root().index(1).key("h")),
            Some(Pos {
                line: 12,
                column: 3
            })
        );
    }

    /// Found by fuzzing (`fuzz/corpus/yaml/crash-doclocator-block-scalar-root`): the parser marks
    /// a root block scalar where its content starts, after the `>`/`|` header, and a document cut
    /// from there lost its header (DocLocator said line 3 where locate said line 2).
    #[test]
    fn doc_locator_agrees_on_block_scalar_roots() {
        let texts = [
            ">\n>\nlnIls\r\n\r",
            "|\n  text\n",
            "a: 1\n---\n>\n  folded\n---\nb: 2\n",
            "a: 1\n...\n|\n  literal\n...\nb: 2\n",
            "--- &x >\n  anchored\n",
        ];
        for text in texts {
            let l = DocLocator::new(text);
            for doc in 0..4 {
                for path in [FieldPath::root(), FieldPath::keys(&["b"])] {
                    assert_eq!(
                        l.locate(doc, &path),
                        locate(text, doc, &path),
                        "{text:?} document {doc} at {path}"
                    );
                }
            }
        }
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
