//! Tables to images (DeepInsight, `neuride_tabular`) as a run with typed
//! options: `neuride data to-image IN.npz -o OUT.npz` and the `.neuro`
//! dataset `to_image(DATASET, size: [H, W], ...)` both go through
//! [`images_of`], so a file and the command make the same images.

use super::RunError;
use super::data::read_f64;
use neuride_convert::Tensor;
use neuride_tabular::{Assign, ImageMap, Method, Options};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

/// `to-image` on an archive: its table `inputs` (`[rows, features]`)
/// becomes `[rows, 1, H, W]` images; every other array is kept.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ToImage {
    /// The key of the table in the archive.
    pub inputs: String,
    /// `[height, width]`.
    pub size: [usize; 2],
    /// `pca`, `kpca` or `tsne`.
    pub method: String,
    /// `bin` or `lsa`.
    pub assign: String,
    /// Norm2-scale the table (learnt with the map) before placing it.
    pub norm2: bool,
    /// t-SNE's perplexity.
    pub perplexity: f64,
    /// Write the fitted map here (.json).
    pub map: Option<PathBuf>,
    /// Apply this saved map instead of fitting one.
    pub from_map: Option<PathBuf>,
}

impl Default for ToImage {
    fn default() -> Self {
        ToImage {
            inputs: super::model::DEFAULT_INPUTS.to_owned(),
            size: [16, 16],
            method: Method::Pca.name().to_owned(),
            assign: Assign::Bin.name().to_owned(),
            norm2: true,
            perplexity: neuride_tabular::tsne::TsneOptions::default().perplexity,
            map: None,
            from_map: None,
        }
    }
}

impl ToImage {
    /// The options that name files (for a caller that resolves them).
    pub fn paths_mut(&mut self) -> impl Iterator<Item = &mut PathBuf> {
        [&mut self.map, &mut self.from_map].into_iter().flatten()
    }

    /// The fitting options these words name.
    pub fn map_options(&self) -> Result<Options, RunError> {
        let setting = |e: neuride_tabular::Error| RunError::Setting(e.to_string());
        Ok(Options {
            size: self.size,
            method: Method::parse(&self.method).map_err(setting)?,
            assign: Assign::parse(&self.assign).map_err(setting)?,
            norm2: self.norm2,
            tsne: neuride_tabular::tsne::TsneOptions {
                perplexity: self.perplexity,
                ..Default::default()
            },
        })
    }
}

/// `16x16` (or `16,16`, or `16` for a square) as `[height, width]`.
pub fn parse_size(text: &str) -> Result<[usize; 2], RunError> {
    let parts: Vec<&str> = text.split(['x', 'X', ',']).map(str::trim).collect();
    let numbers: Option<Vec<usize>> = parts
        .iter()
        .map(|p| p.parse().ok().filter(|&n| n > 0))
        .collect();
    match numbers.as_deref() {
        Some([side]) => Ok([*side, *side]),
        Some([height, width]) => Ok([*height, *width]),
        _ => Err(RunError::Setting(format!(
            "--size must be HxW with whole numbers above 0 (e.g. 16x16), found '{text}'"
        ))),
    }
}

/// What a `to-image` run did.
#[derive(Clone, Debug, Serialize)]
pub struct Imaged {
    pub output: PathBuf,
    pub rows: usize,
    pub features: usize,
    pub size: [usize; 2],
    pub method: Method,
    pub assign: Assign,
    /// Pixels holding at least one feature.
    pub pixels_used: usize,
    /// The most features sharing one pixel (averaged there).
    pub most_per_pixel: usize,
    /// The map was fitted on these rows (else read with `from_map`).
    pub fitted: bool,
    /// Where the map was written, if asked.
    pub map: Option<PathBuf>,
}

/// The images of a table `[rows, features...]` (trailing dimensions are
/// flattened) through `map`, or through a map fitted on the table itself:
/// `[rows, 1, H, W]`, and the map used.
pub fn images_of(
    shape: &[usize],
    rows: &[f64],
    options: &Options,
    map: Option<ImageMap>,
    cancel: &AtomicBool,
) -> Result<(ImageMap, Tensor), RunError> {
    let failed = |e: neuride_tabular::Error| match e {
        neuride_tabular::Error::Cancelled => RunError::Cancelled,
        other => RunError::Data(other.to_string()),
    };
    let Some((&count, trailing)) = shape.split_first().filter(|(_, t)| !t.is_empty()) else {
        return Err(RunError::Data(format!(
            "expected a table [rows, features], found an array of shape {shape:?}"
        )));
    };
    let features: usize = trailing.iter().product();
    let map = match map {
        Some(map) if map.features() != features => {
            return Err(RunError::Data(format!(
                "the map places {} features, the table has {features}",
                map.features()
            )));
        }
        Some(map) => map,
        None => neuride_tabular::fit(rows, features, options, cancel).map_err(failed)?,
    };
    let images = map.transform(rows).map_err(failed)?;
    let [height, width] = map.size;
    let tensor = Tensor::new(vec![count, 1, height, width], images)
        .map_err(|e| RunError::Data(e.to_string()))?;
    Ok((map, tensor))
}

/// Reads a saved map.
pub fn read_map(path: &Path) -> Result<ImageMap, RunError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| RunError::Read(format!("cannot read {}: {e}", path.display())))?;
    ImageMap::from_json(&text).map_err(|e| RunError::Data(format!("{}: {e}", path.display())))
}

