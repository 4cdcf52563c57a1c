//! Tree ensembles: TreeEnsembleClassifier, TreeEnsembleRegressor (ml opset
//! 1-3 attributes) and TreeEnsemble (ml opset 5), with onnxruntime's
//! aggregation, base values and binary-classifier rules
//! (`tree_ensemble_aggregator.h`). Scores accumulate in the threshold type:
//! f32 for float inputs (each sum rounded to f32), f64 for double inputs.

use super::linear::{Labels, NEG, POS};
use super::post::{PostTransform, probit};
use super::{Attrs, BoxKernel, Kernel, same_lengths};
use crate::error::KernelError;
use crate::value::{Data, Tensor, Value};
use std::collections::HashMap;

#[derive(Debug, Clone)]
enum Mode {
    Leq,
    Lt,
    Gte,
    Gt,
    Eq,
    Neq,
    Member(Vec<f64>),
}

#[derive(Debug, Clone, Copy)]
enum Child {
    Node(u32),
    Leaf(u32),
}

struct Node {
    feature: usize,
    threshold: f64,
    mode: Mode,
    missing_true: bool,
    on_true: Child,
    on_false: Child,
}

#[derive(Clone, Copy, PartialEq)]
enum Aggregate {
    Sum,
    Average,
    Min,
    Max,
}

/// A `BRANCH_LEQ` node packed for the walk (what sklearn exports): children
/// `>= 0` are nodes, `< 0` are leaves as `!leaf`.
struct LeqNode {
    threshold: f64,
    feature: u32,
    missing_true: bool,
    on_true: i32,
    on_false: i32,
}

struct Forest {
    nodes: Vec<Node>,
    /// The same trees packed, when every node is `BRANCH_LEQ` (24 bytes a
    /// node instead of 72, no match per node).
    leq: Option<Vec<LeqNode>>,
    /// Per leaf, its (target or class, weight) pairs.
    leaves: Vec<Vec<(usize, f64)>>,
    roots: Vec<Child>,
    max_feature: usize,
}

impl Forest {
    /// A forest whose trees are checked to have no cycle, packed for the
    /// row loop.
    fn checked(
        nodes: Vec<Node>,
        leaves: Vec<Vec<(usize, f64)>>,
        roots: Vec<Child>,
        max_feature: usize,
    ) -> Result<Forest, KernelError> {
        let mut forest = Forest {
            nodes,
            leq: None,
            leaves,
            roots,
            max_feature,
        };
        forest.check_acyclic()?;
        forest.leq = forest.pack_leq();
        Ok(forest)
    }

    fn pack_leq(&self) -> Option<Vec<LeqNode>> {
        let link = |c: Child| -> Option<i32> {
            match c {
                Child::Node(n) => i32::try_from(n).ok(),
                Child::Leaf(l) => i32::try_from(l).ok().map(|l| !l),
            }
        };
        self.nodes
            .iter()
            .map(|n| {
                matches!(n.mode, Mode::Leq).then_some(())?;
                Some(LeqNode {
                    threshold: n.threshold,
                    feature: u32::try_from(n.feature).ok()?,
                    missing_true: n.missing_true,
                    on_true: link(n.on_true)?,
                    on_false: link(n.on_false)?,
                })
            })
            .collect()
    }

    fn leaf_of(&self, root: Child, x: &[f64]) -> u32 {
        if let Some(nodes) = &self.leq {
            let mut at = match root {
                Child::Node(n) => n as i32,
                Child::Leaf(l) => return l,
            };
            while at >= 0 {
                let node = &nodes[at as usize];
                let v = x[node.feature as usize];
                // NaN fails the comparison and goes where missing values go.
                let go = v <= node.threshold || (node.missing_true && v.is_nan());
                at = if go { node.on_true } else { node.on_false };
            }
            return !at as u32;
        }
        let mut at = root;
        loop {
            match at {
                Child::Leaf(l) => return l,
                Child::Node(n) => {
                    let node = &self.nodes[n as usize];
                    let v = x[node.feature];
                    let go = if v.is_nan() {
                        // NaN fails every comparison; NEQ is the exception, as in C++.
                        node.missing_true || matches!(node.mode, Mode::Neq)
                    } else {
                        match &node.mode {
                            Mode::Leq => v <= node.threshold,
                            Mode::Lt => v < node.threshold,
                            Mode::Gte => v >= node.threshold,
                            Mode::Gt => v > node.threshold,
                            Mode::Eq => v == node.threshold,
                            Mode::Neq => v != node.threshold,
                            Mode::Member(set) => set.contains(&v),
                        }
                    };
                    at = if go { node.on_true } else { node.on_false };
                }
            }
        }
    }

