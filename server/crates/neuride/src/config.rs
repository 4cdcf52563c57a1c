//! Finding lint configuration files for the CLI and the language server:
//! the nearest `neuride.toml`, or `pyproject.toml` with a `[tool.neuride]`
//! table, in the file's folder or above it. Parsing and the rules
//! themselves are `neuride_ide::config`'s; this is the IO around it.

use neuride_ide::config::{Config, ConfigError, FILE_NAMES, Overrides, RuleSet};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Where the configuration comes from.
#[derive(Clone, Debug, Default)]
pub enum Source {
    /// Found upward from each file.
    #[default]
    Discover,
    /// `--config FILE`: one file for every checked file.
    File(Arc<Config>),
    /// `--isolated`: no file at all.
    Isolated,
}

/// Resolves the rules in force for files, caching each folder's answer.
pub struct Resolver {
    source: Source,
    overrides: Overrides,
    /// The config in force in each folder asked about (`None`: defaults).
    folders: Mutex<HashMap<PathBuf, Option<Arc<Config>>>>,
    /// The working directory, read once: relative paths are resolved
    /// against it (asking the system per file cost a system call each).
    cwd: Option<PathBuf>,
}

impl Default for Resolver {
    fn default() -> Resolver {
        Resolver::new(Source::default(), Overrides::default())
    }
}

impl Resolver {
    pub fn new(source: Source, overrides: Overrides) -> Resolver {
        Resolver {
            source,
            overrides,
            folders: Mutex::default(),
            cwd: std::env::current_dir().ok(),
        }
    }

    /// Reads `--config FILE` (a `neuride.toml`, or a `pyproject.toml` that
    /// must have a `[tool.neuride]` table).
    pub fn explicit(path: &Path) -> anyhow::Result<Source> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read config {}: {e}", path.display()))?;
        let absolute = std::path::absolute(path)?;
        match Config::parse(&absolute, &text)? {
            Some(config) => Ok(Source::File(Arc::new(config))),
            None => anyhow::bail!("{}: no [tool.neuride] table", path.display()),
        }
    }

    /// Forgets what was read (a config file changed).
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// The rules for `file`. A config file that does not parse is an error
    /// naming it.
    pub fn rules_for(&self, file: &Path) -> Result<RuleSet, ConfigError> {
        let joined;
        let file = match &self.cwd {
            Some(cwd) if file.is_relative() => {
                joined = cwd.join(file);
                &joined
            }
            _ => file,
        };
        let file = std::path::absolute(file).unwrap_or_else(|_| file.to_owned());
        let config = match &self.source {
            Source::Isolated => None,
            Source::File(config) => Some(config.clone()),
            Source::Discover => match file.parent() {
                Some(folder) => self.discover(folder)?,
                None => None,
            },
        };
        Ok(match config {
            Some(config) => config.rules_for(&file, &self.overrides),
            None => Config::default().rules_for(&file, &self.overrides),
        })
    }

    /// The config in force in `folder`: the nearest one in it or above.
    fn discover(&self, folder: &Path) -> Result<Option<Arc<Config>>, ConfigError> {
        if let Some(known) = self.lock().get(folder) {
            return Ok(known.clone());
        }
        let mut found = None;
        for name in FILE_NAMES {
            let path = folder.join(name);
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            if let Some(config) = Config::parse(&path, &text)? {
                found = Some(Arc::new(config));
                break;
            }
        }
        let config = match found {
            Some(config) => Some(config),
            None => match folder.parent() {
                Some(parent) => self.discover(parent)?,
                None => None,
            },
        };
        self.lock().insert(folder.to_owned(), config.clone());
        Ok(config)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PathBuf, Option<Arc<Config>>>> {
        self.folders.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Whether `path` is a file whose change can change the rules.
pub fn is_config_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|name| name.to_str())
        .is_some_and(|name| FILE_NAMES.contains(&name))
}
