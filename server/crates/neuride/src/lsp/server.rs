//! The LSP methods: thin adapters from protocol types to the analysis host
//! and back. Notification handlers mutate state synchronously before any
//! `.await`; the dispatcher runs every request under
//! [`super::guard::guard`].

use super::jsonrpc::Result;
use super::state::{ClientFlags, Outgoing, Shared};
use super::transport::Client;
use super::{analysis, commands, custom, fixes, neuro, scan, to_proto, uri};
use ls_types::*;
use neuride_ide::FileKind;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

pub struct Server {
    client: Client,
    shared: Shared,
    /// The server-side watcher, when the client cannot watch for us.
    watcher: Mutex<Option<crate::watch::Watch>>,
}

/// A `.neuro` file's analysis (only built from the `Neuro` variant).
struct NeuroFile(Arc<neuride_ide::FileAnalysis>);

impl NeuroFile {
    fn new(analysis: Arc<neuride_ide::FileAnalysis>) -> Option<NeuroFile> {
        matches!(analysis.as_ref(), neuride_ide::FileAnalysis::Neuro(_))
            .then(|| NeuroFile(analysis))
    }
}

impl std::ops::Deref for NeuroFile {
    type Target = neuride_ide::neuro::NeuroAnalysis;

    fn deref(&self) -> &Self::Target {
        match self.0.as_ref() {
            neuride_ide::FileAnalysis::Neuro(neuro) => neuro,
            _ => unreachable!("NeuroFile::new only wraps .neuro analyses"),
        }
    }
}

/// `neuride/events` notification: new registry events.
enum EventsNotification {}

impl notification::Notification for EventsNotification {
    type Params = Value;
    const METHOD: &'static str = "neuride/events";
}

/// `neuride/appEvent` notification: an event of a running app.
enum AppEventNotification {}

impl notification::Notification for AppEventNotification {
    type Params = Value;
    const METHOD: &'static str = "neuride/appEvent";
}

/// `neuride/appStatus` notification: a running app's counts.
enum AppStatusNotification {}

impl notification::Notification for AppStatusNotification {
    type Params = Value;
    const METHOD: &'static str = "neuride/appStatus";
}

impl Server {
    pub fn new(client: Client) -> Server {
        let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel();
        let publisher = client.clone();
        tokio::spawn(async move {
            while let Some(message) = receiver.recv().await {
                match message {
                    Outgoing::Diagnostics {
                        uri,
                        diagnostics,
                        version,
                    } => publisher.publish_diagnostics(uri, diagnostics, version),
                    Outgoing::Log(line) => publisher.log_message(MessageType::INFO, line),
                    Outgoing::Progress(params) => {
                        publisher.notify::<notification::Progress>(params)
                    }
                    Outgoing::Events(params) => publisher.notify::<EventsNotification>(params),
                    Outgoing::AppEvent(params) => publisher.notify::<AppEventNotification>(params),
                    Outgoing::AppStatus(params) => {
                        publisher.notify::<AppStatusNotification>(params)
                    }
                }
            }
        });
        Server {
            client,
            shared: Shared::new(sender),
            watcher: Mutex::new(None),
        }
    }

    pub async fn model_text(&self, params: custom::UriParams) -> Result<custom::ModelTextResult> {
        custom::model_text(&self.shared, params).await
    }

    pub async fn model_summary(&self, params: custom::UriParams) -> Result<Value> {
        custom::model_summary(&self.shared, params).await
    }

    pub async fn classify(&self, params: custom::UriParams) -> Result<Value> {
        custom::classify(&self.shared, params).await
    }

    pub async fn graph(&self, params: custom::GraphParams) -> Result<Value> {
        custom::graph(&self.shared, params).await
    }

    pub async fn models(&self, _params: Option<Value>) -> Result<Value> {
        Ok(custom::models(&self.shared))
    }

    pub async fn events(&self, _params: Option<Value>) -> Result<Value> {
        Ok(custom::events(&self.shared))
    }

