//! Checks shared by the graph view tests: loading the fixture models, a small
//! XML well-formedness checker (no XML crate is a dependency of this crate),
//! geometry checks on the SVG, and a DOT parser for the subset we emit.
#![allow(dead_code)]

use neuride_onnx::graph::Direction;
use neuride_onnx::proto::ModelProto;
use std::path::{Path, PathBuf};

pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../tests/fixtures")
}

/// Every `.onnx` under tests/fixtures, decoded, sorted by path.
pub fn fixture_models() -> Vec<(String, ModelProto)> {
    let mut found = Vec::new();
    let mut stack = vec![fixtures_dir()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "onnx") {
                let model = neuride_onnx::load::load_file(&path)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                found.push((path.display().to_string(), model.proto));
            }
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

#[derive(Debug)]
pub struct Element {
    pub name: String,
    pub attributes: Vec<(String, String)>,
    pub children: Vec<Element>,
    pub text: String,
}

impl Element {
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
    pub fn walk<'a>(&'a self, out: &mut Vec<&'a Element>) {
        out.push(self);
        for child in &self.children {
            child.walk(out);
        }
    }
}

fn unescape(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find('&') {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find(';')
            .unwrap_or_else(|| panic!("unterminated entity in {text:?}"))
            + start;
        let entity = &rest[start + 1..end];
        out.push(match entity {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ if entity.starts_with("#x") => {
                char::from_u32(u32::from_str_radix(&entity[2..], 16).unwrap()).unwrap()
            }
            _ if entity.starts_with('#') => char::from_u32(entity[1..].parse().unwrap()).unwrap(),
            _ => panic!("unknown entity &{entity};"),
        });
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '-' | '_' | ':' | '.')
}

/// Parses well-formed XML (elements, attributes, text, entities); panics with
/// the position of the first violation.
pub fn parse_xml(text: &str) -> Element {
    let bytes: Vec<char> = text.chars().collect();
    let mut i = 0;
    let mut stack: Vec<Element> = vec![Element {
        name: "#document".into(),
        attributes: vec![],
        children: vec![],
        text: String::new(),
    }];
    let skip_ws = |i: &mut usize| {
        while *i < bytes.len() && bytes[*i].is_whitespace() {
            *i += 1;
        }
    };
    while i < bytes.len() {
        if bytes[i] != '<' {
            let start = i;
            while i < bytes.len() && bytes[i] != '<' {
                i += 1;
            }
            let raw: String = bytes[start..i].iter().collect();
            let top = stack.last_mut().unwrap();
            assert!(
                top.name != "#document" || raw.trim().is_empty(),
                "text outside the root: {raw:?}"
            );
            top.text.push_str(&unescape(&raw));
            continue;
        }
        i += 1;
        if bytes[i] == '/' {
            i += 1;
            let start = i;
            while i < bytes.len() && is_name_char(bytes[i]) {
                i += 1;
            }
            let name: String = bytes[start..i].iter().collect();
            skip_ws(&mut i);
            assert_eq!(bytes[i], '>', "at {i}");
            i += 1;
            let element = stack.pop().unwrap();
            assert_eq!(element.name, name, "mismatched close tag at {i}");
            stack.last_mut().unwrap().children.push(element);
            continue;
        }
        let start = i;
        while i < bytes.len() && is_name_char(bytes[i]) {
            i += 1;
        }
        let name: String = bytes[start..i].iter().collect();
        assert!(!name.is_empty(), "empty tag name at {i}");
        let mut element = Element {
            name,
            attributes: vec![],
            children: vec![],
            text: String::new(),
        };
        loop {
            skip_ws(&mut i);
            if bytes[i] == '/' {
                assert_eq!(bytes[i + 1], '>', "at {i}");
                i += 2;
                stack.last_mut().unwrap().children.push(element);
                break;
            }
            if bytes[i] == '>' {
                i += 1;
                stack.push(element);
                break;
            }
            let start = i;
            while is_name_char(bytes[i]) {
                i += 1;
            }
            let attribute: String = bytes[start..i].iter().collect();
            assert!(
                !attribute.is_empty(),
                "bad attribute at {i}: {:?}",
                &bytes[i..(i + 20).min(bytes.len())]
                    .iter()
                    .collect::<String>()
            );
            assert_eq!(bytes[i], '=', "attribute without value at {i}");
            assert_eq!(bytes[i + 1], '"', "unquoted attribute at {i}");
            i += 2;
            let value_start = i;
            while bytes[i] != '"' {
                assert!(bytes[i] != '<', "'<' inside attribute {attribute} at {i}");
                i += 1;
            }
            let value: String = bytes[value_start..i].iter().collect();
            i += 1;
            assert!(
                element.attributes.iter().all(|(n, _)| *n != attribute),
                "duplicate attribute {attribute}"
            );
            element.attributes.push((attribute, unescape(&value)));
        }
    }
    assert_eq!(
        stack.len(),
        1,
        "unclosed elements: {:?}",
        stack.iter().map(|e| &e.name).collect::<Vec<_>>()
    );
    let mut document = stack.pop().unwrap();
    assert_eq!(document.children.len(), 1, "exactly one root element");
    document.children.pop().unwrap()
}

