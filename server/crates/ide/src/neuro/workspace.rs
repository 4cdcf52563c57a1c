//! The facts a `.neuro` file needs about the files it binds, read from disk
//! relative to the `.neuro` file and analysed with the same code as the
//! models and archives themselves (so hovers and checks agree).

use crate::file_kind::FileKind;
use neuride_dsl::{
    ArchiveFacts, ArrayFact, ArrayStats, DirEntry, FileFact, ModelFacts, ModelKind, OpFact,
    TensorFact, Workspace,
};
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub struct DiskWorkspace {
    base: PathBuf,
    models: RefCell<HashMap<String, FileFact<ModelFacts>>>,
    archives: RefCell<HashMap<String, FileFact<ArchiveFacts>>>,
    /// Every file asked for, found or not: a change to any of them changes
    /// the facts (a missing model that appears too).
    read_paths: RefCell<Vec<PathBuf>>,
}

impl DiskWorkspace {
    pub fn new(base: &Path) -> DiskWorkspace {
        DiskWorkspace {
            base: base.to_owned(),
            models: RefCell::default(),
            archives: RefCell::default(),
            read_paths: RefCell::default(),
        }
    }

    /// The files the facts came from (lexically normalised full paths).
    pub fn dependencies(&self) -> Vec<PathBuf> {
        self.read_paths.borrow().clone()
    }

    fn read(&self, path: &str) -> Result<(PathBuf, crate::source::Contents), ()> {
        let full = normalize(&self.base.join(path));
        self.read_paths.borrow_mut().push(full.clone());
        match crate::source::read_contents(&full) {
            Ok(contents) => Ok((full, contents)),
            Err(_) => Err(()),
        }
    }
}

impl Workspace for DiskWorkspace {
    fn model(&self, path: &str) -> FileFact<ModelFacts> {
        if let Some(fact) = self.models.borrow().get(path) {
            return fact.clone();
        }
        let fact = match self.read(path) {
            Err(()) => FileFact::Missing,
            Ok((full, contents)) if FileKind::from_path(&full) == Some(FileKind::Nir) => {
                model_facts(&crate::model::ModelAnalysis::from_nir(
                    &full,
                    &contents.bytes,
                ))
            }
            Ok((full, contents)) => {
                model_facts(&crate::model::ModelAnalysis::new(&full, contents.bytes))
            }
        };
        self.models
            .borrow_mut()
            .insert(path.to_owned(), fact.clone());
        fact
    }

    fn archive(&self, path: &str) -> FileFact<ArchiveFacts> {
        if let Some(fact) = self.archives.borrow().get(path) {
            return fact.clone();
        }
        let fact = match self.read(path) {
            Err(()) => FileFact::Missing,
            Ok((full, contents)) => {
                let kind = FileKind::from_path(&full)
                    .filter(|k| *k == FileKind::Npy)
                    .unwrap_or(FileKind::Npz);
                archive_facts(&crate::archive::ArchiveAnalysis::with_file(
                    &full,
                    kind,
                    contents.bytes.clone(),
                    contents.file(),
                ))
            }
        };
        self.archives
            .borrow_mut()
            .insert(path.to_owned(), fact.clone());
        fact
    }

    fn files(&self, dir: &str) -> Vec<DirEntry> {
        let Ok(entries) = std::fs::read_dir(self.base.join(dir)) else {
            return Vec::new();
        };
        let mut found: Vec<DirEntry> = entries
            .filter_map(Result::ok)
            .map(|e| DirEntry {
                name: e.file_name().to_string_lossy().into_owned(),
                is_dir: e.path().is_dir(),
            })
            .filter(|e| !e.name.starts_with('.'))
            .collect();
        found.sort_by(|a, b| a.name.cmp(&b.name));
        found
    }
}

