//! One image drawn for people: as text (any editor's hover) and as a small
//! grey-scale SVG (editors that show pictures).

/// Shades from empty to full.
const SHADES: &[char] = &[' ', '.', ':', '-', '=', '+', '*', '#', '%', '@'];

/// The image (`height x width`, values in [0, 1]) as lines of characters,
/// two per pixel so that it keeps its proportions in a monospace font.
pub fn text_art(image: &[f32], size: [usize; 2]) -> String {
    let [height, width] = size;
    let mut out = String::with_capacity(height * (2 * width + 1));
    for row in image.chunks(width.max(1)).take(height) {
        for &value in row {
            let level = (value.clamp(0.0, 1.0) * (SHADES.len() - 1) as f32).round() as usize;
            let shade = SHADES[level.min(SHADES.len() - 1)];
            out.push(shade);
            out.push(shade);
        }
        out.push('\n');
    }
    out
}

/// The image as an SVG of `scale`-pixel grey squares (white 0, black 1).
pub fn svg(image: &[f32], size: [usize; 2], scale: usize) -> String {
    let [height, width] = size;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" shape-rendering=\"crispEdges\">",
        width * scale,
        height * scale
    );
    for (index, &value) in image.iter().enumerate().take(height * width) {
        let grey = 255 - (value.clamp(0.0, 1.0) * 255.0).round() as u8;
        out.push_str(&format!(
            "<rect x=\"{}\" y=\"{}\" width=\"{scale}\" height=\"{scale}\" fill=\"rgb({grey},{grey},{grey})\"/>",
            (index % width) * scale,
            (index / width) * scale
        ));
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_art_has_a_line_per_row_and_two_characters_per_pixel() {
        let art = text_art(&[0.0, 1.0, 0.5, 0.2], [2, 2]);
        assert_eq!(art, "  @@\n++::\n");
        let picture = svg(&[0.0, 1.0], [1, 2], 4);
        assert!(
            picture.contains("fill=\"rgb(255,255,255)\"")
                && picture.contains("fill=\"rgb(0,0,0)\"")
        );
    }
}