    /// Rejects child links that loop, so walking a tree always ends.
    fn check_acyclic(&self) -> Result<(), KernelError> {
        // 0 = unseen, 1 = on the current path, 2 = done.
        let mut state = vec![0u8; self.nodes.len()];
        for &root in &self.roots {
            let mut stack = vec![(root, false)];
            while let Some((child, leaving)) = stack.pop() {
                let Child::Node(n) = child else { continue };
                let n = n as usize;
                if leaving {
                    state[n] = 2;
                    continue;
                }
                match state[n] {
                    1 => {
                        return Err(KernelError::Value(format!(
                            "node {n} is its own descendant (the tree has a cycle)"
                        )));
                    }
                    2 => continue,
                    _ => {}
                }
                state[n] = 1;
                stack.push((child, true));
                stack.push((self.nodes[n].on_true, false));
                stack.push((self.nodes[n].on_false, false));
            }
        }
        Ok(())
    }
}

fn parse_mode(s: &str) -> Result<Option<Mode>, KernelError> {
    Ok(Some(match s {
        "BRANCH_LEQ" => Mode::Leq,
        "BRANCH_LT" => Mode::Lt,
        "BRANCH_GTE" => Mode::Gte,
        "BRANCH_GT" => Mode::Gt,
        "BRANCH_EQ" => Mode::Eq,
        "BRANCH_NEQ" => Mode::Neq,
        "LEAF" => return Ok(None),
        other => {
            return Err(KernelError::Attribute(format!(
                "node mode '{other}' is not a BRANCH_* or LEAF"
            )));
        }
    }))
}

fn to_usize(v: i64, what: &str) -> Result<usize, KernelError> {
    usize::try_from(v).map_err(|_| KernelError::Value(format!("{what} {v} is negative")))
}

/// Builds a forest from the opset 1-3 attributes; `prefix` is "class" or "target".
fn legacy_forest(a: &Attrs, prefix: &str) -> Result<Forest, KernelError> {
    let tree_ids = a.required_ints("nodes_treeids")?;
    let node_ids = a.required_ints("nodes_nodeids")?;
    let features = a.ints("nodes_featureids").unwrap_or_default();
    let values = a.floats_or_tensor("nodes_values")?.unwrap_or_default();
    let modes = a.required_strings("nodes_modes")?;
    let trues = a.ints("nodes_truenodeids").unwrap_or_default();
    let falses = a.ints("nodes_falsenodeids").unwrap_or_default();
    let missing = a
        .ints("nodes_missing_value_tracks_true")
        .unwrap_or_default();
    let n = tree_ids.len();
    same_lengths(
        ("nodes_treeids", n),
        &[
            ("nodes_nodeids", node_ids.len()),
            ("nodes_modes", modes.len()),
            ("nodes_featureids", features.len()),
            ("nodes_values", values.len()),
            ("nodes_truenodeids", trues.len()),
            ("nodes_falsenodeids", falses.len()),
        ],
    )?;
    let is_leaf: Vec<bool> = modes.iter().map(|m| m == "LEAF").collect();
    // Map (tree, node id) to a node or leaf index.
    let mut index: HashMap<(i64, i64), Child> = HashMap::new();
    let (mut n_nodes, mut n_leaves) = (0u32, 0u32);
    let mut roots = Vec::new();
    let mut seen_trees = std::collections::HashSet::new();
    for i in 0..n {
        let child = if is_leaf[i] {
            n_leaves += 1;
            Child::Leaf(n_leaves - 1)
        } else {
            n_nodes += 1;
            Child::Node(n_nodes - 1)
        };
        if index.insert((tree_ids[i], node_ids[i]), child).is_some() {
            return Err(KernelError::Value(format!(
                "tree {} has node id {} twice",
                tree_ids[i], node_ids[i]
            )));
        }
        // onnxruntime takes a tree's first listed node as its root.
        if seen_trees.insert(tree_ids[i]) {
            roots.push(child);
        }
    }
    let mut nodes = Vec::with_capacity(n_nodes as usize);
    let mut max_feature = 0;
    for i in 0..n {
        if is_leaf[i] {
            continue;
        }
        let link = |id: i64| {
            index.get(&(tree_ids[i], id)).copied().ok_or_else(|| {
                KernelError::Value(format!(
                    "tree {} node {} points to missing node {id}",
                    tree_ids[i], node_ids[i]
                ))
            })
        };
        let feature = to_usize(features[i], "feature id")?;
        max_feature = max_feature.max(feature + 1);
        nodes.push(Node {
            feature,
            threshold: values[i],
            mode: parse_mode(&modes[i])?.expect("branch"),
            missing_true: missing.get(i).copied().unwrap_or(0) != 0,
            on_true: link(trues[i])?,
            on_false: link(falses[i])?,
        });
    }
    let mut leaves = vec![Vec::new(); n_leaves as usize];
    let w_tree = a.ints(&format!("{prefix}_treeids")).unwrap_or_default();
    let w_node = a.ints(&format!("{prefix}_nodeids")).unwrap_or_default();
    let w_id = a.ints(&format!("{prefix}_ids")).unwrap_or_default();
    let w_val = a
        .floats_or_tensor(&format!("{prefix}_weights"))?
        .unwrap_or_default();
    if [w_node.len(), w_id.len(), w_val.len()]
        .iter()
        .any(|&l| l != w_tree.len())
    {
        return Err(KernelError::Shape(format!(
            "{prefix}_treeids/nodeids/ids/weights have different lengths"
        )));
    }
    for j in 0..w_tree.len() {
        match index.get(&(w_tree[j], w_node[j])) {
            Some(Child::Leaf(l)) => {
                leaves[*l as usize].push((to_usize(w_id[j], "target/class id")?, w_val[j]))
            }
            _ => {
                return Err(KernelError::Value(format!(
                    "{prefix} weight {j} names tree {} node {}, which is not a leaf",
                    w_tree[j], w_node[j]
                )));
            }
        }
    }
    let forest = Forest::checked(nodes, leaves, roots, max_feature)?;
    Ok(forest)
}

