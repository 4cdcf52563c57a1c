//! The workspace scan at start-up: every `.onnx`, `.npz`, `.npy` and
//! `.neuro` file under the workspace folders (respecting `.gitignore`) is
//! registered and analysed, with work-done progress when the client
//! supports it.

use super::analysis;
use super::jobs::Progress;
use super::state::Shared;
use super::transport::Client;
use std::path::PathBuf;

pub async fn scan(shared: Shared, client: Client) {
    let roots = shared.lock().roots.clone();
    let progress =
        Progress::start(&shared, &client, None, "neuride: scanning workspace", false).await;
    let files = tokio::task::spawn_blocking(move || {
        roots
            .iter()
            .flat_map(|root| neuride_ide::walk::analysable_files(root))
            .collect::<Vec<PathBuf>>()
    })
    .await
    .unwrap_or_default();
    {
        let mut state = shared.lock();
        for file in &files {
            state.host.file_changed_on_disk(file);
        }
    }
    tracing::info!(files = files.len(), "workspace scan found files");
    let total = files.len().max(1);
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(4);
    let chunk_size = files.len().div_ceil(workers).max(1);
    let done = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for chunk in files.chunks(chunk_size) {
        let (shared, chunk, done, progress) = (
            shared.clone(),
            chunk.to_vec(),
            done.clone(),
            progress.clone(),
        );
        tasks.push(tokio::task::spawn_blocking(move || {
            for path in chunk {
                let snapshot = shared.lock().host.snapshot(&path);
                if let Some(snapshot) = snapshot {
                    analysis::analyze_and_publish(&shared, &snapshot);
                }
                let finished = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                progress.report(
                    (finished * 100 / total) as u32,
                    format!("{finished}/{} files", total),
                );
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    progress.end(format!("{} files analysed", files.len()));
}