fn number(element: &Element, name: &str) -> f64 {
    element
        .attribute(name)
        .unwrap_or_else(|| panic!("{} without {name}", element.name))
        .parse()
        .unwrap()
}

fn path_points(d: &str) -> Vec<(f64, f64)> {
    d.split([' ', 'M', 'C', 'L'])
        .filter(|s| !s.is_empty())
        .map(|pair| {
            let (x, y) = pair.split_once(',').unwrap();
            (x.parse().unwrap(), y.parse().unwrap())
        })
        .collect()
}

/// Checks the SVG is well-formed, boxes lie inside the canvas and never
/// overlap, and every edge starts and ends on a box. Returns the box count.
pub fn check_svg(svg: &str, direction: Direction) -> usize {
    let root = parse_xml(svg);
    assert_eq!(root.name, "svg");
    assert_eq!(root.attribute("xmlns"), Some("http://www.w3.org/2000/svg"));
    let (width, height) = (number(&root, "width"), number(&root, "height"));
    let mut all = Vec::new();
    root.walk(&mut all);
    let mut rects = Vec::new();
    let mut ids = std::collections::HashSet::new();
    for element in &all {
        if element.name == "g"
            && element
                .attribute("class")
                .is_some_and(|c| c.starts_with("node "))
        {
            let class = element.attribute("class").unwrap();
            assert!(
                class.contains(" op-") || class.starts_with("node op-"),
                "{class}"
            );
            assert!(
                ids.insert(element.attribute("data-id").unwrap().to_owned()),
                "duplicate box id"
            );
            let rect = element
                .children
                .iter()
                .find(|c| c.name == "rect")
                .expect("box has a rect");
            let (x, y, w, h) = (
                number(rect, "x"),
                number(rect, "y"),
                number(rect, "width"),
                number(rect, "height"),
            );
            assert!(
                x >= 0.0 && y >= 0.0 && x + w <= width + 0.5 && y + h <= height + 0.5,
                "box outside the canvas"
            );
            assert!(
                element.children.iter().any(|c| c.name == "title"),
                "box has a tooltip"
            );
            rects.push((x, y, w, h));
        }
    }
    // Boxes in one layer never overlap; sort along the layer axis to keep it
    // near-linear for big drawings.
    let mut sorted = rects.clone();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    for (index, a) in sorted.iter().enumerate() {
        for b in &sorted[index + 1..] {
            if b.0 >= a.0 + a.2 {
                break;
            }
            let overlap_x = a.0 < b.0 + b.2 - 0.5 && b.0 < a.0 + a.2 - 0.5;
            let overlap_y = a.1 < b.1 + b.3 - 0.5 && b.1 < a.1 + a.3 - 0.5;
            assert!(!(overlap_x && overlap_y), "boxes overlap: {a:?} {b:?}");
        }
    }
    let on_a_box = |(px, py): (f64, f64)| {
        rects.iter().any(|&(x, y, w, h)| {
            px >= x - 0.6 && px <= x + w + 0.6 && py >= y - 0.6 && py <= y + h + 0.6
        })
    };
    for element in &all {
        if element.name == "path" && element.attribute("class") == Some("edge") {
            let points = path_points(element.attribute("d").unwrap());
            assert!(points.len() >= 2);
            assert!(
                on_a_box(points[0]) && on_a_box(*points.last().unwrap()),
                "edge ends off the boxes: {points:?}"
            );
            assert_eq!(element.attribute("marker-end"), Some("url(#arrow)"));
            // A model's graph has no cycles: every edge flows the layout's way.
            let (start, end) = (points[0], *points.last().unwrap());
            let forward = match direction {
                Direction::TopDown => end.1 > start.1,
                Direction::LeftRight => end.0 > start.0,
            };
            assert!(forward, "edge against the {direction:?} flow: {points:?}");
        }
    }
    rects.len()
}