/// Rows of X as f64 (exact for float thresholds), and whether to accumulate in f32.
fn rows_f64(
    inputs: &[Option<&Value>],
    forest: &Forest,
) -> Result<(usize, usize, Vec<f64>, bool), KernelError> {
    let t = super::basic::input_tensor(inputs, 0)?;
    let f32_mode = t.dtype() != crate::value::DType::F64;
    let x = match &t.data {
        // Integers compare against float thresholds as floats (C++ promotion).
        Data::I64(v) => v.iter().map(|&x| x as f32 as f64).collect(),
        Data::I32(v) => v.iter().map(|&x| x as f32 as f64).collect(),
        other => other.to_f64().ok_or_else(|| {
            KernelError::Type(format!("X must be numeric, found {}", other.dtype()))
        })?,
    };
    let (rows, cols) = match t.shape.len() {
        0 => (1, 1),
        1 => (1, t.shape[0]),
        _ => (t.shape[0], t.shape[1..].iter().product()),
    };
    if cols < forest.max_feature {
        return Err(KernelError::Shape(format!(
            "X has {cols} features, the trees read feature {}",
            forest.max_feature - 1
        )));
    }
    Ok((rows, cols, x, f32_mode))
}

#[derive(Clone, Copy, Default)]
struct Score {
    value: f64,
    has: bool,
}

fn add(a: f64, b: f64, f32_mode: bool) -> f64 {
    if f32_mode {
        (a as f32 + b as f32) as f64
    } else {
        a + b
    }
}

/// Aggregates the leaves of all trees for one row into `scores`.
fn aggregate(
    forest: &Forest,
    x: &[f64],
    agg: Aggregate,
    f32_mode: bool,
    scores: &mut [Score],
) -> Result<(), KernelError> {
    for &root in &forest.roots {
        let leaf = forest.leaf_of(root, x);
        for &(target, w) in &forest.leaves[leaf as usize] {
            let s = scores.get_mut(target).ok_or_else(|| {
                KernelError::Value(format!(
                    "leaf weight for target/class {target} is out of range"
                ))
            })?;
            s.value = match agg {
                Aggregate::Sum | Aggregate::Average => add(s.value, w, f32_mode),
                Aggregate::Min => {
                    if !s.has || w < s.value {
                        w
                    } else {
                        s.value
                    }
                }
                Aggregate::Max => {
                    if !s.has || w > s.value {
                        w
                    } else {
                        s.value
                    }
                }
            };
            s.has = true;
        }
    }
    Ok(())
}