    /// The user pressed cancel on a job's progress.
    pub async fn work_done_progress_cancel(&self, params: WorkDoneProgressCancelParams) {
        if let Some(flag) = self.shared.lock().jobs.get(&params.token) {
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }

    /// The current analysis of a `.neuro` document (waiting for the
    /// analysis of the latest edit, so positions match the editor's text).
    async fn neuro_at(&self, uri: &Uri) -> Result<Option<NeuroFile>> {
        let path = custom::path_of(uri)?;
        if FileKind::from_path(&path) != Some(FileKind::Neuro) {
            return Ok(None);
        }
        let current = self.shared.lock().host.current_analysis(&path);
        let analysis = match current {
            Some(analysis) => analysis,
            None => {
                let shared = self.shared.clone();
                let snapshot = shared.lock().host.snapshot(&path);
                let Some(snapshot) = snapshot else {
                    return custom::analysis_of(&self.shared, path)
                        .await
                        .map(NeuroFile::new);
                };
                let analysed = tokio::task::spawn_blocking(move || {
                    analysis::analyze_and_publish(&shared, &snapshot)
                        .or_else(|| snapshot.analyze().map(Arc::new))
                })
                .await
                .map_err(|e| super::guard::internal(e.to_string()))?;
                match analysed {
                    Some(analysis) => analysis,
                    None => return Ok(None),
                }
            }
        };
        Ok(NeuroFile::new(analysis))
    }

    /// The analysis behind a document or view URI (analysed now if the
    /// scan has not reached it yet); `None` for files neuride ignores.
    async fn model_at(&self, uri: &Uri) -> Result<Option<Arc<neuride_ide::FileAnalysis>>> {
        let path = custom::path_of(uri)?;
        match FileKind::from_path(&path) {
            None => Ok(None),
            // The analysis of the editor's latest text, not the last one
            // finished: a request sees every change sent before it.
            Some(FileKind::Neuro) => Ok(self.neuro_at(uri).await?.map(|file| file.0)),
            Some(_) => custom::analysis_of(&self.shared, path).await.map(Some),
        }
    }

    /// A request about a `.neuro` file: `None` for other files, else what
    /// `answer` makes of the file's current analysis.
    async fn on_neuro<T>(
        &self,
        uri: &Uri,
        answer: impl FnOnce(NeuroFile) -> Result<Option<T>>,
    ) -> Result<Option<T>> {
        match self.neuro_at(uri).await? {
            Some(file) => answer(file),
            None => Ok(None),
        }
    }
}

/// The path of a `.neuro` file's URI; `None` for other files.
fn neuro_path(uri: &Uri) -> Option<PathBuf> {
    uri::to_path(uri).filter(|path| FileKind::from_path(path) == Some(FileKind::Neuro))
}

fn client_flags(capabilities: &ClientCapabilities) -> ClientFlags {
    let workspace = capabilities.workspace.as_ref();
    let window = capabilities.window.as_ref();
    ClientFlags {
        work_done_progress: window.and_then(|w| w.work_done_progress).unwrap_or(false),
        watch_dynamic_registration: workspace
            .and_then(|w| w.did_change_watched_files.as_ref())
            .and_then(|w| w.dynamic_registration)
            .unwrap_or(false),
        show_document: window
            .and_then(|w| w.show_document.as_ref())
            .is_some_and(|s| s.support),
        hierarchical_symbols: capabilities
            .text_document
            .as_ref()
            .and_then(|t| t.document_symbol.as_ref())
            .and_then(|s| s.hierarchical_document_symbol_support)
            .unwrap_or(false),
        shows_images: false,
    }
}

#[allow(deprecated)] // root_uri / root_path: older clients send only those
fn workspace_roots(params: &InitializeParams) -> Vec<PathBuf> {
    if let Some(folders) = &params.workspace_folders {
        return folders
            .iter()
            .filter_map(|f| uri::to_path(&f.uri))
            .collect();
    }
    if let Some(root) = params.root_uri.as_ref().and_then(uri::to_path) {
        return vec![root];
    }
    params.root_path.iter().map(PathBuf::from).collect()
}

/// The LSP methods [`super::dispatch`] routes to.
impl Server {
    pub async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let roots = workspace_roots(&params);
        tracing::info!(roots = ?roots, client = ?params.client_info.as_ref().map(|c| &c.name), "initialize");
        {
            let mut state = self.shared.lock();
            state.roots = roots;
            state.client = client_flags(&params.capabilities);
            state.client.shows_images = params
                .client_info
                .as_ref()
                .is_some_and(|c| c.name.contains("Visual Studio Code"));
        }
        Ok(InitializeResult {
            server_info: Some(ServerInfo {
                name: "neuride".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
            capabilities: ServerCapabilities {
                position_encoding: Some(PositionEncodingKind::UTF16),
                text_document_sync: Some(TextDocumentSyncCapability::Options(
                    TextDocumentSyncOptions {
                        open_close: Some(true),
                        change: Some(TextDocumentSyncKind::FULL),
                        ..Default::default()
                    },
                )),
                hover_provider: Some(HoverProviderCapability::Simple(true)),
                definition_provider: Some(OneOf::Left(true)),
                document_symbol_provider: Some(OneOf::Left(true)),
                workspace_symbol_provider: Some(OneOf::Left(true)),
                references_provider: Some(OneOf::Left(true)),
                rename_provider: Some(OneOf::Right(RenameOptions {
                    prepare_provider: Some(true),
                    work_done_progress_options: WorkDoneProgressOptions::default(),
                })),
                completion_provider: Some(CompletionOptions {
                    trigger_characters: Some(vec!["\"".into(), "(".into(), "/".into(), ".".into()]),
                    ..Default::default()
                }),
                semantic_tokens_provider: Some(
                    SemanticTokensServerCapabilities::SemanticTokensOptions(
                        SemanticTokensOptions {
                            legend: neuro::semantic_tokens_legend(),
                            full: Some(SemanticTokensFullOptions::Bool(true)),
                            range: None,
                            work_done_progress_options: WorkDoneProgressOptions::default(),
                        },
                    ),
                ),
                document_formatting_provider: Some(OneOf::Left(true)),
                inlay_hint_provider: Some(OneOf::Left(true)),
                code_lens_provider: Some(CodeLensOptions {
                    resolve_provider: Some(false),
                }),
                code_action_provider: Some(CodeActionProviderCapability::Simple(true)),
                execute_command_provider: Some(ExecuteCommandOptions {
                    commands: commands::all(),
                    work_done_progress_options: WorkDoneProgressOptions {
                        work_done_progress: Some(true),
                    },
                }),
                ..Default::default()
            },
            ..Default::default()
        })
    }

    pub async fn initialized(&self, _: InitializedParams) {
        let (roots, flags) = {
            let state = self.shared.lock();
            (state.roots.clone(), state.client)
        };
        let mut client_watches = false;
        if flags.watch_dynamic_registration {
            let options = DidChangeWatchedFilesRegistrationOptions {
                watchers: [
                    "**/*.onnx",
                    "**/*.npz",
                    "**/*.npy",
                    "**/*.neuro",
                    "**/*.nir",
                    "**/neuride.toml",
                    "**/pyproject.toml",
                ]
                .into_iter()
                .map(|glob| FileSystemWatcher {
                    glob_pattern: GlobPattern::String(glob.into()),
                    kind: None,
                })
                .collect(),
            };
            let registration = Registration {
                id: "neuride-watch".into(),
                method: "workspace/didChangeWatchedFiles".into(),
                register_options: serde_json::to_value(options).ok(),
            };
            match self.client.register_capability(vec![registration]).await {
                Ok(()) => client_watches = true,
                Err(error) => {
                    tracing::warn!("client refused file watching ({error}); watching ourselves")
                }
            }
        }
        let mut watching = None;
        if !client_watches && !roots.is_empty() {
            let shared = self.shared.clone();
            let changed = move |paths| analysis::disk_changes(&shared, paths);
            match crate::watch::start(&roots, changed) {
                Ok((watcher, walked)) => {
                    *self.watcher.lock().unwrap_or_else(|p| p.into_inner()) = Some(watcher);
                    watching = Some(walked);
                }
                Err(error) => tracing::error!("cannot start the file watcher: {error}"),
            }
        }
        tracing::info!(client_watches, "watching workspace files");
        let (shared, client) = (self.shared.clone(), self.client.clone());
        tokio::spawn(async move {
            if let Some(walked) = watching {
                let _ = walked.await;
            }
            scan::scan(shared, client).await
        });
    }

    pub async fn shutdown(&self) -> Result<()> {
        self.shared.lock().shutting_down = true;
        self.watcher
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        Ok(())
    }

    pub async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let document = params.text_document;
        let Some(path) = uri::to_path(&document.uri) else {
            return;
        };
        // Binary files are analysed from disk whatever an editor loaded.
        let revision = match FileKind::from_path(&path) {
            Some(FileKind::Neuro) => Some(self.shared.lock().host.set_overlay(
                &path,
                Arc::from(document.text),
                document.version,
            )),
            Some(_) if !uri::is_virtual(&document.uri) => {
                let mut state = self.shared.lock();
                if state.host.contains(&path) {
                    None
                } else {
                    state.host.file_changed_on_disk(&path)
                }
            }
            _ => None,
        };
        if revision.is_some() {
            analysis::schedule(&self.shared, path);
        }
    }

