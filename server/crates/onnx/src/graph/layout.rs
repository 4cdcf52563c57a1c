//! A layered (Sugiyama-style) layout of a directed graph of boxes:
//!
//! 1. order the nodes topologically (Kahn; nodes left in a cycle follow in
//!    index order and the edges that close cycles are drawn reversed);
//! 2. longest-path layering, then sources are pulled next to their first
//!    consumer so constants do not all sit in the first layer;
//! 3. long edges are split by dummy nodes, one per layer crossed (up to a
//!    budget; beyond it an edge is drawn straight);
//! 4. crossing reduction by barycenters, alternating down and up sweeps and
//!    keeping the order with the fewest crossings (counted exactly with a
//!    Fenwick tree, O(E log V) per layer pair);
//! 5. coordinates along each layer: every node wants the mean position of its
//!    neighbours, subject to "no overlap, keep the order", which is an
//!    isotonic regression solved exactly by pool-adjacent-violators.
//!
//! Everything is O((V + D) log V) per sweep (D: dummies), which keeps an
//! 8,000-node model well under the 2 s budget.

use super::Direction;

/// Gap between neighbouring boxes in a layer.
const NODE_GAP: f64 = 14.0;
/// Gap next to an edge passing through a layer.
const DUMMY_GAP: f64 = 10.0;
/// Gap between layers (room for the edges to bend).
const LAYER_GAP_LR: f64 = 56.0;
const LAYER_GAP_TB: f64 = 40.0;
/// Margin around the drawing.
pub const MARGIN: f64 = 16.0;
/// Crossing-reduction rounds (each a down and an up sweep).
const CROSSING_ROUNDS: usize = 6;
/// Coordinate-assignment sweeps.
const COORDINATE_SWEEPS: usize = 8;
/// At most this many dummy nodes; edges beyond it are drawn straight.
const DUMMY_BUDGET: usize = 150_000;
/// Layers on each side averaged when removing drift (see `remove_drift`).
const DRIFT_WINDOW: usize = 8;

/// Where everything went. Coordinates are SVG user units, origin top-left.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    /// The centre of each box.
    pub centers: Vec<(f64, f64)>,
    /// For each input edge, the points its path runs through, from the
    /// border of the source box to the border of the target box; empty for
    /// self-loops and edges naming missing boxes.
    pub edge_points: Vec<Vec<(f64, f64)>>,
    /// The layer (column for LR, row for TB) of each box.
    pub layers: Vec<usize>,
    pub width: f64,
    pub height: f64,
}

