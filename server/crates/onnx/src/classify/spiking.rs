//! Stage one: is this a spiking network? Looks for neuron ops, the unrolled
//! membrane pattern, that pattern in Loop/Scan bodies, spiking frameworks in
//! the producer or metadata, and (as support only) neuron-like names.

use super::Kind;
use super::evidence::{Evidence, NodeRef, Source};
use crate::diagnostic::GraphId;
use crate::proto::tensor_proto::DataType;
use crate::proto::{GraphProto, ModelProto};
use std::collections::HashMap;

/// Spiking frameworks whose name in producer/metadata is evidence.
const FRAMEWORKS: &[&str] = &[
    "snntorch",
    "norse",
    "spikingjelly",
    "nengo",
    "lava-dl",
    "lava",
    "sinabs",
    "rockpool",
    "bindsnet",
    "brian2",
    "spyx",
    "slayer",
];

/// Neuron op types (lowercase, punctuation removed) exporters use for custom ops.
const NEURON_OPS: &[&str] = &[
    "lif",
    "if",
    "leaky",
    "rleaky",
    "cubalif",
    "synaptic",
    "rsynaptic",
    "alpha",
    "lapicque",
    "izhikevich",
    "adex",
    "alif",
    "plif",
    "srm",
    "lifnode",
    "ifnode",
    "plifnode",
    "lifneuron",
    "ifneuron",
    "lifcell",
    "lifrefraccell",
    "multisteplifnode",
    "multistepifnode",
    "multistepplifnode",
    "spikingneuron",
    "lifrate",
    "integrateandfire",
    "leakyintegrateandfire",
    "heaviside",
    "spikefn",
    "atan",
];

/// Ops a membrane value flows through between a reset and the next step's reset.
const MEMBRANE_OPS: &[&str] = &["Mul", "Add", "Sub", "Identity", "Clip"];

fn is_default(domain: &str) -> bool {
    domain.is_empty() || domain == "ai.onnx"
}

pub(super) fn evidence(model: &ModelProto) -> Vec<Evidence> {
    let mut out = Vec::new();
    framework_evidence(model, &mut out);
    let mut neuron_nodes = Vec::new();
    let mut name_nodes = Vec::new();
    let mut best_chain: Option<Chain> = None;
    let mut heaviside_nodes = Vec::new();
    let mut loop_hits = Vec::new();
    if let Some(g) = &model.graph {
        let mut walk = Walk {
            neuron_nodes: &mut neuron_nodes,
            name_nodes: &mut name_nodes,
            best_chain: &mut best_chain,
            heaviside_nodes: &mut heaviside_nodes,
            loop_hits: &mut loop_hits,
        };
        walk.graph(g, &GraphId::Main, false, 0);
    }
    if !neuron_nodes.is_empty() {
        out.push(Evidence::ops(
            Source::Op,
            Kind::Snn,
            0.95,
            &neuron_nodes,
            "spiking neuron operators",
        ));
    }
    let names_support = !name_nodes.is_empty();
    if let Some(chain) = best_chain.filter(|c| c.steps >= 2) {
        let weight =
            if chain.steps >= 3 { 0.9 } else { 0.7 } + if names_support { 0.05 } else { 0.0 };
        let mut e = Evidence::ops(
            Source::Pattern,
            Kind::Snn,
            weight,
            &chain.nodes,
            "unrolled spiking neuron",
        );
        e.message = format!(
            "unrolled spiking neuron over {} time steps in {} layer(s): Heaviside ({}) cast to float spikes, reset Sub fed by the spikes, membrane carried through a decay Mul into the next step; {}",
            chain.steps,
            chain.layers,
            chain.heaviside_ops.join("/"),
            e.message
        );
        out.push(e);
    } else if !heaviside_nodes.is_empty() {
        let mut e = Evidence::ops(
            Source::Pattern,
            Kind::Snn,
            0.2,
            &heaviside_nodes,
            "threshold",
        );
        e.message = format!(
            "a comparison cast to float (a possible spike) but no membrane recurrence: {}",
            e.message
        );
        out.push(e);
    }
    if !loop_hits.is_empty() {
        let mut e = Evidence::ops(Source::Pattern, Kind::Snn, 0.85, &loop_hits, "loop body");
        e.message = format!(
            "Loop/Scan body with a spiking neuron step (Heaviside spikes, reset Sub, decay Mul on the carried membrane): {}",
            e.message
        );
        out.push(e);
    }
    if names_support {
        out.push(Evidence::ops(
            Source::Names,
            Kind::Snn,
            0.3,
            &name_nodes,
            "neuron-like node names",
        ));
    }
    out
}

