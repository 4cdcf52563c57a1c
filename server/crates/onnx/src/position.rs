//! Positions in text: a zero-based line and a character offset in UTF-16 code
//! units, the unit LSP clients count in by default (and what `neuride check
//! --format json` prints, so the CLI and the editor agree), and the one index
//! that converts byte offsets to them and back. Every text neuride shows (a
//! `.neuro` file, a model's text view, an archive's) is addressed with these.

use serde::Serialize;

/// A zero-based line and a character offset in UTF-16 code units.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Position {
    pub line: u32,
    pub character: u32,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Range {
    pub start: Position,
    pub end: Position,
}

impl Range {
    pub fn line(line: u32, start: u32, end: u32) -> Range {
        Range {
            start: Position {
                line,
                character: start,
            },
            end: Position {
                line,
                character: end,
            },
        }
    }

    pub fn contains(&self, position: Position) -> bool {
        self.start <= position && position <= self.end
    }
}

#[derive(Clone, Debug)]
pub struct LineIndex {
    /// Byte offset of the start of each line; always starts with 0.
    line_starts: Vec<usize>,
    /// Every character outside ASCII, in text order: its byte offset and how
    /// many more UTF-8 bytes than UTF-16 units the text has up to and
    /// including it. With it a position costs two binary searches instead
    /// of a scan of its line: converting each of a long line's tokens or
    /// diagnostics by a scan was quadratic (100,000 diagnostics on a
    /// 100 KB line took 15 s).
    wide_chars: Vec<(usize, usize)>,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(offset, _)| offset + 1));
        let mut wide_chars = Vec::new();
        let mut extra = 0;
        for (offset, ch) in text.char_indices().filter(|(_, ch)| !ch.is_ascii()) {
            extra += ch.len_utf8() - ch.len_utf16();
            wide_chars.push((offset, extra));
        }
        LineIndex {
            line_starts,
            wide_chars,
        }
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// The byte offset where `line` starts, if the text has it.
    pub fn line_start(&self, line: u32) -> Option<usize> {
        self.line_starts.get(line as usize).copied()
    }

    /// How many more UTF-8 bytes than UTF-16 units `text[..offset]` has.
    fn extra_bytes_before(&self, offset: usize) -> usize {
        match self.wide_chars.partition_point(|&(at, _)| at < offset) {
            0 => 0,
            count => self.wide_chars[count - 1].1,
        }
    }

    /// The position of byte `offset` in `text` (the text this index was built
    /// from). Offsets past the end clamp to the end; offsets inside a UTF-8
    /// sequence round down to its start.
    pub fn position(&self, text: &str, offset: usize) -> Position {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_starts.partition_point(|&start| start <= offset) - 1;
        let line_start = self.line_starts[line];
        let extra = self.extra_bytes_before(offset) - self.extra_bytes_before(line_start);
        Position {
            line: line as u32,
            character: (offset - line_start - extra) as u32,
        }
    }

    pub fn range(&self, text: &str, start: usize, end: usize) -> Range {
        Range {
            start: self.position(text, start),
            end: self.position(text, end.max(start)),
        }
    }

    /// The byte offset of `position` in `text`; a character past the end of
    /// its line clamps to the line end, a line past the end to the text end.
    pub fn offset(&self, text: &str, position: Position) -> usize {
        let Some(&line_start) = self.line_starts.get(position.line as usize) else {
            return text.len();
        };
        let line_end = self
            .line_starts
            .get(position.line as usize + 1)
            .map_or(text.len(), |&next| next - 1);
        let mut units = 0u32;
        for (index, ch) in text[line_start..line_end].char_indices() {
            if units >= position.character {
                return line_start + index;
            }
            units += ch.len_utf16() as u32;
        }
        line_end
    }
}

impl Default for LineIndex {
    /// The index of the empty text.
    fn default() -> Self {
        LineIndex::new("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_utf16_units() {
        let text = "ab\nμ𝄞x\n";
        let index = LineIndex::new(text);
        assert_eq!(index.line_count(), 3);
        let at = |line, character| Position { line, character };
        // μ is 2 bytes / 1 unit, 𝄞 is 4 bytes / 2 units.
        let x = text.find('x').unwrap();
        for (offset, position) in [
            (0, at(0, 0)),
            (3, at(1, 0)),
            (x, at(1, 3)),
            // Past the end: the last line.
            (10_000, at(2, 0)),
            // Inside a UTF-8 sequence rounds down.
            (4, at(1, 0)),
        ] {
            assert_eq!(index.position(text, offset), position, "offset {offset}");
        }
        // And back: a character past its line ends it, a line past the last ends the text.
        for (position, offset) in [(at(1, 3), x), (at(0, 99), 2), (at(9, 0), text.len())] {
            assert_eq!(index.offset(text, position), offset, "{position:?}");
        }
    }

    /// The position by scanning the line, as `position` did before the
    /// wide-character table.
    fn scanned(text: &str, offset: usize) -> Position {
        let line_start = text[..offset].rfind('\n').map_or(0, |at| at + 1);
        Position {
            line: text[..offset].matches('\n').count() as u32,
            character: text[line_start..offset].encode_utf16().count() as u32,
        }
    }

    #[test]
    fn positions_match_a_scan_of_the_line() {
        let text = "aμ𝄞\n\nx€y\nμμ𝄞z𝄞\nplain ascii\n€";
        let index = LineIndex::new(text);
        for offset in (0..=text.len()).filter(|&offset| text.is_char_boundary(offset)) {
            assert_eq!(
                index.position(text, offset),
                scanned(text, offset),
                "offset {offset}"
            );
        }
    }

    /// The fastest of three runs of converting every character offset of
    /// one line of `len` characters (a fifth of them outside ASCII).
    fn time_positions(len: usize) -> std::time::Duration {
        let text: String = (0..len)
            .map(|i| if i % 5 == 0 { 'μ' } else { 'a' })
            .collect();
        let index = LineIndex::new(&text);
        let offsets: Vec<usize> = text.char_indices().map(|(offset, _)| offset).collect();
        (0..3)
            .map(|_| {
                let start = std::time::Instant::now();
                for &offset in &offsets {
                    std::hint::black_box(index.position(&text, offset));
                }
                start.elapsed()
            })
            .min()
            .unwrap_or_default()
    }

    #[test]
    fn positions_on_a_long_line_take_linear_time() {
        // 8x the positions on an 8x longer line: 8x the time (and a log
        // factor) when each is a lookup, 64x when each scans its line. The
        // lists stay in the CPU caches, so the ratio is the algorithm's.
        let small = time_positions(4_000);
        let large = time_positions(32_000);
        assert!(
            large < small * 32,
            "4,000 positions took {small:?}, 32,000 took {large:?}"
        );
    }
}