/// Lays out boxes of `sizes` (width, height) connected by `edges`
/// (`(from, to)` indices into `sizes`).
pub fn layout(sizes: &[(f64, f64)], edges: &[(usize, usize)], direction: Direction) -> Layout {
    let n = sizes.len();
    // Along the layer axis and across it.
    let (rank_size, order_size): (Vec<f64>, Vec<f64>) = match direction {
        Direction::LeftRight => sizes.iter().map(|&(w, h)| (w, h)).unzip(),
        Direction::TopDown => sizes.iter().map(|&(w, h)| (h, w)).unzip(),
    };
    let valid = |&(from, to): &(usize, usize)| from < n && to < n && from != to;

    let topo = topological_order(n, edges.iter().filter(|e| valid(e)).copied());
    let mut position = vec![0usize; n];
    for (index, &node) in topo.iter().enumerate() {
        position[node] = index;
    }
    // Orient every edge along the order; the ones that close a cycle flip.
    let oriented: Vec<Option<(usize, usize, bool)>> = edges
        .iter()
        .map(|edge| {
            valid(edge).then(|| {
                let (from, to) = *edge;
                if position[from] < position[to] {
                    (from, to, false)
                } else {
                    (to, from, true)
                }
            })
        })
        .collect();
    let rank = assign_ranks(n, &topo, &oriented);

    let mut graph = LayeredGraph::new(&rank, &order_size);
    let chains: Vec<Option<(Vec<usize>, bool)>> = {
        // Create dummies walking nodes in topological order so that the
        // initial order inside each layer already follows the data flow.
        let mut by_source: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (index, edge) in oriented.iter().enumerate() {
            if let Some((from, _, _)) = edge {
                by_source[*from].push(index);
            }
        }
        let mut chains = vec![None; edges.len()];
        for &node in &topo {
            graph.place(node);
            for &edge_index in &by_source[node] {
                let (from, to, reversed) = oriented[edge_index].expect("filtered above");
                chains[edge_index] = Some((graph.chain(from, to), reversed));
            }
        }
        chains
    };
    graph.reduce_crossings();
    let order_coordinate = graph.assign_order_coordinates();

    // Layer positions along the rank axis.
    let layer_count = graph.layers.len();
    let mut layer_thickness = vec![0.0f64; layer_count];
    for node in 0..n {
        layer_thickness[rank[node]] = layer_thickness[rank[node]].max(rank_size[node]);
    }
    let layer_gap = match direction {
        Direction::LeftRight => LAYER_GAP_LR,
        Direction::TopDown => LAYER_GAP_TB,
    };
    let mut layer_center = vec![0.0f64; layer_count];
    let mut cursor = MARGIN;
    for (layer, thickness) in layer_thickness.iter().enumerate() {
        layer_center[layer] = cursor + thickness / 2.0;
        cursor += thickness + layer_gap;
    }
    let rank_extent = if layer_count == 0 {
        2.0 * MARGIN
    } else {
        cursor - layer_gap + MARGIN
    };

    // Shift the order axis so the smallest box edge sits at the margin.
    let mut min_order = f64::INFINITY;
    let mut max_order = f64::NEG_INFINITY;
    for (node, &coordinate) in order_coordinate.iter().enumerate() {
        let half = graph.order_size[node] / 2.0;
        min_order = min_order.min(coordinate - half);
        max_order = max_order.max(coordinate + half);
    }
    if !min_order.is_finite() {
        min_order = 0.0;
        max_order = 0.0;
    }
    let shift = MARGIN - min_order;
    let order_extent = max_order - min_order + 2.0 * MARGIN;
    let point = |rank_coordinate: f64, order: f64| match direction {
        Direction::LeftRight => (rank_coordinate, order + shift),
        Direction::TopDown => (order + shift, rank_coordinate),
    };

    let centers: Vec<(f64, f64)> = (0..n)
        .map(|node| point(layer_center[rank[node]], order_coordinate[node]))
        .collect();
    let edge_points = chains
        .iter()
        .map(|chain| {
            let Some((nodes, reversed)) = chain else {
                return Vec::new();
            };
            let last = nodes.len() - 1;
            let mut points: Vec<(f64, f64)> = Vec::with_capacity(2 * nodes.len());
            for (index, &node) in nodes.iter().enumerate() {
                let layer = graph.layer_of[node];
                let center = layer_center[layer];
                if index == 0 {
                    points.push(point(
                        center + rank_size[node] / 2.0,
                        order_coordinate[node],
                    ));
                } else if index == last {
                    points.push(point(
                        center - rank_size[node] / 2.0,
                        order_coordinate[node],
                    ));
                } else {
                    // Through a layer the edge runs straight in the slot its
                    // dummy reserved, so it never cuts a box of that layer.
                    let half = layer_thickness[layer] / 2.0;
                    points.push(point(center - half, order_coordinate[node]));
                    points.push(point(center + half, order_coordinate[node]));
                }
            }
            if *reversed {
                points.reverse();
            }
            points
        })
        .collect();
    let (width, height) = match direction {
        Direction::LeftRight => (rank_extent, order_extent),
        Direction::TopDown => (order_extent, rank_extent),
    };
    Layout {
        centers,
        edge_points,
        layers: rank,
        width,
        height,
    }
}