/// Turns the table of `input` into images and writes `output` (.npz) with
/// every other array of `input` kept, and the map (`options.map`, .json).
pub fn to_image(
    input: &Path,
    output: &Path,
    options: &ToImage,
    cancel: &AtomicBool,
) -> Result<Imaged, RunError> {
    super::output_format(output, &["npz"])?;
    if let Some(map) = &options.map {
        super::output_format(map, &["json"])?;
    }
    let map_options = options.map_options()?;
    let saved = options.from_map.as_deref().map(read_map).transpose()?;
    let fitted = saved.is_none();
    let (shape, rows) = read_f64(input, &options.inputs)?;
    let (map, images) =
        images_of(&shape, &rows, &map_options, saved, cancel).map_err(|e| prefixed(e, input))?;

    let bytes = std::fs::read(input)
        .map_err(|e| RunError::Read(format!("cannot read {}: {e}", input.display())))?;
    let archive = neuride_npz::list(&bytes)
        .map_err(|e| RunError::Data(format!("{} is not a valid .npz: {e}", input.display())))?;
    let mut writer = neuride_npz::NpzWriter::new(Vec::new(), neuride_npz::WriteOptions::stored());
    let write_error =
        |e: std::io::Error| RunError::Data(format!("writing {}: {e}", output.display()));
    for name in archive.names() {
        if name == options.inputs {
            let shape = images.shape.iter().map(|&d| d as u64).collect();
            let array = neuride_npz::Array::from_f32(shape, &images.data)
                .map_err(|e| RunError::Data(e.to_string()))?;
            writer.add(name, &array).map_err(write_error)?;
            continue;
        }
        let array = archive.array(name).map_err(|e| {
            RunError::Data(format!(
                "{}: cannot copy array '{name}': {e}",
                input.display()
            ))
        })?;
        writer.add(name, &array).map_err(write_error)?;
    }
    let npz = writer.finish().map_err(write_error)?;
    let write = |path: &Path, bytes: &[u8]| {
        crate::weights::write_atomically(path, bytes)
            .map_err(|e| RunError::Data(format!("cannot write {}: {e}", path.display())))
    };
    write(output, &npz)?;
    if let Some(path) = &options.map {
        write(path, map.to_json().as_bytes())?;
    }
    let mut counts = vec![0usize; map.size[0] * map.size[1]];
    for &[row, column] in &map.pixels {
        counts[row * map.size[1] + column] += 1;
    }
    Ok(Imaged {
        output: output.to_owned(),
        rows: images.shape[0],
        features: map.features(),
        size: map.size,
        method: map.method,
        assign: map.assign,
        pixels_used: counts.iter().filter(|&&c| c > 0).count(),
        most_per_pixel: counts.iter().copied().max().unwrap_or(0),
        fitted,
        map: options.map.clone(),
    })
}

fn prefixed(error: RunError, input: &Path) -> RunError {
    match error {
        RunError::Data(message) => RunError::Data(format!("{}: {message}", input.display())),
        other => other,
    }
}

/// The first sample of a `to_image(...)` dataset, drawn for a hover.
#[derive(Clone, Debug, PartialEq)]
pub struct Preview {
    pub dataset: String,
    pub size: [usize; 2],
    /// The first sample, row-major, in [0, 1].
    pub image: Vec<f32>,
    pub label: Option<i64>,
    pub samples: usize,
}

impl Preview {
    /// Markdown: the image as text art (and, with `picture`, as an inline
    /// SVG for editors that show images).
    pub fn markdown(&self, picture: bool) -> String {
        let label = self
            .label
            .map(|l| format!(", label {l}"))
            .unwrap_or_default();
        let mut out = format!(
            "sample 0 of {} ({}x{}{label}):\n```text\n{}```",
            self.samples,
            self.size[0],
            self.size[1],
            neuride_tabular::preview::text_art(&self.image, self.size)
        );
        if picture {
            let svg = neuride_tabular::preview::svg(&self.image, self.size, 8);
            out.push_str(&format!(
                "\n\n![sample 0 of `{}`](data:image/svg+xml;base64,{})",
                self.dataset,
                base64(svg.as_bytes())
            ));
        }
        out
    }
}

/// The `to_image(...)` dataset whose name is at `offset` (where it is
/// defined or used), if any.
pub fn image_dataset_at(neuro: &crate::neuro::NeuroAnalysis, offset: usize) -> Option<usize> {
    let item = match neuro.analysis.reference_at(offset) {
        Some(reference) => match reference.def {
            neuride_dsl::Def::Item(item) => item,
            _ => return None,
        },
        None => neuro.parse.ast.items.iter().position(|item| {
            item.name
                .as_ref()
                .is_some_and(|n| n.range.start <= offset && offset <= n.range.end)
        })?,
    };
    neuro.analysis.items.get(item)?.image.as_ref().map(|_| item)
}

/// Makes the images of dataset `item` (fitting its map) and keeps the first.
pub fn preview(
    neuro: &crate::neuro::NeuroAnalysis,
    item: usize,
    cancel: &AtomicBool,
) -> Result<Preview, RunError> {
    let data = super::dataset(neuro, item)?;
    let images = data.inputs(cancel)?;
    let labels = data.labels()?;
    let size = [images.shape[2], images.shape[3]];
    Ok(Preview {
        dataset: data.name.clone(),
        size,
        image: images.data[..size[0] * size[1]].to_vec(),
        label: labels.and_then(|l| l.first().copied()),
        samples: images.shape[0],
    })
}

/// Standard base64 with padding (for `data:` URIs).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_standard_alphabet_and_padding() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"<svg/>"), "PHN2Zy8+");
    }

    #[test]
    fn sizes_parse_as_height_by_width() {
        assert_eq!(parse_size("16x8").unwrap(), [16, 8]);
        assert_eq!(parse_size("12").unwrap(), [12, 12]);
        assert!(parse_size("0x3").is_err());
        assert!(parse_size("ax3").is_err());
    }
}