fn write_scores(
    scores: &[f32],
    transform: PostTransform,
    add_second_class: i32,
    out: &mut Vec<f32>,
) {
    let mut row = scores.to_vec();
    if row.len() >= 2 {
        super::post::apply_row(&mut row, transform);
        out.extend_from_slice(&row);
    } else if let Some(&s) = row.first() {
        if transform == PostTransform::Probit {
            out.extend_from_slice(&[probit(s), 0.0]);
        } else if add_second_class < 0 {
            out.extend_from_slice(&[s, 0.0]);
        } else {
            out.extend_from_slice(&super::post::expand_binary(s, transform, add_second_class));
        }
    }
}

// ---------------------------------------------------------------- regressors

struct Regressor {
    forest: Forest,
    targets: usize,
    agg: Aggregate,
    base: Vec<f64>,
    transform: PostTransform,
    /// TreeEnsemble (opset 5) returns X's type; the older op always float.
    keep_double: bool,
}

fn parse_aggregate(s: &str) -> Result<Aggregate, KernelError> {
    Ok(match s {
        "SUM" => Aggregate::Sum,
        "AVERAGE" => Aggregate::Average,
        "MIN" => Aggregate::Min,
        "MAX" => Aggregate::Max,
        other => {
            return Err(KernelError::Attribute(format!(
                "aggregate_function '{other}' is not one of SUM, AVERAGE, MIN, MAX"
            )));
        }
    })
}

pub(crate) fn regressor(a: &Attrs) -> Result<BoxKernel, KernelError> {
    let forest = legacy_forest(a, "target")?;
    let targets = to_usize(a.i("n_targets").unwrap_or(1), "n_targets")?;
    Ok(Box::new(Regressor {
        forest,
        targets,
        agg: parse_aggregate(&a.s_or("aggregate_function", "SUM"))?,
        base: a.floats_or_tensor("base_values")?.unwrap_or_default(),
        transform: PostTransform::from_attrs(a)?,
        keep_double: false,
    }))
}

impl Kernel for Regressor {
    fn run(&self, inputs: &[Option<&Value>]) -> Result<Vec<Value>, KernelError> {
        let (rows, cols, x, f32_mode) = rows_f64(inputs, &self.forest)?;
        let n_trees = self.forest.roots.len() as f64;
        let use_base = self.base.len() == self.targets;
        let origin = if self.base.len() == 1 {
            self.base[0]
        } else {
            0.0
        };
        let mut out = Vec::with_capacity(rows * self.targets);
        let mut scores = vec![Score::default(); self.targets];
        for r in 0..rows {
            scores.iter_mut().for_each(|s| *s = Score::default());
            aggregate(
                &self.forest,
                &x[r * cols..(r + 1) * cols],
                self.agg,
                f32_mode,
                &mut scores,
            )?;
            let finals: Vec<f64> = scores
                .iter()
                .enumerate()
                .map(|(k, s)| {
                    let base = if self.targets == 1 {
                        origin
                    } else if use_base {
                        self.base[k]
                    } else {
                        0.0
                    };
                    match self.agg {
                        Aggregate::Average => s.value / n_trees + base,
                        _ => base + if s.has { s.value } else { 0.0 },
                    }
                })
                .collect();
            let mut row: Vec<f32> = finals.iter().map(|&v| v as f32).collect();
            if !self.keep_double || f32_mode {
                super::post::apply_row(&mut row, self.transform);
                out.extend(row.iter().map(|&v| v as f64));
            } else {
                // Double output of TreeEnsemble keeps full precision unless transformed.
                if self.transform == PostTransform::None {
                    out.extend_from_slice(&finals);
                } else {
                    super::post::apply_row(&mut row, self.transform);
                    out.extend(row.iter().map(|&v| v as f64));
                }
            }
        }
        let data = if self.keep_double && !f32_mode {
            Data::F64(out)
        } else {
            Data::F32(out.iter().map(|&v| v as f32).collect())
        };
        Ok(vec![Value::Tensor(Tensor {
            shape: vec![rows, self.targets],
            data,
        })])
    }
}