/// Kahn's algorithm; nodes caught in cycles follow in index order.
fn topological_order(n: usize, edges: impl Iterator<Item = (usize, usize)>) -> Vec<usize> {
    let mut successors: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut in_degree = vec![0usize; n];
    for (from, to) in edges {
        successors[from].push(to);
        in_degree[to] += 1;
    }
    let mut order = Vec::with_capacity(n);
    let mut done = vec![false; n];
    let mut queue: std::collections::VecDeque<usize> =
        (0..n).filter(|&v| in_degree[v] == 0).collect();
    let mut next_unplaced = 0;
    while order.len() < n {
        let node = match queue.pop_front() {
            Some(node) => node,
            None => {
                // A cycle: break it at the lowest-index node not yet placed.
                while done[next_unplaced] {
                    next_unplaced += 1;
                }
                next_unplaced
            }
        };
        if done[node] {
            continue;
        }
        done[node] = true;
        order.push(node);
        for &to in &successors[node] {
            in_degree[to] = in_degree[to].saturating_sub(1);
            if in_degree[to] == 0 && !done[to] {
                queue.push_back(to);
            }
        }
    }
    order
}

/// Longest-path layering over the oriented edges, then every source moves to
/// just before its earliest consumer.
fn assign_ranks(n: usize, topo: &[usize], oriented: &[Option<(usize, usize, bool)>]) -> Vec<usize> {
    let mut predecessors: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut successors: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(from, to, _) in oriented.iter().flatten() {
        predecessors[to].push(from);
        successors[from].push(to);
    }
    let mut rank = vec![0usize; n];
    for &node in topo {
        rank[node] = predecessors[node]
            .iter()
            .map(|&p| rank[p] + 1)
            .max()
            .unwrap_or(0);
    }
    for node in 0..n {
        if predecessors[node].is_empty()
            && let Some(first_use) = successors[node].iter().map(|&s| rank[s]).min()
        {
            rank[node] = first_use.saturating_sub(1);
        }
    }
    rank
}

/// Real and dummy nodes in layers, with the edges between adjacent layers.
struct LayeredGraph {
    layers: Vec<Vec<usize>>,
    layer_of: Vec<usize>,
    order_size: Vec<f64>,
    is_dummy: Vec<bool>,
    /// Neighbours in the layer above / below.
    up: Vec<Vec<usize>>,
    down: Vec<Vec<usize>>,
    /// Index of each node inside its layer.
    index_in_layer: Vec<usize>,
    dummies_left: usize,
}

impl LayeredGraph {
    fn new(rank: &[usize], order_size: &[f64]) -> LayeredGraph {
        let n = rank.len();
        let layer_count = rank.iter().max().map_or(0, |&r| r + 1);
        LayeredGraph {
            layers: vec![Vec::new(); layer_count],
            layer_of: rank.to_vec(),
            order_size: order_size.to_vec(),
            is_dummy: vec![false; n],
            up: vec![Vec::new(); n],
            down: vec![Vec::new(); n],
            index_in_layer: vec![0; n],
            dummies_left: DUMMY_BUDGET,
        }
    }

    fn place(&mut self, node: usize) {
        let layer = self.layer_of[node];
        self.index_in_layer[node] = self.layers[layer].len();
        self.layers[layer].push(node);
    }

    fn add_dummy(&mut self, layer: usize) -> usize {
        let node = self.layer_of.len();
        self.layer_of.push(layer);
        self.order_size.push(0.0);
        self.is_dummy.push(true);
        self.up.push(Vec::new());
        self.down.push(Vec::new());
        self.index_in_layer.push(0);
        self.place(node);
        node
    }

    fn link(&mut self, upper: usize, lower: usize) {
        self.down[upper].push(lower);
        self.up[lower].push(upper);
    }

    /// The chain of nodes an edge runs through, creating dummies.
    fn chain(&mut self, from: usize, to: usize) -> Vec<usize> {
        let (start, end) = (self.layer_of[from], self.layer_of[to]);
        let span = end.saturating_sub(start);
        if span <= 1 || span - 1 > self.dummies_left {
            if span == 1 {
                self.link(from, to);
            }
            return vec![from, to];
        }
        self.dummies_left -= span - 1;
        let mut chain = vec![from];
        let mut previous = from;
        for layer in start + 1..end {
            let dummy = self.add_dummy(layer);
            self.link(previous, dummy);
            chain.push(dummy);
            previous = dummy;
        }
        self.link(previous, to);
        chain.push(to);
        chain
    }

    fn reindex(&mut self, layer: usize) {
        for (index, &node) in self.layers[layer].iter().enumerate() {
            self.index_in_layer[node] = index;
        }
    }

