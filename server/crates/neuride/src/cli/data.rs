//! `neuride data to-image`: a table (`[rows, features]`, e.g. gene
//! expression) to images for a CNN (DeepInsight), with the map saved for
//! new data (`neuride_ide::run::image`).

use neuride_ide::run::image::{ToImage, parse_size, to_image};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Turn a table into images (DeepInsight): features placed by PCA, kernel PCA or t-SNE.
    ToImage(ToImageArgs),
}

#[derive(clap::Args)]
pub struct ToImageArgs {
    /// The archive (.npz) holding the table under --inputs.
    pub input: PathBuf,
    /// The archive to write (.npz): the images under the same key, every other array kept.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Image size, HxW (e.g. 16x16).
    #[arg(long, default_value = "16x16")]
    pub size: String,
    /// How features are placed: pca, kpca or tsne.
    #[arg(long, default_value_t = defaults().method)]
    pub method: String,
    /// How placed features get pixels: bin or lsa (linear sum assignment).
    #[arg(long, default_value_t = defaults().assign)]
    pub assign: String,
    /// Write the fitted map (.json) to reuse on new data with --from-map.
    #[arg(long)]
    pub map: Option<PathBuf>,
    /// Apply a saved map instead of fitting one (its size and scaling win).
    #[arg(long)]
    pub from_map: Option<PathBuf>,
    /// Key of the table in the archive.
    #[arg(long, default_value_t = defaults().inputs)]
    pub inputs: String,
    /// Do not Norm2-scale the table (log, then divided by the training maximum).
    #[arg(long)]
    pub no_norm2: bool,
    /// t-SNE's perplexity (below the number of features).
    #[arg(long, default_value_t = defaults().perplexity)]
    pub perplexity: f64,
    /// text or json.
    #[arg(long, default_value = "text")]
    pub format: String,
}

fn defaults() -> ToImage {
    ToImage::default()
}

impl ToImageArgs {
    pub fn options(&self) -> anyhow::Result<ToImage> {
        Ok(ToImage {
            inputs: self.inputs.clone(),
            size: parse_size(&self.size)?,
            method: self.method.clone(),
            assign: self.assign.clone(),
            norm2: !self.no_norm2,
            perplexity: self.perplexity,
            map: self.map.clone(),
            from_map: self.from_map.clone(),
        })
    }
}

pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    let Command::ToImage(args) = command;
    let json = super::is_json(&args.format)?;
    let done = to_image(
        &args.input,
        &args.output,
        &args.options()?,
        &AtomicBool::new(false),
    )?;
    let mut stdout = std::io::stdout().lock();
    use std::io::Write;
    if json {
        serde_json::to_writer_pretty(&mut stdout, &done)?;
        writeln!(stdout)?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(
        stdout,
        "{}: {} rows x {} features -> {}x{} images ({} {}, {} map)",
        done.output.display(),
        done.rows,
        done.features,
        done.size[0],
        done.size[1],
        done.method.name(),
        done.assign.name(),
        if done.fitted { "fitted" } else { "saved" }
    )?;
    writeln!(
        stdout,
        "pixels        {} of {} hold a feature, at most {} per pixel (averaged)",
        done.pixels_used,
        done.size[0] * done.size[1],
        done.most_per_pixel
    )?;
    if let Some(map) = &done.map {
        writeln!(stdout, "map           {}", map.display())?;
    }
    Ok(ExitCode::SUCCESS)
}