fn tensor_fact(name: &str, ty: &neuride_onnx::shape::ValueType) -> TensorFact {
    let elem_type = match neuride_onnx::dtype::onnx_name(ty.elem()) {
        "float" => "f32",
        "double" => "f64",
        "float16" => "f16",
        "int64" => "i64",
        "int32" => "i32",
        "int16" => "i16",
        "int8" => "i8",
        "uint8" => "u8",
        "bool" => "bool",
        other => other,
    }
    .to_owned();
    let shape = ty.shape().map(|dims| {
        neuride_dsl::Shape(
            dims.iter()
                .map(|d| match d.known() {
                    Some(v) if v >= 0 => neuride_dsl::Dim::Known(v as u64),
                    _ => neuride_dsl::Dim::Symbolic(d.to_string()),
                })
                .collect(),
        )
    });
    TensorFact {
        name: name.to_owned(),
        elem_type,
        shape,
    }
}

/// A file its analysis could not read: its first problem says why.
fn unreadable<T>(first_problem: Option<&str>) -> FileFact<T> {
    FileFact::WrongFormat(first_problem.unwrap_or_default().to_owned())
}

pub fn model_facts(model: &crate::model::ModelAnalysis) -> FileFact<ModelFacts> {
    let Some(facts) = &model.facts else {
        return unreadable(model.diagnostics.first().map(|d| d.message.as_str()));
    };
    let kind = match facts.classification.kind {
        neuride_onnx::classify::Kind::Snn => ModelKind::Snn,
        neuride_onnx::classify::Kind::Ml => ModelKind::Ml,
        neuride_onnx::classify::Kind::Dl => ModelKind::Dl,
        neuride_onnx::classify::Kind::Mixed => ModelKind::Mixed,
        neuride_onnx::classify::Kind::Unknown => ModelKind::Unknown,
    };
    let summary = &facts.summary;
    let graph = facts.proto.graph.as_ref();
    let ops = graph
        .into_iter()
        .flat_map(|g| &g.node)
        .map(|n| OpFact {
            node: n.name().to_owned(),
            op_type: n.op_type().to_owned(),
        })
        .collect();
    let initializers = graph
        .into_iter()
        .flat_map(|g| &g.initializer)
        .map(|t| TensorFact {
            name: t.name().to_owned(),
            elem_type: neuride_onnx::dtype::onnx_name(t.data_type()).to_owned(),
            shape: Some(neuride_dsl::Shape::known(
                &t.dims.iter().map(|&d| d.max(0) as u64).collect::<Vec<_>>(),
            )),
        })
        .collect();
    let unconvertible = neuride_convert::unconvertible_ops(&facts.proto)
        .into_iter()
        .map(|(node, op_type, _)| OpFact { node, op_type })
        .collect();
    FileFact::Ok(Arc::new(ModelFacts {
        kind,
        evidence: facts
            .classification
            .evidence
            .iter()
            .map(|e| e.message.clone())
            .collect(),
        inputs: summary
            .inputs
            .iter()
            .map(|v| tensor_fact(&v.name, &v.ty))
            .collect(),
        outputs: summary
            .outputs
            .iter()
            .map(|v| tensor_fact(&v.name, &v.ty))
            .collect(),
        ops,
        unconvertible,
        initializers,
        parameter_count: summary.parameters,
        producer: format!("{} {}", summary.producer_name, summary.producer_version)
            .trim()
            .to_owned(),
    }))
}

pub fn archive_facts(archive: &crate::archive::ArchiveAnalysis) -> FileFact<ArchiveFacts> {
    let Some(summary) = &archive.summary else {
        return unreadable(archive.diagnostics.first().map(|d| d.message.as_str()));
    };
    let arrays = summary
        .arrays
        .iter()
        .map(|a| ArrayFact {
            name: a.name.clone(),
            dtype: a.dtype.clone(),
            shape: a.shape.clone(),
            stats: match (a.stats.min, a.stats.max, a.stats.mean, a.stats.std) {
                (Some(min), Some(max), Some(mean), Some(std)) => Some(ArrayStats {
                    min,
                    max,
                    mean,
                    std,
                }),
                _ => None,
            },
        })
        .collect();
    FileFact::Ok(Arc::new(ArchiveFacts { arrays }))
}

/// `a/./b/../c` as `a/c`, without touching the disk (the file may not exist).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}