    pub async fn did_change(&self, params: DidChangeTextDocumentParams) {
        let Some(path) = neuro_path(&params.text_document.uri) else {
            return;
        };
        // Full sync: the last change holds the whole text.
        let Some(change) = params.content_changes.into_iter().last() else {
            return;
        };
        self.shared.lock().host.set_overlay(
            &path,
            Arc::from(change.text),
            params.text_document.version,
        );
        analysis::schedule(&self.shared, path);
    }

    pub async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let Some(path) = neuro_path(&params.text_document.uri) else {
            return;
        };
        if path.is_file() {
            self.shared.lock().host.remove_overlay(&path);
            analysis::schedule(&self.shared, path);
        } else {
            let mut state = self.shared.lock();
            analysis::remove(&self.shared, &mut state, &path);
        }
    }

    pub async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        let paths: Vec<PathBuf> = params
            .changes
            .iter()
            .filter_map(|c| uri::to_path(&c.uri))
            .collect();
        // Off the dispatcher: a reported folder is walked, which can take
        // seconds; later messages must not wait for it.
        let shared = self.shared.clone();
        tokio::task::spawn_blocking(move || analysis::disk_changes(&shared, paths));
    }

    pub async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        let at = params.text_document_position_params;
        let Some(analysis) = self.model_at(&at.text_document.uri).await? else {
            return Ok(None);
        };
        if let neuride_ide::FileAnalysis::Neuro(_) = analysis.as_ref() {
            let pictures = self.shared.lock().client.shows_images;
            // A `to_image` dataset's hover draws a sample: that fits
            // its map, so it runs off the request thread.
            return tokio::task::spawn_blocking(move || {
                let neuride_ide::FileAnalysis::Neuro(file) = analysis.as_ref() else {
                    return None;
                };
                neuro::hover_with_preview(file, at.position, pictures)
            })
            .await
            .map_err(|e| super::guard::internal(e.to_string()));
        }
        let Some(model) = analysis.as_model() else {
            return Ok(None);
        };
        let hover = neuride_ide::hover::model_hover(model, to_proto::from_position(at.position));
        Ok(hover.map(|h| Hover {
            contents: HoverContents::Markup(MarkupContent {
                kind: MarkupKind::Markdown,
                value: h.markdown,
            }),
            range: Some(to_proto::range(h.range)),
        }))
    }

    pub async fn goto_definition(
        &self,
        params: GotoDefinitionParams,
    ) -> Result<Option<GotoDefinitionResponse>> {
        let at = params.text_document_position_params;
        let Some(analysis) = self.model_at(&at.text_document.uri).await? else {
            return Ok(None);
        };
        if let neuride_ide::FileAnalysis::Neuro(file) = analysis.as_ref() {
            let shared = self.shared.clone();
            let location = neuro::definition(
                file,
                &at.text_document.uri,
                at.position,
                |path, name, is_archive| {
                    let target = shared.lock().host.analysis(path)?;
                    match target.as_ref() {
                        neuride_ide::FileAnalysis::Archive(archive) if is_archive => archive
                            .lines
                            .get(name)
                            .map(|&line| neuride_ide::archive::line_range(&archive.text, line)),
                        neuride_ide::FileAnalysis::Model(model) if !is_archive => {
                            model.view.range_of(&neuride_onnx::Anchor::Value {
                                graph: neuride_onnx::GraphId::Main,
                                name: name.to_owned(),
                            })
                        }
                        _ => None,
                    }
                },
            );
            return Ok(location.map(GotoDefinitionResponse::Scalar));
        }
        let Some(model) = analysis.as_model() else {
            return Ok(None);
        };
        let target =
            neuride_ide::symbols::model_definition(model, to_proto::from_position(at.position));
        Ok(target.map(|range| {
            GotoDefinitionResponse::Scalar(Location {
                uri: at.text_document.uri.clone(),
                range: to_proto::range(range),
            })
        }))
    }

    pub async fn document_symbol(
        &self,
        params: DocumentSymbolParams,
    ) -> Result<Option<DocumentSymbolResponse>> {
        let Some(analysis) = self.model_at(&params.text_document.uri).await? else {
            return Ok(None);
        };
        let symbols = match analysis.as_ref() {
            neuride_ide::FileAnalysis::Model(model) => neuride_ide::symbols::model_symbols(model),
            neuride_ide::FileAnalysis::Neuro(neuro) => neuride_ide::symbols::neuro_symbols(neuro),
            neuride_ide::FileAnalysis::Archive(_) => Vec::new(),
        };
        if self.shared.lock().client.hierarchical_symbols {
            Ok(Some(DocumentSymbolResponse::Nested(
                symbols.iter().map(to_proto::document_symbol).collect(),
            )))
        } else {
            let mut flat = Vec::new();
            to_proto::flat_symbols(&symbols, &params.text_document.uri, None, &mut flat);
            Ok(Some(DocumentSymbolResponse::Flat(flat)))
        }
    }

    #[allow(deprecated)]
    pub async fn symbol(
        &self,
        params: WorkspaceSymbolParams,
    ) -> Result<Option<WorkspaceSymbolResponse>> {
        let analyses = custom::workspace_analyses(&self.shared);
        let found = neuride_ide::symbols::workspace_symbols(&analyses, &params.query, 1000);
        let symbols = found
            .into_iter()
            .filter_map(|symbol| {
                let is_view = FileKind::from_path(&symbol.path).is_some_and(FileKind::is_binary);
                let uri = if is_view {
                    uri::virtual_from_path(&symbol.path)
                } else {
                    uri::from_path(&symbol.path)
                }?;
                Some(SymbolInformation {
                    name: symbol.name,
                    kind: to_proto::symbol_kind(symbol.kind),
                    tags: None,
                    deprecated: None,
                    location: Location {
                        uri,
                        range: to_proto::range(symbol.range),
                    },
                    container_name: Some(symbol.container),
                })
            })
            .collect();
        Ok(Some(WorkspaceSymbolResponse::Flat(symbols)))
    }

    pub async fn references(&self, params: ReferenceParams) -> Result<Option<Vec<Location>>> {
        let at = params.text_document_position;
        self.on_neuro(&at.text_document.uri, |file| {
            let found = neuro::references(
                &file,
                &at.text_document.uri,
                at.position,
                params.context.include_declaration,
            );
            Ok(Some(found))
        })
        .await
    }

    pub async fn prepare_rename(
        &self,
        params: TextDocumentPositionParams,
    ) -> Result<Option<PrepareRenameResponse>> {
        self.on_neuro(&params.text_document.uri, |file| {
            Ok(neuro::prepare_rename(&file, params.position))
        })
        .await
    }

    pub async fn rename(&self, params: RenameParams) -> Result<Option<WorkspaceEdit>> {
        let at = params.text_document_position;
        self.on_neuro(&at.text_document.uri, |file| {
            neuro::rename(&file, &at.text_document.uri, at.position, &params.new_name)
                .map(Some)
                .map_err(super::guard::invalid_params)
        })
        .await
    }

    pub async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        let at = params.text_document_position;
        let Some(file) = self.neuro_at(&at.text_document.uri).await? else {
            return Ok(None);
        };
        let position = at.position;
        let items = tokio::task::spawn_blocking(move || neuro::completion(&file, position))
            .await
            .map_err(|e| super::guard::internal(e.to_string()))?;
        Ok(Some(CompletionResponse::Array(items)))
    }

    pub async fn semantic_tokens_full(
        &self,
        params: SemanticTokensParams,
    ) -> Result<Option<SemanticTokensResult>> {
        self.on_neuro(&params.text_document.uri, |file| {
            Ok(Some(SemanticTokensResult::Tokens(neuro::semantic_tokens(
                &file,
            ))))
        })
        .await
    }

    pub async fn formatting(
        &self,
        params: DocumentFormattingParams,
    ) -> Result<Option<Vec<TextEdit>>> {
        self.on_neuro(&params.text_document.uri, |file| {
            Ok(Some(neuro::formatting(&file)))
        })
        .await
    }

    pub async fn inlay_hint(&self, params: InlayHintParams) -> Result<Option<Vec<InlayHint>>> {
        self.on_neuro(&params.text_document.uri, |file| {
            Ok(Some(neuro::inlay_hints(&file, params.range)))
        })
        .await
    }

    pub async fn code_lens(&self, params: CodeLensParams) -> Result<Option<Vec<CodeLens>>> {
        self.on_neuro(&params.text_document.uri, |file| {
            Ok(Some(neuro::code_lenses(&file, &params.text_document.uri)))
        })
        .await
    }

    pub async fn code_action(
        &self,
        params: CodeActionParams,
    ) -> Result<Option<CodeActionResponse>> {
        let uri = &params.text_document.uri;
        if custom::path_of(uri)
            .ok()
            .and_then(|p| FileKind::from_path(&p))
            == Some(FileKind::Onnx)
        {
            let Some(analysis) = self.model_at(uri).await? else {
                return Ok(None);
            };
            return Ok(Some(fixes::code_actions(
                &self.shared,
                uri,
                &analysis,
                &params.context,
            )));
        }
        let Some(file) = self.neuro_at(&params.text_document.uri).await? else {
            return Ok(None);
        };
        Ok(Some(neuro::code_actions(
            &file,
            &params.text_document.uri,
            params.range,
        )))
    }

    pub async fn execute_command(&self, params: ExecuteCommandParams) -> Result<Option<Value>> {
        commands::execute(&self.shared, &self.client, params).await
    }
}
