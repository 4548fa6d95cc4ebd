//! How deeply a JSON text nests, found without parsing it.

/// The deepest nesting of arrays and objects in `text`, counting brackets
/// outside strings. It is a bound checked before parsing, so a client
/// cannot make the server recurse deeply; malformed JSON is left for the
/// parser to refuse.
pub fn json_depth(text: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let (mut in_string, mut escaped) = (false, false);
    for byte in text.bytes() {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

#[cfg(test)]
mod tests {
    use super::json_depth;

    #[test]
    fn counts_brackets_outside_strings() {
        assert_eq!(json_depth(r#"2["e",1]"#), 1);
        assert_eq!(json_depth(r#"2["e",{"a":[[{}]]}]"#), 5);
        assert_eq!(json_depth(r#"2["[[[{{{", "\"[[["]"#), 1);
        assert_eq!(json_depth("0"), 0);
        assert_eq!(
            json_depth(&format!("2{}{}", "[".repeat(500), "]".repeat(500))),
            500
        );
    }
}
