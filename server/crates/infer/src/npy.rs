//! A small `.npy`/`.npz` codec for inference inputs and outputs (numeric,
//! bool and unicode-string arrays, C order). Kept private to this crate so
//! inference does not wait on other crates; object arrays are refused, never
//! unpickled.

use crate::value::{Data, Tensor};
use std::io::{Read, Write};

const MAGIC: &[u8] = b"\x93NUMPY";

/// Parses one `.npy` file.
pub fn read_npy(bytes: &[u8]) -> Result<Tensor, String> {
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err("not a .npy file (magic \\x93NUMPY expected)".to_owned());
    }
    let major = bytes[6];
    let (header_len, start) = match major {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 => {
            if bytes.len() < 12 {
                return Err("truncated .npy header".to_owned());
            }
            (
                u32::from_le_bytes(bytes[8..12].try_into().unwrap()) as usize,
                12,
            )
        }
        v => {
            return Err(format!(
                ".npy version {v} is not supported (1, 2 or 3 expected)"
            ));
        }
    };
    let header = bytes.get(start..start + header_len).ok_or_else(|| {
        format!(
            ".npy header claims {header_len} bytes, file has {}",
            bytes.len()
        )
    })?;
    let header = std::str::from_utf8(header).map_err(|_| ".npy header is not text".to_owned())?;
    let descr = dict_value(header, "descr").ok_or("npy header has no 'descr'")?;
    let descr = descr.trim_matches(|c| c == '\'' || c == '"');
    let fortran = dict_value(header, "fortran_order").ok_or("npy header has no 'fortran_order'")?;
    if fortran.starts_with("True") {
        return Err(
            "Fortran-ordered arrays are not supported; save with np.ascontiguousarray".to_owned(),
        );
    }
    let shape_text = dict_value(header, "shape").ok_or("npy header has no 'shape'")?;
    let shape = parse_shape(shape_text)?;
    let count = shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or("npy shape overflows")?;
    let body = &bytes[start + header_len..];
    let data = decode_body(descr, body, count)?;
    Ok(Tensor { shape, data })
}

/// The text after `'key':` up to the next top-level comma.
fn dict_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let at = header.find(&format!("'{key}'"))? + key.len() + 2;
    let rest = header[at..].trim_start().strip_prefix(':')?.trim_start();
    if rest.starts_with('(') {
        let end = rest.find(')')?;
        return Some(&rest[..=end]);
    }
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    Some(rest[..end].trim())
}

fn parse_shape(text: &str) -> Result<Vec<usize>, String> {
    let inner = text.trim().trim_start_matches('(').trim_end_matches(')');
    inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.trim_end_matches('L')
                .parse::<usize>()
                .map_err(|_| format!("bad npy shape {text}"))
        })
        .collect()
}

fn decode_body(descr: &str, body: &[u8], count: usize) -> Result<Data, String> {
    let need = |width: usize| -> Result<&[u8], String> {
        let n = count.checked_mul(width).ok_or("npy size overflows")?;
        body.get(..n).ok_or_else(|| {
            format!(
                "npy data has {} bytes, shape x {descr} needs {n}",
                body.len()
            )
        })
    };
    macro_rules! numbers {
        ($t:ty, $w:expr, $variant:ident, $big:expr) => {{
            let raw = need($w)?;
            Data::$variant(
                raw.chunks_exact($w)
                    .map(|c| {
                        let a = c.try_into().unwrap();
                        if $big {
                            <$t>::from_be_bytes(a)
                        } else {
                            <$t>::from_le_bytes(a)
                        }
                    })
                    .collect(),
            )
        }};
    }
    let big = descr.starts_with('>');
    let kind = descr.trim_start_matches(['<', '>', '|', '=']);
    Ok(match kind {
        "f4" => numbers!(f32, 4, F32, big),
        "f8" => numbers!(f64, 8, F64, big),
        "i8" => numbers!(i64, 8, I64, big),
        "i4" => numbers!(i32, 4, I32, big),
        "u1" => Data::U8(need(1)?.to_vec()),
        "i1" => Data::I8(need(1)?.iter().map(|&b| b as i8).collect()),
        "b1" => Data::Bool(need(1)?.iter().map(|&b| b != 0).collect()),
        "u4" | "u8" | "i2" | "u2" => {
            // Widen the integer kinds the evaluator does not carry to int64.
            let width: usize = kind[1..].parse().unwrap();
            let signed = kind.starts_with('i');
            let raw = need(width)?;
            Data::I64(
                raw.chunks_exact(width)
                    .map(|c| {
                        let mut b = [0u8; 8];
                        if big {
                            b[8 - width..].copy_from_slice(c);
                            b.reverse();
                        } else {
                            b[..width].copy_from_slice(c);
                        }
                        if signed && c[if big { 0 } else { width - 1 }] & 0x80 != 0 {
                            for x in &mut b[width..] {
                                *x = 0xff;
                            }
                        }
                        i64::from_le_bytes(b)
                    })
                    .collect(),
            )
        }
        k if k.starts_with('U') => {
            let chars: usize = k[1..]
                .parse()
                .map_err(|_| format!("bad npy dtype {descr}"))?;
            let raw = need(chars * 4)?;
            let mut out = Vec::with_capacity(count);
            for item in raw.chunks_exact((chars * 4).max(1)).take(count) {
                let s: String = item
                    .chunks_exact(4)
                    .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
                    .take_while(|&c| c != 0)
                    .filter_map(char::from_u32)
                    .collect();
                out.push(s);
            }
            if chars == 0 {
                out = vec![String::new(); count];
            }
            Data::Str(out)
        }
        k if k.starts_with('O') => {
            return Err("object arrays are not read (they would need unpickling)".to_owned());
        }
        _ => return Err(format!("npy dtype {descr} is not supported")),
    })
}