    /// Reorders `layer` by the barycenter of each node's neighbours in the
    /// adjacent layer (`use_up`: the layer above). Nodes without neighbours
    /// keep their place.
    fn sort_by_barycenter(&mut self, layer: usize, use_up: bool) {
        let mut keyed: Vec<(f64, usize)> = self.layers[layer]
            .iter()
            .map(|&node| {
                let neighbours = if use_up {
                    &self.up[node]
                } else {
                    &self.down[node]
                };
                let key = if neighbours.is_empty() {
                    self.index_in_layer[node] as f64
                } else {
                    neighbours
                        .iter()
                        .map(|&m| self.index_in_layer[m] as f64)
                        .sum::<f64>()
                        / neighbours.len() as f64
                };
                (key, node)
            })
            .collect();
        keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
        self.layers[layer] = keyed.into_iter().map(|(_, node)| node).collect();
        self.reindex(layer);
    }

    fn crossings(&self) -> usize {
        (1..self.layers.len())
            .map(|layer| self.crossings_between(layer))
            .sum()
    }

    /// Crossings between `layer - 1` and `layer`: inversions among the edges
    /// sorted by their upper end, counted with a Fenwick tree.
    fn crossings_between(&self, layer: usize) -> usize {
        let mut pairs: Vec<(usize, usize)> = Vec::new();
        for &upper in &self.layers[layer - 1] {
            for &lower in &self.down[upper] {
                pairs.push((self.index_in_layer[upper], self.index_in_layer[lower]));
            }
        }
        pairs.sort_unstable();
        let size = self.layers[layer].len() + 1;
        let mut tree = vec![0usize; size + 1];
        let mut crossings = 0usize;
        for (seen, &(_, lower)) in pairs.iter().enumerate() {
            // Edges already seen that end strictly right of `lower` cross it.
            let mut not_greater = 0;
            let mut i = lower + 1;
            while i > 0 {
                not_greater += tree[i];
                i &= i - 1;
            }
            crossings += seen - not_greater;
            let mut i = lower + 1;
            while i <= size {
                tree[i] += 1;
                i += i & i.wrapping_neg();
            }
        }
        crossings
    }

    fn reduce_crossings(&mut self) {
        let layer_count = self.layers.len();
        if layer_count < 2 {
            return;
        }
        let mut best = self.layers.clone();
        let mut best_crossings = self.crossings();
        for _ in 0..CROSSING_ROUNDS {
            if best_crossings == 0 {
                break;
            }
            for layer in 1..layer_count {
                self.sort_by_barycenter(layer, true);
            }
            for layer in (0..layer_count - 1).rev() {
                self.sort_by_barycenter(layer, false);
            }
            let crossings = self.crossings();
            if crossings < best_crossings {
                best_crossings = crossings;
                best = self.layers.clone();
            }
        }
        self.layers = best;
        for layer in 0..layer_count {
            self.reindex(layer);
        }
    }

    fn separation(&self, left: usize, right: usize) -> f64 {
        let gap = if self.is_dummy[left] || self.is_dummy[right] {
            DUMMY_GAP
        } else {
            NODE_GAP
        };
        (self.order_size[left] + self.order_size[right]) / 2.0 + gap
    }

    /// Coordinates across the layers, one per (real and dummy) node.
    fn assign_order_coordinates(&self) -> Vec<f64> {
        let mut coordinate = vec![0.0f64; self.layer_of.len()];
        for layer in &self.layers {
            let mut cursor = 0.0;
            for (index, &node) in layer.iter().enumerate() {
                if index > 0 {
                    cursor += self.separation(layer[index - 1], node);
                }
                coordinate[node] = cursor;
            }
            // Centre each layer on 0 so narrow layers start near the middle.
            for &node in layer {
                coordinate[node] -= cursor / 2.0;
            }
        }
        let layer_count = self.layers.len();
        for sweep in 0..COORDINATE_SWEEPS {
            // Down, up, ..., and the last two sweeps look both ways.
            let both = sweep + 2 >= COORDINATE_SWEEPS;
            let downwards = sweep % 2 == 0;
            let layers: Vec<usize> = if downwards {
                (0..layer_count).collect()
            } else {
                (0..layer_count).rev().collect()
            };
            for layer in layers {
                self.place_layer(layer, &mut coordinate, downwards, both);
            }
        }
        self.remove_drift(&mut coordinate);
        coordinate
    }