/// TreeEnsemble (ai.onnx.ml opset 5): nodes by index, leaves separate, set membership.
pub(crate) fn ensemble5(a: &Attrs) -> Result<BoxKernel, KernelError> {
    let tensor_f64 = |name: &str| -> Result<Vec<f64>, KernelError> {
        match a.tensor(name)? {
            Some(t) => t
                .data
                .to_f64()
                .ok_or_else(|| KernelError::Type(format!("{name} must be numeric"))),
            None => Ok(Vec::new()),
        }
    };
    let roots = a.required_ints("tree_roots")?;
    let features = a.ints("nodes_featureids").unwrap_or_default();
    let splits = tensor_f64("nodes_splits")?;
    let modes = tensor_f64("nodes_modes")?;
    let trues = a.ints("nodes_truenodeids").unwrap_or_default();
    let falses = a.ints("nodes_falsenodeids").unwrap_or_default();
    let true_leafs = a.ints("nodes_trueleafs").unwrap_or_default();
    let false_leafs = a.ints("nodes_falseleafs").unwrap_or_default();
    let missing = a
        .ints("nodes_missing_value_tracks_true")
        .unwrap_or_default();
    let membership = tensor_f64("membership_values")?;
    let leaf_targets = a.ints("leaf_targetids").unwrap_or_default();
    let leaf_weights = tensor_f64("leaf_weights")?;
    let n = features.len();
    same_lengths(
        ("nodes_featureids", n),
        &[
            ("nodes_splits", splits.len()),
            ("nodes_modes", modes.len()),
            ("nodes_truenodeids", trues.len()),
            ("nodes_falsenodeids", falses.len()),
            ("nodes_trueleafs", true_leafs.len()),
            ("nodes_falseleafs", false_leafs.len()),
        ],
    )?;
    same_lengths(
        ("leaf_weights", leaf_weights.len()),
        &[("leaf_targetids", leaf_targets.len())],
    )?;
    // Sets of BRANCH_MEMBER nodes are NaN-separated, in node order.
    let mut sets = membership.split(|v| v.is_nan()).map(|s| s.to_vec());
    let link = |id: i64, leaf: bool| -> Result<Child, KernelError> {
        let i = to_usize(id, "child id")?;
        if leaf {
            if i >= leaf_weights.len() {
                return Err(KernelError::Value(format!("leaf {i} does not exist")));
            }
            Ok(Child::Leaf(i as u32))
        } else {
            if i >= n {
                return Err(KernelError::Value(format!("node {i} does not exist")));
            }
            Ok(Child::Node(i as u32))
        }
    };
    let mut nodes = Vec::with_capacity(n);
    let mut max_feature = 0;
    for i in 0..n {
        let feature = to_usize(features[i], "feature id")?;
        max_feature = max_feature.max(feature + 1);
        let mode = match modes[i] as i64 {
            0 => Mode::Leq,
            1 => Mode::Lt,
            2 => Mode::Gte,
            3 => Mode::Gt,
            4 => Mode::Eq,
            5 => Mode::Neq,
            6 => Mode::Member(sets.next().unwrap_or_default()),
            m => {
                return Err(KernelError::Attribute(format!(
                    "node mode {m} is not 0..=6"
                )));
            }
        };
        nodes.push(Node {
            feature,
            threshold: splits[i],
            mode,
            missing_true: missing.get(i).copied().unwrap_or(0) != 0,
            on_true: link(trues[i], true_leafs[i] != 0)?,
            on_false: link(falses[i], false_leafs[i] != 0)?,
        });
    }
    let leaves = leaf_targets
        .iter()
        .zip(&leaf_weights)
        .map(|(&t, &w)| Ok(vec![(to_usize(t, "leaf target id")?, w)]))
        .collect::<Result<Vec<_>, KernelError>>()?;
    let roots = roots
        .iter()
        .map(|&r| link(r, false))
        .collect::<Result<Vec<_>, _>>()?;
    let forest = Forest::checked(nodes, leaves, roots, max_feature)?;
    let agg = match a.i("aggregate_function").unwrap_or(1) {
        0 => Aggregate::Average,
        1 => Aggregate::Sum,
        2 => Aggregate::Min,
        3 => Aggregate::Max,
        other => {
            return Err(KernelError::Attribute(format!(
                "aggregate_function {other} is not 0..=3"
            )));
        }
    };
    let transform = match a.i("post_transform").unwrap_or(0) {
        0 => PostTransform::None,
        1 => PostTransform::Softmax,
        2 => PostTransform::Logistic,
        3 => PostTransform::SoftmaxZero,
        4 => PostTransform::Probit,
        other => {
            return Err(KernelError::Attribute(format!(
                "post_transform {other} is not 0..=4"
            )));
        }
    };
    let targets = to_usize(a.required_i("n_targets")?, "n_targets")?;
    Ok(Box::new(Regressor {
        forest,
        targets,
        agg,
        base: Vec::new(),
        transform,
        keep_double: true,
    }))
}

// ---------------------------------------------------------------- classifier