fn framework_evidence(model: &ModelProto, out: &mut Vec<Evidence>) {
    let find = |text: &str| {
        let lower = text.to_ascii_lowercase();
        FRAMEWORKS.iter().find(|f| lower.contains(*f)).copied()
    };
    for (what, value) in [
        ("producer_name", &model.producer_name),
        ("producer_version", &model.producer_version),
    ] {
        if let Some(fw) = value.as_deref().and_then(find) {
            out.push(Evidence::text(
                Source::Producer,
                Kind::Snn,
                0.7,
                format!("{what} '{}' names {fw}", value.as_deref().unwrap_or("")),
            ));
        }
    }
    let mut texts: Vec<(String, &str)> = Vec::new();
    for p in &model.metadata_props {
        let key = p.key.as_deref().unwrap_or("");
        texts.push((format!("metadata '{key}'"), key));
        texts.push((
            format!("metadata '{key}'"),
            p.value.as_deref().unwrap_or(""),
        ));
    }
    if let Some(d) = model.doc_string.as_deref() {
        texts.push(("model doc_string".into(), d));
    }
    if let Some(d) = model.graph.as_ref().and_then(|g| g.doc_string.as_deref()) {
        texts.push(("graph doc_string".into(), d));
    }
    for (what, text) in texts {
        if let Some(fw) = find(text) {
            out.push(Evidence::text(
                Source::Metadata,
                Kind::Snn,
                0.65,
                format!("{what} names {fw}"),
            ));
            break;
        }
    }
}

/// The longest reset-to-reset chain found in one graph.
#[derive(Clone)]
struct Chain {
    steps: usize,
    layers: usize,
    heaviside_ops: Vec<String>,
    nodes: Vec<NodeRef>,
}

struct Walk<'a> {
    neuron_nodes: &'a mut Vec<NodeRef>,
    name_nodes: &'a mut Vec<NodeRef>,
    best_chain: &'a mut Option<Chain>,
    heaviside_nodes: &'a mut Vec<NodeRef>,
    loop_hits: &'a mut Vec<NodeRef>,
}

impl Walk<'_> {
    fn graph(&mut self, g: &GraphProto, id: &GraphId, is_loop_body: bool, depth: usize) {
        for (index, node) in g.node.iter().enumerate() {
            let op = node.op_type.as_deref().unwrap_or("");
            let domain = node.domain.as_deref().unwrap_or("");
            let norm: String = op
                .chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .collect::<String>()
                .to_ascii_lowercase();
            // `If` is ONNX control flow in the default domain; elsewhere it is an IF neuron.
            let neuron = (NEURON_OPS.contains(&norm.as_str())
                && !(is_default(domain) && matches!(op, "If" | "Atan")))
                || (!is_default(domain)
                    && (norm.contains("lif") || norm.contains("spik") || norm.contains("neuron")));
            if neuron && domain != "ai.onnx.ml" {
                self.neuron_nodes.push(NodeRef::new(id, index, node));
            }
            let name = node.name.as_deref().unwrap_or("").to_ascii_lowercase();
            if ["lif", "leaky", "spike", "neuron", "membrane", "synaptic"]
                .iter()
                .any(|k| name.contains(k))
            {
                self.name_nodes.push(NodeRef::new(id, index, node));
            }
            if depth < 32 {
                let body = is_default(domain) && matches!(op, "Loop" | "Scan");
                for a in &node.attribute {
                    let sub = GraphId::Sub(
                        Box::new(id.clone()),
                        index,
                        a.name.clone().unwrap_or_default(),
                    );
                    for sg in a.g.as_deref().into_iter().chain(&a.graphs) {
                        self.graph(sg, &sub, body, depth + 1);
                    }
                }
            }
        }
        let p = Pattern::find(g);
        self.heaviside_nodes
            .extend(p.heaviside.iter().map(|&i| NodeRef::new(id, i, &g.node[i])));
        if is_loop_body && let Some(reset) = p.loop_reset(g) {
            self.loop_hits.push(NodeRef::new(id, reset, &g.node[reset]));
        }
        if let Some(chain) = p.longest_chain(g, id)
            && self
                .best_chain
                .as_ref()
                .is_none_or(|b| chain.steps > b.steps)
        {
            *self.best_chain = Some(chain);
        }
    }
}

/// The spiking building blocks of one graph, by node index.
struct Pattern<'g> {
    producer: HashMap<&'g str, usize>,
    consumers: HashMap<&'g str, Vec<usize>>,
    /// Comparison nodes whose output becomes a float spike.
    heaviside: Vec<usize>,
    /// Reset nodes: Sub(membrane, spikes [x threshold]) or Where(spike, reset, membrane).
    resets: Vec<usize>,
}

