//! Strings: StringNormalizer, StringConcat, StringSplit, RegexFullMatch,
//! and TfIdfVectorizer over strings or integers.

use super::{Registry, arg, one, op};
use crate::error::KernelError;
use crate::ml::num::zip_broadcast;
use crate::value::{Data, Tensor, Value};
use std::collections::{HashMap, HashSet};

fn strings<'a>(t: &'a Tensor, what: &str) -> Result<&'a [String], KernelError> {
    match &t.data {
        Data::Str(v) => Ok(v),
        other => Err(KernelError::Type(format!(
            "{what} takes strings, found {}",
            other.dtype()
        ))),
    }
}

pub(super) fn register(reg: &mut Registry) {
    reg.add(&["StringConcat"], |_, _, _| {
        op(|i| {
            let (a, b) = (arg(i, 0)?, arg(i, 1)?);
            let (x, y) = (strings(a, "StringConcat")?, strings(b, "StringConcat")?);
            let xs: Vec<&str> = x.iter().map(String::as_str).collect();
            let ys: Vec<&str> = y.iter().map(String::as_str).collect();
            let (shape, v) =
                zip_broadcast((&a.shape, &xs), (&b.shape, &ys), |p, q| format!("{p}{q}"))?;
            one(Tensor {
                shape,
                data: Data::Str(v),
            })
        })
    });
    reg.add(&["RegexFullMatch"], |_, a, _| {
        let pattern = a.required_s("pattern")?;
        let re = regex::Regex::new(&format!("^(?:{pattern})$"))
            .map_err(|e| KernelError::Attribute(format!("pattern {pattern:?}: {e}")))?;
        op(move |i| {
            let t = arg(i, 0)?;
            let v = strings(t, "RegexFullMatch")?;
            one(Tensor {
                shape: t.shape.clone(),
                data: Data::Bool(v.iter().map(|s| re.is_match(s)).collect()),
            })
        })
    });
    reg.add(&["StringSplit"], |_, a, _| {
        let delimiter = a.s("delimiter").filter(|d| !d.is_empty());
        let maxsplit = a.i("maxsplit");
        op(move |i| {
            let t = arg(i, 0)?;
            let v = strings(t, "StringSplit")?;
            let parts: Vec<Vec<String>> = v
                .iter()
                .map(|s| split(s, delimiter.as_deref(), maxsplit))
                .collect();
            let width = parts.iter().map(Vec::len).max().unwrap_or(0);
            let mut flat = Vec::with_capacity(parts.len() * width);
            for p in &parts {
                flat.extend(p.iter().cloned());
                flat.extend(std::iter::repeat_n(String::new(), width - p.len()));
            }
            let mut shape = t.shape.clone();
            shape.push(width);
            Ok(vec![
                Value::Tensor(Tensor {
                    shape,
                    data: Data::Str(flat),
                }),
                Value::Tensor(Tensor {
                    shape: t.shape.clone(),
                    data: Data::I64(parts.iter().map(|p| p.len() as i64).collect()),
                }),
            ])
        })
    });
    reg.add(&["StringNormalizer"], |_, a, _| {
        let action = a.s_or("case_change_action", "NONE");
        if !matches!(action.as_str(), "NONE" | "LOWER" | "UPPER") {
            return Err(KernelError::Attribute(format!(
                "case_change_action '{action}'"
            )));
        }
        let sensitive = a.i("is_case_sensitive").unwrap_or(0) != 0;
        let stops: Vec<String> = a.strings("stopwords").unwrap_or_default();
        op(move |i| {
            let t = arg(i, 0)?;
            let v = strings(t, "StringNormalizer")?;
            let case = |s: &str| match action.as_str() {
                "LOWER" => s.to_lowercase(),
                "UPPER" => s.to_uppercase(),
                _ => s.to_owned(),
            };
            let stop_set: HashSet<String> = if sensitive {
                stops.iter().cloned().collect()
            } else {
                stops.iter().map(|w| case(w)).collect()
            };
            let drop = |s: &str| -> String {
                s.split(' ')
                    .filter(|w| !stop_set.contains(*w))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            let out: Vec<String> = v
                .iter()
                .map(|s| {
                    let s = if sensitive && !stop_set.is_empty() {
                        drop(s)
                    } else {
                        s.clone()
                    };
                    let s = case(&s);
                    if !sensitive && !stop_set.is_empty() {
                        drop(&s)
                    } else {
                        s
                    }
                })
                .filter(|s| !s.is_empty())
                .collect();
            let out = if out.is_empty() {
                vec![String::new()]
            } else {
                out
            };
            let shape = if t.shape.len() == 2 {
                vec![1, out.len()]
            } else {
                vec![out.len()]
            };
            one(Tensor {
                shape,
                data: Data::Str(out),
            })
        })
    });
    reg.add(&["TfIdfVectorizer"], |_, a, _| {
        let tf = TfIdf::from_attrs(a)?;
        op(move |i| one(tf.run(arg(i, 0)?)?))
    });
}

/// Python's `str.split(sep, maxsplit)`: runs of whitespace without a
/// separator (leading and trailing ignored), exact pieces with one.
fn split(s: &str, sep: Option<&str>, maxsplit: Option<i64>) -> Vec<String> {
    let limit = maxsplit.filter(|&m| m >= 0).map(|m| m as usize);
    match sep {
        Some(d) => match limit {
            Some(m) => s.splitn(m + 1, d).map(str::to_owned).collect(),
            None => s.split(d).map(str::to_owned).collect(),
        },
        None => {
            let mut out = Vec::new();
            let mut rest = s.trim_start();
            while !rest.is_empty() {
                if limit.is_some_and(|m| out.len() == m) {
                    out.push(rest.trim_end().to_owned());
                    break;
                }
                let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                out.push(rest[..end].to_owned());
                rest = rest[end..].trim_start();
            }
            out
        }
    }
}

struct TfIdf {
    mode: String,
    min: usize,
    max: usize,
    skip: usize,
    /// Each pool n-gram (items as text) to its output column.
    grams: HashMap<Vec<String>, usize>,
    prefixes: HashSet<Vec<String>>,
    size: usize,
    weights: Vec<f32>,
}

impl TfIdf {
    fn from_attrs(a: &crate::ml::Attrs) -> Result<TfIdf, KernelError> {
        let mode = a.s_or("mode", "TF");
        let min = a.required_i("min_gram_length")?.max(1) as usize;
        let max = a.required_i("max_gram_length")?.max(1) as usize;
        let skip = a.i("max_skip_count").unwrap_or(0).max(0) as usize;
        let counts: Vec<usize> = a.counts("ngram_counts");
        let indexes: Vec<usize> = a.counts("ngram_indexes");
        let pool: Vec<String> = match a.ints("pool_int64s").filter(|v| !v.is_empty()) {
            Some(v) => v.iter().map(|x| x.to_string()).collect(),
            None => a.strings("pool_strings").unwrap_or_default(),
        };
        let size = indexes.iter().max().map_or(0, |m| m + 1);
        let mut grams = HashMap::new();
        let mut prefixes = HashSet::new();
        let mut id = 0usize;
        for (k, &start) in counts.iter().enumerate() {
            let n = k + 1;
            let end = counts
                .get(k + 1)
                .copied()
                .unwrap_or(pool.len())
                .min(pool.len());
            let items = end.saturating_sub(start);
            for g in 0..items / n {
                let gram: Vec<String> = pool[start + g * n..start + (g + 1) * n].to_vec();
                if (min..=max).contains(&n) {
                    for p in 1..=n {
                        prefixes.insert(gram[..p].to_vec());
                    }
                    let col = *indexes.get(id).ok_or_else(|| {
                        KernelError::Attribute("ngram_indexes is shorter than the pool".to_owned())
                    })?;
                    grams.insert(gram, col);
                }
                id += 1;
            }
        }
        Ok(TfIdf {
            mode,
            min,
            max,
            skip,
            grams,
            prefixes,
            size,
            weights: a.floats("weights").unwrap_or_default(),
        })
    }

    fn run(&self, x: &Tensor) -> Result<Tensor, KernelError> {
        let items: Vec<String> = match &x.data {
            Data::Str(v) => v.clone(),
            d => d
                .to_i64()
                .ok_or_else(|| {
                    KernelError::Type("TfIdfVectorizer takes strings or integers".to_owned())
                })?
                .iter()
                .map(|v| v.to_string())
                .collect(),
        };
        let (rows, cols, shape) = match x.shape.len() {
            0 => (1, 1, vec![self.size]),
            1 => (1, x.shape[0], vec![self.size]),
            2 => (x.shape[0], x.shape[1], vec![x.shape[0], self.size]),
            _ => {
                return Err(KernelError::Shape(format!(
                    "TfIdfVectorizer input {:?}: [C] or [B, C] expected",
                    x.shape
                )));
            }
        };
        let mut freq = vec![0f64; rows * self.size];
        for r in 0..rows {
            let row = &items[r * cols..(r + 1) * cols];
            let mut start_size = self.min;
            for distance in 1..=self.skip + 1 {
                for s in 0..cols {
                    if s + distance * (start_size - 1) >= cols {
                        break;
                    }
                    let mut gram: Vec<String> = Vec::new();
                    let mut at = s;
                    while gram.len() < self.max && at < cols {
                        gram.push(row[at].clone());
                        if !self.prefixes.contains(&gram) {
                            break;
                        }
                        if gram.len() >= start_size
                            && let Some(&col) = self.grams.get(&gram)
                        {
                            freq[r * self.size + col] += 1.0;
                        }
                        at += distance;
                    }
                }
                if start_size == 1 {
                    start_size = 2;
                    if start_size > self.max {
                        break;
                    }
                }
            }
        }
        let w = &self.weights;
        let v: Vec<f64> = freq
            .iter()
            .enumerate()
            .map(|(p, &f)| {
                let col = p % self.size.max(1);
                match self.mode.as_str() {
                    "IDF" => {
                        if f > 0.0 {
                            w.get(col).map_or(1.0, |&x| x as f64)
                        } else {
                            0.0
                        }
                    }
                    "TFIDF" => w.get(col).map_or(f, |&x| x as f64 * f),
                    _ => f,
                }
            })
            .collect();
        Ok(crate::ml::num::tensor_f64(
            shape,
            crate::value::DType::F32,
            v,
        ))
    }
}
