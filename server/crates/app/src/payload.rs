//! Reading payloads from outside (MQTT messages): a JSON array of numbers
//! in the sensor's shape, row-major (nested arrays are flattened), or
//! `{"t": seconds, "x": [...]}` with the producer's own timestamp.

use serde_json::Value;

/// The values of a payload and its timestamp, if it carries one; the
/// error says what was expected. The count is checked against the sensor
/// by [`crate::check_reading`].
pub fn parse_payload(bytes: &[u8]) -> Result<(Vec<f32>, Option<f64>), String> {
    let value: Value = serde_json::from_slice(bytes).map_err(|error| {
        format!(
            "expected JSON (an array of numbers or {{\"t\": ..., \"x\": [...]}}), found {}: {error}",
            preview(bytes)
        )
    })?;
    let (x, t) = match value {
        Value::Object(mut object) => {
            let t = match object.remove("t") {
                None | Some(Value::Null) => None,
                Some(Value::Number(n)) => n.as_f64(),
                Some(other) => return Err(format!("expected \"t\" in seconds, found {other}")),
            };
            let x = object
                .remove("x")
                .ok_or_else(|| "expected the reading under \"x\", found no \"x\"".to_string())?;
            (x, t)
        }
        other => (other, None),
    };
    let mut values = Vec::new();
    flatten(&x, &mut values, 0)?;
    Ok((values, t))
}

/// Arrays nest at most this deep (a tensor of rank 32 is plenty).
const MAX_DEPTH: usize = 32;

fn flatten(value: &Value, out: &mut Vec<f32>, depth: usize) -> Result<(), String> {
    match value {
        Value::Number(n) => {
            out.push(n.as_f64().unwrap_or(f64::NAN) as f32);
            Ok(())
        }
        Value::Array(items) if depth < MAX_DEPTH => items
            .iter()
            .try_for_each(|item| flatten(item, out, depth + 1)),
        Value::Array(_) => Err(format!("expected arrays nested at most {MAX_DEPTH} deep")),
        other => Err(format!(
            "expected numbers, found {} at value {}",
            short(other),
            out.len()
        )),
    }
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 40 {
        format!("{}...", text.chars().take(40).collect::<String>())
    } else {
        text
    }
}

fn preview(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(40)]);
    let more = if bytes.len() > 40 { "..." } else { "" };
    format!("{:?}{more}", text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_nested_arrays_and_timestamped_objects() {
        assert_eq!(
            parse_payload(b"[1, 2.5, -3]").unwrap(),
            (vec![1.0, 2.5, -3.0], None)
        );
        assert_eq!(
            parse_payload(b"[[1, 2], [3, 4]]").unwrap().0,
            vec![1.0, 2.0, 3.0, 4.0]
        );
        assert_eq!(
            parse_payload(br#"{"t": 12.5, "x": [5.1, 3.5, 1.4, 0.2]}"#).unwrap(),
            (vec![5.1, 3.5, 1.4, 0.2], Some(12.5))
        );
        assert_eq!(parse_payload(b"7").unwrap().0, vec![7.0]);
    }

    #[test]
    fn bad_payloads_say_what_was_expected() {
        let error = parse_payload(b"hello").unwrap_err();
        assert!(error.starts_with("expected JSON"), "{error}");
        let error = parse_payload(b"[1, NaN]").unwrap_err();
        assert!(error.starts_with("expected JSON"), "{error}");
        assert_eq!(
            parse_payload(b"[1, null]").unwrap_err(),
            "expected numbers, found null at value 1"
        );
        assert_eq!(
            parse_payload(br#"{"t": "now", "x": [1]}"#).unwrap_err(),
            "expected \"t\" in seconds, found \"now\""
        );
        assert!(
            parse_payload(br#"{"y": [1]}"#)
                .unwrap_err()
                .contains("\"x\"")
        );
        let deep = format!("{}1{}", "[".repeat(100), "]".repeat(100));
        assert!(parse_payload(deep.as_bytes()).is_err());
        // Too big for f32: read as infinity, which the sensor check refuses.
        assert_eq!(parse_payload(b"[1e39]").unwrap().0, vec![f32::INFINITY]);
    }
}