/// Encodes a tensor as `.npy` (version 1).
pub fn write_npy(tensor: &Tensor) -> Vec<u8> {
    let (descr, body): (String, Vec<u8>) = match &tensor.data {
        Data::F32(v) => (
            "<f4".into(),
            v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        ),
        Data::F64(v) => (
            "<f8".into(),
            v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        ),
        Data::I64(v) => (
            "<i8".into(),
            v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        ),
        Data::I32(v) => (
            "<i4".into(),
            v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        ),
        Data::U8(v) => ("|u1".into(), v.clone()),
        Data::I8(v) => ("|i1".into(), v.iter().map(|&x| x as u8).collect()),
        Data::Bool(v) => ("|b1".into(), v.iter().map(|&x| x as u8).collect()),
        Data::Str(v) => {
            let width = v
                .iter()
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
                .max(1);
            let mut body = Vec::with_capacity(v.len() * width * 4);
            for s in v {
                let mut n = 0;
                for c in s.chars() {
                    body.extend_from_slice(&(c as u32).to_le_bytes());
                    n += 1;
                }
                body.resize(body.len() + (width - n) * 4, 0);
            }
            (format!("<U{width}"), body)
        }
    };
    let shape = match tensor.shape.len() {
        0 => "()".to_owned(),
        1 => format!("({},)", tensor.shape[0]),
        _ => format!(
            "({})",
            tensor
                .shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    // Pad so the data starts on a 64-byte boundary, ending with '\n' as numpy does.
    let total = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - total % 64) % 64));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + body.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(&body);
    out
}

/// Reads every array of an `.npz` archive, in archive order.
pub fn read_npz(bytes: &[u8]) -> Result<Vec<(String, Tensor)>, String> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| format!("not a .npz (zip) archive: {e}"))?;
    let mut out = Vec::new();
    for i in 0..archive.len() {
        let mut file = archive
            .by_index(i)
            .map_err(|e| format!("npz entry {i}: {e}"))?;
        let name = file.name().trim_end_matches(".npy").to_owned();
        // The declared size bounds the allocation; a lying header just fails the read.
        let declared = file.size();
        if declared > (bytes.len() as u64).saturating_mul(1100).max(1 << 20) {
            return Err(format!(
                "npz entry '{name}' claims {declared} bytes, implausible for a {} byte archive",
                bytes.len()
            ));
        }
        let mut buf = Vec::with_capacity(declared as usize);
        file.read_to_end(&mut buf)
            .map_err(|e| format!("npz entry '{name}': {e}"))?;
        let tensor = read_npy(&buf).map_err(|e| format!("npz entry '{name}': {e}"))?;
        out.push((name, tensor));
    }
    Ok(out)
}

/// Writes arrays into an uncompressed `.npz` archive.
pub fn write_npz(arrays: &[(String, Tensor)]) -> Result<Vec<u8>, String> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(false);
    for (name, tensor) in arrays {
        writer
            .start_file(format!("{name}.npy"), options)
            .map_err(|e| e.to_string())?;
        writer
            .write_all(&write_npy(tensor))
            .map_err(|e| e.to_string())?;
    }
    Ok(writer.finish().map_err(|e| e.to_string())?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npy_round_trips_every_dtype() {
        let tensors = [
            Tensor::new(vec![2, 2], vec![1.5f32, -2.0, 0.0, 3.25]).unwrap(),
            Tensor::new(vec![3], vec![1i64, -7, 9]).unwrap(),
            Tensor::new(vec![], vec![2.5f64]).unwrap(),
            Tensor::new(vec![2], vec![true, false]).unwrap(),
            Tensor::new(vec![2], vec!["ab".to_owned(), "é".to_owned()]).unwrap(),
        ];
        for t in tensors {
            assert_eq!(read_npy(&write_npy(&t)).unwrap(), t);
        }
    }

    #[test]
    fn truncated_npy_is_an_error() {
        let bytes = write_npy(&Tensor::new(vec![4], vec![1.0f32; 4]).unwrap());
        for cut in 0..bytes.len() {
            assert!(read_npy(&bytes[..cut]).is_err(), "cut at {cut}");
        }
    }
}
