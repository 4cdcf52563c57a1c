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
    let total = files.len();
    for file in files {
        analysis::schedule(&shared, file);
    }
    // The queue also holds files edited meanwhile; progress counts down
    // what is left of it.
    let mut reported = None;
    loop {
        let (left, shutting_down) = {
            let state = shared.lock();
            (state.queue.len(), state.shutting_down)
        };
        if left == 0 || shutting_down {
            break;
        }
        let finished = total.saturating_sub(left);
        if reported != Some(finished) {
            reported = Some(finished);
            progress.report(
                (finished * 100 / total.max(1)) as u32,
                format!("{finished}/{total} files"),
            );
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    progress.end(format!("{total} files analysed"));
}