#[derive(Debug, PartialEq)]
enum Token {
    Id(String),
    Arrow,
    Punct(char),
}

fn dot_tokens(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '"' {
            let mut value = String::new();
            i += 1;
            loop {
                assert!(i < chars.len(), "unterminated string");
                match chars[i] {
                    '\\' => {
                        value.push(chars[i + 1]);
                        i += 2;
                    }
                    '"' => {
                        i += 1;
                        break;
                    }
                    '\n' => panic!("raw newline in a DOT string"),
                    other => {
                        value.push(other);
                        i += 1;
                    }
                }
            }
            tokens.push(Token::Id(value));
        } else if c == '-' && chars.get(i + 1) == Some(&'>') {
            tokens.push(Token::Arrow);
            i += 2;
        } else if "{}[]=;,".contains(c) {
            tokens.push(Token::Punct(c));
            i += 1;
        } else if c.is_alphanumeric() || c == '_' || c == '.' || c == '#' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '.')
            {
                i += 1;
            }
            tokens.push(Token::Id(chars[start..i].iter().collect()));
        } else {
            panic!("unexpected character {c:?} in DOT");
        }
    }
    tokens
}

/// Parses `digraph ID { stmt* }` with node, edge and attribute statements;
/// checks every edge names declared nodes. Returns (nodes, edges).
pub fn check_dot(text: &str) -> (usize, usize) {
    let tokens = dot_tokens(text);
    let mut i = 0;
    let id = |i: &mut usize| -> String {
        match &tokens[*i] {
            Token::Id(value) => {
                *i += 1;
                value.clone()
            }
            other => panic!("expected an id, found {other:?}"),
        }
    };
    let expect = |i: &mut usize, c: char| {
        assert_eq!(tokens[*i], Token::Punct(c), "token {i}");
        *i += 1;
    };
    let attributes = |i: &mut usize| {
        if tokens[*i] == Token::Punct('[') {
            *i += 1;
            while tokens[*i] != Token::Punct(']') {
                id(i);
                expect(i, '=');
                id(i);
                if tokens[*i] == Token::Punct(',') {
                    *i += 1;
                }
            }
            *i += 1;
        }
    };
    assert_eq!(id(&mut i), "digraph");
    id(&mut i);
    expect(&mut i, '{');
    let mut nodes = std::collections::HashSet::new();
    let mut edges = Vec::new();
    while tokens[i] != Token::Punct('}') {
        let first = id(&mut i);
        if tokens[i] == Token::Punct('=') {
            i += 1;
            id(&mut i);
        } else if tokens[i] == Token::Arrow {
            i += 1;
            let second = id(&mut i);
            edges.push((first, second));
            attributes(&mut i);
        } else {
            attributes(&mut i);
            if first != "node" && first != "edge" && first != "graph" {
                assert!(nodes.insert(first.clone()), "node {first} declared twice");
            }
        }
        expect(&mut i, ';');
    }
    assert_eq!(i + 1, tokens.len(), "nothing after the closing brace");
    for (from, to) in &edges {
        assert!(
            nodes.contains(from) && nodes.contains(to),
            "edge {from} -> {to} names an undeclared node"
        );
    }
    (nodes.len(), edges.len())
}
