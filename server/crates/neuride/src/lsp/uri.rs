//! File URIs and the virtual URIs of model text views
//! (`neuride-model:///abs/path/model.onnx`: the model's path under the
//! `neuride-model` scheme, so both directions are exact).

use ls_types::Uri;
use std::path::{Path, PathBuf};
use std::str::FromStr;

pub const MODEL_SCHEME: &str = "neuride-model";

pub fn from_path(path: &Path) -> Option<Uri> {
    Uri::from_file_path(path)
}

/// The file a `file:` or `neuride-model:` URI names.
pub fn to_path(uri: &Uri) -> Option<PathBuf> {
    let scheme = uri.scheme().as_str();
    if scheme.eq_ignore_ascii_case("file") {
        return uri.to_file_path().map(|p| p.into_owned());
    }
    if scheme.eq_ignore_ascii_case(MODEL_SCHEME) {
        let file =
            Uri::from_str(&format!("file:{}", &uri.as_str()[MODEL_SCHEME.len() + 1..])).ok()?;
        return file.to_file_path().map(|p| p.into_owned());
    }
    None
}

pub fn is_virtual(uri: &Uri) -> bool {
    uri.scheme().as_str().eq_ignore_ascii_case(MODEL_SCHEME)
}

/// The virtual URI of the text view of the model at `path`.
pub fn virtual_from_path(path: &Path) -> Option<Uri> {
    let file = from_path(path)?;
    Uri::from_str(&format!(
        "{MODEL_SCHEME}:{}",
        &file.as_str()["file:".len()..]
    ))
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_uris_round_trip() {
        let path = Path::new("/tmp/a dir/model é.onnx");
        let file = from_path(path).unwrap();
        assert_eq!(file.as_str(), "file:///tmp/a%20dir/model%20%C3%A9.onnx");
        let view = virtual_from_path(path).unwrap();
        assert_eq!(
            view.as_str(),
            "neuride-model:///tmp/a%20dir/model%20%C3%A9.onnx"
        );
        assert!(is_virtual(&view));
        assert_eq!(to_path(&view).unwrap(), path);
        assert_eq!(to_path(&file).unwrap(), path);
    }
}