    /// Repeated structures (a residual edge beside every transformer block)
    /// nudge each block a little to one side, and over hundreds of layers the
    /// drawing slides diagonally across a huge empty canvas. Shifting each
    /// whole layer by the moving average of the layers' centres removes that
    /// trend: the order inside a layer is untouched, and neighbouring layers
    /// move by almost the same amount, so edges keep their local shape.
    fn remove_drift(&self, coordinate: &mut [f64]) {
        let centres: Vec<f64> = self
            .layers
            .iter()
            .map(|layer| match (layer.first(), layer.last()) {
                (Some(&first), Some(&last)) => (coordinate[first] + coordinate[last]) / 2.0,
                _ => 0.0,
            })
            .collect();
        let layer_count = centres.len();
        let mut prefix = vec![0.0f64; layer_count + 1];
        for (index, centre) in centres.iter().enumerate() {
            prefix[index + 1] = prefix[index] + centre;
        }
        for (index, layer) in self.layers.iter().enumerate() {
            let start = index.saturating_sub(DRIFT_WINDOW);
            let end = (index + DRIFT_WINDOW + 1).min(layer_count);
            let trend = (prefix[end] - prefix[start]) / (end - start) as f64;
            for &node in layer {
                coordinate[node] -= trend;
            }
        }
    }

    fn place_layer(&self, layer: usize, coordinate: &mut [f64], downwards: bool, both: bool) {
        let nodes = &self.layers[layer];
        if nodes.is_empty() {
            return;
        }
        let mut desired = Vec::with_capacity(nodes.len());
        let mut weights = Vec::with_capacity(nodes.len());
        for &node in nodes {
            let mut sum = 0.0;
            let mut count = 0usize;
            let mut add = |neighbours: &Vec<usize>| {
                for &m in neighbours {
                    sum += coordinate[m];
                    count += 1;
                }
            };
            if downwards || both {
                add(&self.up[node]);
            }
            if !downwards || both {
                add(&self.down[node]);
            }
            desired.push(if count == 0 {
                coordinate[node]
            } else {
                sum / count as f64
            });
            // Dummies pull harder so long edges run straight.
            weights.push(if self.is_dummy[node] {
                4.0
            } else if count == 0 {
                0.25
            } else {
                1.0
            });
        }
        let mut offsets = Vec::with_capacity(nodes.len());
        let mut offset = 0.0;
        for index in 0..nodes.len() {
            if index > 0 {
                offset += self.separation(nodes[index - 1], nodes[index]);
            }
            offsets.push(offset);
        }
        let targets: Vec<f64> = desired.iter().zip(&offsets).map(|(d, o)| d - o).collect();
        let fitted = isotonic_regression(&targets, &weights);
        for (index, &node) in nodes.iter().enumerate() {
            coordinate[node] = fitted[index] + offsets[index];
        }
    }
}

/// The non-decreasing sequence closest to `values` in weighted least squares
/// (pool-adjacent-violators, O(n)).
pub fn isotonic_regression(values: &[f64], weights: &[f64]) -> Vec<f64> {
    // Each block: (total weight, weighted sum, length).
    let mut blocks: Vec<(f64, f64, usize)> = Vec::with_capacity(values.len());
    for (&value, &weight) in values.iter().zip(weights) {
        let weight = weight.max(1e-9);
        blocks.push((weight, weight * value, 1));
        while blocks.len() >= 2 {
            let (w2, s2, l2) = blocks[blocks.len() - 1];
            let (w1, s1, l1) = blocks[blocks.len() - 2];
            if s1 / w1 <= s2 / w2 {
                break;
            }
            blocks.pop();
            let last = blocks.len() - 1;
            blocks[last] = (w1 + w2, s1 + s2, l1 + l2);
        }
    }
    let mut out = Vec::with_capacity(values.len());
    for (weight, sum, length) in blocks {
        out.extend(std::iter::repeat_n(sum / weight, length));
    }
    out
}