struct Classifier {
    forest: Forest,
    labels: Labels,
    base: Vec<f64>,
    transform: PostTransform,
    binary_case: bool,
    all_positive: bool,
}

pub(crate) fn classifier(a: &Attrs) -> Result<BoxKernel, KernelError> {
    let forest = legacy_forest(a, "class")?;
    let labels =
        Labels::from_attrs(a, "classlabels_int64s", "classlabels_strings").ok_or_else(|| {
            KernelError::Attribute(
                "one of classlabels_int64s, classlabels_strings is required".to_owned(),
            )
        })?;
    let class_ids: std::collections::HashSet<usize> =
        forest.leaves.iter().flatten().map(|w| w.0).collect();
    let all_positive = forest.leaves.iter().flatten().all(|w| w.1 >= 0.0);
    if let Some(&bad) = class_ids.iter().find(|&&c| c >= labels.len().max(2)) {
        return Err(KernelError::Value(format!(
            "class id {bad} is out of range for {} labels",
            labels.len()
        )));
    }
    Ok(Box::new(Classifier {
        binary_case: labels.len() == 2 && class_ids.len() == 1,
        forest,
        labels,
        base: a.floats_or_tensor("base_values")?.unwrap_or_default(),
        transform: PostTransform::from_attrs(a)?,
        all_positive,
    }))
}

impl Classifier {
    /// onnxruntime's `_set_score_binary`: the label index and how to write the second score.
    fn binary_label(&self, scores: &[Score], add_second: &mut i32) -> usize {
        let pos = if scores.len() == 2 && scores[1].has {
            scores[1].value
        } else if scores[0].has {
            scores[0].value
        } else {
            0.0
        };
        if self.binary_case {
            let (second, positive) = if self.all_positive {
                (pos > 0.5, pos > 0.5)
            } else {
                (pos > 0.0, pos > 0.0)
            };
            *add_second = match (self.all_positive, second) {
                (true, true) => 0,
                (true, false) => 1,
                (false, true) => 2,
                (false, false) => 3,
            };
            return if positive { 1 } else { 0 };
        }
        if pos > 0.0 {
            if self.labels.len() == 2 { 1 } else { POS }
        } else if self.labels.len() == 2 {
            0
        } else {
            NEG
        }
    }
}

impl Kernel for Classifier {
    fn run(&self, inputs: &[Option<&Value>]) -> Result<Vec<Value>, KernelError> {
        let (rows, cols, x, f32_mode) = rows_f64(inputs, &self.forest)?;
        let k = self.labels.len().max(2);
        let mut picks = Vec::with_capacity(rows);
        let mut z: Vec<f32> = Vec::with_capacity(rows * k);
        for r in 0..rows {
            let mut s = vec![Score::default(); k];
            aggregate(
                &self.forest,
                &x[r * cols..(r + 1) * cols],
                Aggregate::Sum,
                f32_mode,
                &mut s,
            )?;
            let mut add_second = -1;
            if k > 2 {
                for (i, &b) in self.base.iter().enumerate().take(k) {
                    s[i] = Score {
                        value: if s[i].has {
                            add(s[i].value, b, f32_mode)
                        } else {
                            b
                        },
                        has: true,
                    };
                }
                let mut best: Option<usize> = None;
                for (i, sc) in s.iter().enumerate() {
                    if sc.has && best.is_none_or(|b| sc.value > s[b].value) {
                        best = Some(i);
                    }
                }
                picks.push(best.unwrap_or(0));
            } else {
                match self.base.len() {
                    2 => {
                        if s[1].has {
                            s[1].value = add(self.base[1], s[0].value, f32_mode);
                            s[0].value = -s[1].value;
                        } else {
                            s[1].value = add(s[1].value, self.base[1], f32_mode);
                            s[0].value = add(s[0].value, self.base[0], f32_mode);
                        }
                    }
                    1 => {
                        s[0].value = add(s[0].value, self.base[0], f32_mode);
                        if !s[1].has {
                            s.pop();
                        }
                    }
                    0 => {
                        add_second = 3;
                        if !s[1].has {
                            s.pop();
                        }
                    }
                    _ => {}
                }
                picks.push(self.binary_label(&s, &mut add_second));
            }
            let row: Vec<f32> = s
                .iter()
                .map(|sc| {
                    if sc.has || k == 2 {
                        sc.value as f32
                    } else {
                        0.0
                    }
                })
                .collect();
            write_scores(&row, self.transform, add_second, &mut z);
        }
        Ok(self.labels.outputs(&picks, z, k))
    }
}
