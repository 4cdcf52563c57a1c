//! What a network needs before anything runs, derived once and shared by
//! every thread: shapes, kernels, and where each node's values live.
//!
//! Values are kept in buffers assigned by liveness over the node order: a
//! node's buffer is free again once its last reader has run, so a deep
//! network holds a few activations at a time, not one per node (ResNet-18 at
//! 224x224: about four). Nodes whose values must outlive a step (layers fed
//! only by a constant input, computed once per batch; the output, read by the
//! decoder) keep their own. A flatten moves no data: it shares its input's
//! buffer.

use crate::Error;
use crate::kernels::{ConvKernel, DenseKernel, pool_targets};
use crate::layer::Layer;
use crate::network::{Network, NodeId};

pub(crate) enum Kernel {
    None,
    Dense(DenseKernel),
    Conv(ConvKernel),
}

pub(crate) struct Plan<'n> {
    pub net: &'n Network,
    pub shapes: Vec<Vec<usize>>,
    /// Values per sample of each node.
    pub sizes: Vec<usize>,
    pub kernels: Vec<Kernel>,
    /// Per average-pool node without overlap or padding: each input's output cell.
    pub pool_targets: Vec<Option<Vec<u32>>>,
    /// The buffer holding each node's values.
    pub buffer_of: Vec<usize>,
    /// Values per sample of each buffer.
    pub buffer_sizes: Vec<usize>,
    /// Flatten nodes: their values are their input's buffer as it is.
    pub is_alias: Vec<bool>,
}

impl<'n> Plan<'n> {
    /// Builds kernels and assigns buffers; `keep[i]` marks nodes whose values
    /// must survive until the end of a run.
    pub fn new(net: &'n Network, keep: &[bool]) -> Result<Plan<'n>, Error> {
        let shapes = net.validate()?;
        let sizes: Vec<usize> = shapes.iter().map(|s| s.iter().product()).collect();
        let mut kernels = Vec::with_capacity(net.nodes.len());
        for (index, node) in net.nodes.iter().enumerate() {
            kernels.push(match &node.layer {
                Layer::Dense { weight, bias } => {
                    Kernel::Dense(DenseKernel::new(weight, bias.as_ref()))
                }
                Layer::Conv2d { weight, bias, .. } => Kernel::Conv(ConvKernel::new(
                    net.conv_geometry_of(index, &shapes)?,
                    weight,
                    bias.as_ref(),
                )),
                _ => Kernel::None,
            });
        }
        let pool_targets = net
            .nodes
            .iter()
            .enumerate()
            .map(|(index, node)| match &node.layer {
                Layer::AvgPool { window, .. } => {
                    pool_targets(&shapes[node.inputs[0]], &shapes[index], *window)
                }
                _ => None,
            })
            .collect();
        let is_alias: Vec<bool> = net
            .nodes
            .iter()
            .map(|node| matches!(node.layer, Layer::Flatten))
            .collect();
        let (buffer_of, buffer_sizes) = assign_buffers(net, &sizes, &is_alias, keep);
        Ok(Plan {
            net,
            shapes,
            sizes,
            kernels,
            pool_targets,
            buffer_of,
            buffer_sizes,
            is_alias,
        })
    }
}

/// Liveness over the node order: the buffer of a node is reused once every
/// reader of it (and of the flattens sharing it) has run; `keep` nodes hold
/// theirs to the end. Returns each node's buffer and each buffer's size.
fn assign_buffers(
    net: &Network,
    sizes: &[usize],
    is_alias: &[bool],
    keep: &[bool],
) -> (Vec<usize>, Vec<usize>) {
    let n = net.nodes.len();
    // The node that owns the buffer a node's values are in.
    let mut owner: Vec<NodeId> = (0..n).collect();
    for index in 0..n {
        if is_alias[index] {
            owner[index] = owner[net.nodes[index].inputs[0]];
        }
    }
    let mut last_use = vec![0usize; n];
    for (index, node) in net.nodes.iter().enumerate() {
        last_use[owner[index]] = last_use[owner[index]].max(index);
        for &input in &node.inputs {
            last_use[owner[input]] = last_use[owner[input]].max(index);
        }
    }
    for index in 0..n {
        if keep[index] {
            last_use[owner[index]] = usize::MAX;
        }
    }
    let mut buffer_of = vec![0usize; n];
    let mut buffer_sizes: Vec<usize> = Vec::new();
    // (buffer, owner node) in use.
    let mut busy: Vec<(usize, NodeId)> = Vec::new();
    let mut free: Vec<usize> = Vec::new();
    for index in 0..n {
        if owner[index] != index {
            buffer_of[index] = buffer_of[owner[index]];
            continue;
        }
        busy.retain(|&(buffer, node)| {
            let done = last_use[node] < index;
            if done {
                free.push(buffer);
            }
            !done
        });
        // The smallest free buffer that is big enough, else the biggest (grown).
        let need = sizes[index];
        let pick = free
            .iter()
            .enumerate()
            .filter(|&(_, &b)| buffer_sizes[b] >= need)
            .min_by_key(|&(_, &b)| buffer_sizes[b])
            .or_else(|| {
                free.iter()
                    .enumerate()
                    .max_by_key(|&(_, &b)| buffer_sizes[b])
            })
            .map(|(position, _)| position);
        let buffer = match pick {
            Some(position) => free.swap_remove(position),
            None => {
                buffer_sizes.push(0);
                buffer_sizes.len() - 1
            }
        };
        buffer_sizes[buffer] = buffer_sizes[buffer].max(need);
        buffer_of[index] = buffer;
        busy.push((buffer, index));
    }
    (buffer_of, buffer_sizes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::Node;

    fn chain(depth: usize) -> Network {
        let mut nodes = vec![Node {
            name: "x".into(),
            layer: Layer::Input { shape: vec![4] },
            inputs: vec![],
        }];
        for i in 0..depth {
            // relu, then every third node an add of the last two (a residual).
            let last = nodes.len() - 1;
            let (layer, inputs) = if i % 3 == 2 {
                (Layer::Add, vec![last, last - 1])
            } else {
                (Layer::Relu, vec![last])
            };
            nodes.push(Node {
                name: format!("n{i}"),
                layer,
                inputs,
            });
        }
        nodes.push(Node {
            name: "f".into(),
            layer: Layer::Flatten,
            inputs: vec![nodes.len() - 1],
        });
        let output = nodes.len() - 1;
        Network { nodes, output }
    }

    #[test]
    fn a_deep_network_holds_a_few_buffers() {
        let net = chain(60);
        let keep: Vec<bool> = (0..net.nodes.len()).map(|i| i == net.output).collect();
        let plan = Plan::new(&net, &keep).unwrap();
        assert!(
            plan.buffer_sizes.len() <= 3,
            "{} buffers for 62 nodes",
            plan.buffer_sizes.len()
        );
        // No node writes a buffer one of its inputs still reads.
        for (index, node) in net.nodes.iter().enumerate() {
            if plan.is_alias[index] {
                assert_eq!(plan.buffer_of[index], plan.buffer_of[node.inputs[0]]);
                continue;
            }
            for &input in &node.inputs {
                assert_ne!(plan.buffer_of[index], plan.buffer_of[input], "node {index}");
            }
        }
        // A kept node keeps its buffer: nothing after it reuses it.
        let mut keep = keep;
        keep[5] = true;
        let plan = Plan::new(&net, &keep).unwrap();
        let kept = plan.buffer_of[5];
        assert!((6..net.nodes.len()).all(|i| plan.buffer_of[i] != kept || plan.is_alias[i]));
    }
}
