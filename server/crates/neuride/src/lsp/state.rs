//! The server's state and the handle every handler shares. The state sits
//! behind a `std::sync::Mutex` that is only ever held for short synchronous
//! sections, never across an `.await`. Messages to the client that must
//! keep their order (diagnostics, log lines, progress) go through one
//! channel drained by a single task.

use ls_types::{Diagnostic, ProgressToken, Uri};
use neuride_ide::AnalysisHost;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::mpsc::UnboundedSender;

/// What the client told us it can do, reduced to the flags we act on.
#[derive(Clone, Copy, Debug, Default)]
pub struct ClientFlags {
    pub work_done_progress: bool,
    pub watch_dynamic_registration: bool,
    pub show_document: bool,
    pub hierarchical_symbols: bool,
    /// VS Code (its hovers show `data:` images).
    pub shows_images: bool,
}

#[derive(Default)]
pub struct State {
    pub host: AnalysisHost,
    pub roots: Vec<PathBuf>,
    pub client: ClientFlags,
    /// Models whose text view a client asked for: their diagnostics are
    /// also published on the view's virtual URI.
    pub viewed: HashSet<PathBuf>,
    /// Cancel flags of running jobs by progress token.
    pub jobs: HashMap<ProgressToken, Arc<AtomicBool>>,
    /// Background analyses waiting and running.
    pub queue: super::analysis::Queue,
    /// Set by `shutdown`: no more analyses are started.
    pub shutting_down: bool,
    /// The lint configuration in force for each folder (`neuride.toml`,
    /// `[tool.neuride]`), as `neuride check` finds it.
    pub config: crate::config::Resolver,
}

/// A message to the client whose order matters.
pub enum Outgoing {
    Diagnostics {
        uri: Uri,
        diagnostics: Vec<Diagnostic>,
        version: Option<i32>,
    },
    Log(String),
    Progress(ls_types::ProgressParams),
    /// `neuride/events`: new registry events (the registry changed).
    Events(Value),
    /// `neuride/appEvent`: an event of a running app.
    AppEvent(Value),
    /// `neuride/appStatus`: a running app's counts.
    AppStatus(Value),
}

#[derive(Clone)]
pub struct Shared {
    state: Arc<Mutex<State>>,
    outgoing: UnboundedSender<Outgoing>,
}

impl Shared {
    pub fn new(outgoing: UnboundedSender<Outgoing>) -> Shared {
        Shared {
            state: Arc::default(),
            outgoing,
        }
    }

    /// Locks the state. A panic while it was held (which `catch_unwind`
    /// turned into an error response) does not poison the server.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn send(&self, message: Outgoing) {
        // The receiver lives as long as the server; after it is gone there
        // is no client to tell.
        let _ = self.outgoing.send(message);
    }
}
