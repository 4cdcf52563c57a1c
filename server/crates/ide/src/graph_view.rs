//! Graph views for the editor: the ONNX core's JSON, SVG and DOT renderers,
//! fed with this analysis' inferred shapes.

use neuride_onnx::GraphId;
use neuride_onnx::graph::{Collapse, Direction, ShapeMap, ViewOptions};
use neuride_onnx::proto::ModelProto;
use neuride_onnx::shape::ShapeFacts;

pub fn render(
    model: &ModelProto,
    shapes: &ShapeFacts,
    format: &str,
    direction: &str,
    collapse: Option<&str>,
) -> Result<String, String> {
    let direction = Direction::parse(direction)
        .ok_or_else(|| format!("direction {direction:?}: LR or TB expected"))?;
    let collapse = match collapse.unwrap_or("auto") {
        "auto" => Collapse::Auto,
        "never" => Collapse::Never,
        "always" => Collapse::Always,
        other => {
            return Err(format!(
                "collapse {other:?}: auto, never or always expected"
            ));
        }
    };
    let shape_map: ShapeMap = shapes
        .graphs
        .get(&GraphId::Main)
        .map(|values| {
            values
                .iter()
                .map(|(name, ty)| (name.clone(), ty.to_string()))
                .collect()
        })
        .unwrap_or_default();
    let options = ViewOptions {
        shapes: Some(&shape_map),
        direction,
        collapse,
    };
    match format {
        "json" => serde_json::to_string(&neuride_onnx::graph::to_json(model, Some(&shape_map)))
            .map_err(|e| e.to_string()),
        "svg" => Ok(neuride_onnx::graph::to_svg(model, &options)),
        "dot" => Ok(neuride_onnx::graph::to_dot(model, &options)),
        other => Err(format!("format {other:?}: json, svg or dot expected")),
    }
}