impl<'g> Pattern<'g> {
    fn find(g: &'g GraphProto) -> Pattern<'g> {
        let mut producer = HashMap::new();
        let mut consumers: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, n) in g.node.iter().enumerate() {
            for o in &n.output {
                producer.insert(o.as_str(), i);
            }
            for inp in &n.input {
                consumers.entry(inp.as_str()).or_default().push(i);
            }
        }
        let op = |i: usize| {
            let n = &g.node[i];
            if is_default(n.domain.as_deref().unwrap_or("")) {
                n.op_type.as_deref().unwrap_or("")
            } else {
                ""
            }
        };
        let mut heaviside = Vec::new();
        let mut spike_of: HashMap<&str, usize> = HashMap::new(); // spike value -> heaviside node
        let mut bool_spikes: HashMap<&str, usize> = HashMap::new();
        for (i, n) in g.node.iter().enumerate() {
            let out = n.output.first().map(String::as_str).unwrap_or("");
            match op(i) {
                "Sign" => {
                    spike_of.insert(out, i);
                }
                "Greater" | "GreaterOrEqual" | "Less" | "LessOrEqual" => {
                    for &c in consumers.get(out).map(Vec::as_slice).unwrap_or(&[]) {
                        let cn = &g.node[c];
                        let to_float = match op(c) {
                            "Cast" => matches!(
                                crate::attr::int(cn, "to")
                                    .and_then(|t| DataType::try_from(t as i32).ok()),
                                Some(
                                    DataType::Float
                                        | DataType::Float16
                                        | DataType::Double
                                        | DataType::Bfloat16
                                )
                            ),
                            "Where" => cn.input.first().map(String::as_str) == Some(out),
                            _ => false,
                        };
                        if to_float {
                            spike_of.insert(cn.output.first().map(String::as_str).unwrap_or(""), i);
                            bool_spikes.insert(out, i);
                            if !heaviside.contains(&i) {
                                heaviside.push(i);
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        // Spikes scaled by a threshold or graded factor still count as spikes.
        let spike_like = |v: &str| -> bool {
            if spike_of.contains_key(v) {
                return true;
            }
            match producer.get(v) {
                Some(&p) if op(p) == "Mul" => g.node[p]
                    .input
                    .iter()
                    .any(|x| spike_of.contains_key(x.as_str())),
                _ => false,
            }
        };
        let mut resets = Vec::new();
        for (i, n) in g.node.iter().enumerate() {
            let is_reset = match op(i) {
                "Sub" => n.input.get(1).is_some_and(|v| spike_like(v)),
                "Where" => {
                    n.input
                        .first()
                        .is_some_and(|c| bool_spikes.contains_key(c.as_str()))
                        && n.input.len() == 3
                        && {
                            // A Where that only turns the comparison into a float spike is not a reset.
                            !spike_of
                                .contains_key(n.output.first().map(String::as_str).unwrap_or(""))
                                || n.input.iter().skip(1).any(|x| {
                                    producer
                                        .get(x.as_str())
                                        .is_some_and(|&p| MEMBRANE_OPS.contains(&op(p)))
                                })
                        }
                }
                _ => false,
            };
            if is_reset {
                resets.push(i);
            }
        }
        Pattern {
            producer,
            consumers,
            heaviside,
            resets,
        }
    }

    fn op(g: &GraphProto, i: usize) -> &str {
        let n = &g.node[i];
        if is_default(n.domain.as_deref().unwrap_or("")) {
            n.op_type.as_deref().unwrap_or("")
        } else {
            ""
        }
    }

    /// Resets reachable from `from`'s output through membrane ops, passing at
    /// least one Mul (the decay), arriving on the membrane operand.
    fn next_resets(&self, g: &GraphProto, from: usize, is_reset: &[bool]) -> Vec<usize> {
        let mut found = Vec::new();
        // (value, passed a Mul, hops)
        let mut stack: Vec<(&str, bool, usize)> = g.node[from]
            .output
            .iter()
            .map(|o| (o.as_str(), false, 0))
            .collect();
        let mut visited = 0usize;
        while let Some((value, decayed, hops)) = stack.pop() {
            visited += 1;
            if visited > 64 || hops > 4 {
                continue;
            }
            for &c in self.consumers.get(value).map(Vec::as_slice).unwrap_or(&[]) {
                if c <= from {
                    continue;
                }
                let cn = &g.node[c];
                let slot = cn.input.iter().position(|x| x == value);
                if is_reset[c] {
                    let on_membrane = match Self::op(g, c) {
                        "Sub" => slot == Some(0),
                        _ => slot.is_some_and(|s| s > 0),
                    };
                    if decayed && on_membrane {
                        found.push(c);
                    }
                    continue;
                }
                let op = Self::op(g, c);
                if MEMBRANE_OPS.contains(&op) {
                    for o in &cn.output {
                        stack.push((o.as_str(), decayed || op == "Mul", hops + 1));
                    }
                }
            }
        }
        found
    }

    /// Longest reset -> decay -> reset chain (time steps) by dynamic
    /// programming over node order; also counts independent chains (layers).
    fn longest_chain(&self, g: &GraphProto, id: &GraphId) -> Option<Chain> {
        if self.resets.is_empty() {
            return None;
        }
        let mut is_reset = vec![false; g.node.len()];
        for &r in &self.resets {
            is_reset[r] = true;
        }
        let mut length: HashMap<usize, usize> = self.resets.iter().map(|&r| (r, 1)).collect();
        let mut prev: HashMap<usize, usize> = HashMap::new();
        let mut has_successor: HashMap<usize, bool> = HashMap::new();
        for &r in &self.resets {
            let here = length[&r];
            for n in self.next_resets(g, r, &is_reset) {
                has_successor.insert(r, true);
                if length[&n] < here + 1 {
                    length.insert(n, here + 1);
                    prev.insert(n, r);
                }
            }
        }
        let (&end, &resets) = length
            .iter()
            .max_by_key(|(i, l)| (**l, std::cmp::Reverse(**i)))?;
        // Layers: chain ends of length >= 2 (a reset with no successor).
        let layers = length
            .iter()
            .filter(|(r, l)| **l >= 2 && !has_successor.contains_key(*r))
            .count()
            .max(1);
        let mut nodes = vec![NodeRef::new(id, end, &g.node[end])];
        let mut at = end;
        while let Some(&p) = prev.get(&at) {
            nodes.push(NodeRef::new(id, p, &g.node[p]));
            at = p;
        }
        nodes.reverse();
        // Exporters often write the first step without a reset (no spikes yet):
        // its membrane Sub still precedes the first reset through a decay Mul.
        let steps = resets + usize::from(self.has_prior_step(g, at));
        let mut heaviside_ops: Vec<String> = self
            .heaviside
            .iter()
            .map(|&h| Self::op(g, h).to_owned())
            .collect();
        heaviside_ops.sort();
        heaviside_ops.dedup();
        Some(Chain {
            steps,
            layers,
            heaviside_ops,
            nodes,
        })
    }

    /// Whether the membrane operand of reset `first` comes, through a decay
    /// Mul, from an earlier step's Sub or Add that is not itself a reset.
    fn has_prior_step(&self, g: &GraphProto, first: usize) -> bool {
        let Some(start) = g.node[first].input.first() else {
            return false;
        };
        self.membrane_walk(g, start, |_, op, decayed| decayed && op == Some("Sub"))
    }

    /// In a Loop/Scan body: a reset whose membrane operand comes from a body
    /// input (the carried state) through a decay Mul.
    fn loop_reset(&self, g: &GraphProto) -> Option<usize> {
        let formal: Vec<&str> = g.input.iter().filter_map(|i| i.name.as_deref()).collect();
        self.resets.iter().copied().find(|&r| {
            let n = &g.node[r];
            let membrane = if Self::op(g, r) == "Sub" {
                n.input.first()
            } else {
                n.input.get(2)
            };
            let Some(start) = membrane else { return false };
            self.membrane_walk(g, start, |v, _, decayed| decayed && formal.contains(&v))
        })
    }

    /// Walks back from `start` through membrane ops (at most 64 values and 5
    /// hops), asking `found(value, its producer's op, decayed)` of each value,
    /// where `decayed` says a Mul (the decay) was passed on the way; true as
    /// soon as `found` is.
    fn membrane_walk(
        &self,
        g: &GraphProto,
        start: &str,
        found: impl Fn(&str, Option<&str>, bool) -> bool,
    ) -> bool {
        let mut stack = vec![(start, false, 0usize)];
        let mut visited = 0;
        while let Some((v, decayed, hops)) = stack.pop() {
            visited += 1;
            if visited > 64 || hops > 5 {
                continue;
            }
            let producer = self.producer.get(v).copied();
            let op = producer.map(|p| Self::op(g, p));
            if found(v, op, decayed) {
                return true;
            }
            if let (Some(p), Some(op)) = (producer, op)
                && MEMBRANE_OPS.contains(&op)
            {
                for x in &g.node[p].input {
                    stack.push((x.as_str(), decayed || op == "Mul", hops + 1));
                }
            }
        }
        false
    }
}
