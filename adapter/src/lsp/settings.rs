//! User settings, from `initializationOptions` and `workspace/configuration` (section `ember`).

use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Time with the line on the stack.
    Total,
    /// Time with the line innermost.
    Self_,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Units {
    /// Seconds or milliseconds, whichever reads better.
    Auto,
    Seconds,
    Milliseconds,
    Samples,
    /// The share alone.
    Percent,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Lines and functions under this share (percent) get no hint or lens.
    pub threshold: f64,
    pub metric: Metric,
    pub units: Units,
    /// Hint-severity diagnostics on the hottest lines, for clients without hints or lenses.
    pub diagnostics: bool,
    /// How many lines get a diagnostic.
    pub diagnostics_count: usize,
    /// Inline timings (hints, lenses, diagnostics) on or off (`ember.toggleInline`).
    pub inline: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { threshold: 0.5, metric: Metric::Total, units: Units::Auto, diagnostics: false, diagnostics_count: 10, inline: true }
    }
}

impl Settings {
    /// Applies the keys present in `v` (either `{ "ember": {...} }` or the object itself).
    /// Bad values are reported and leave the previous value in place.
    pub fn apply(&mut self, v: &Value) -> Result<(), String> {
        let v = v.get("ember").unwrap_or(v);
        let Some(obj) = v.as_object() else {
            return if v.is_null() { Ok(()) } else { Err(format!("ember settings must be an object, got {v}")) };
        };
        let mut errors = Vec::new();
        for (key, val) in obj {
            let bad = |want: &str| format!("ember setting `{key}`: expected {want}, got {val}");
            match key.as_str() {
                "threshold" => match val.as_f64() {
                    Some(t) if (0.0..=100.0).contains(&t) => self.threshold = t,
                    _ => errors.push(bad("a percentage between 0 and 100")),
                },
                "metric" | "show" => match val.as_str() {
                    Some("total") => self.metric = Metric::Total,
                    Some("self") => self.metric = Metric::Self_,
                    _ => errors.push(bad("\"total\" or \"self\"")),
                },
                "units" => match val.as_str() {
                    Some("auto") => self.units = Units::Auto,
                    Some("s" | "seconds") => self.units = Units::Seconds,
                    Some("ms" | "milliseconds") => self.units = Units::Milliseconds,
                    Some("samples") => self.units = Units::Samples,
                    Some("percent") => self.units = Units::Percent,
                    _ => errors.push(bad("\"auto\", \"s\", \"ms\", \"samples\" or \"percent\"")),
                },
                "diagnostics" => match val.as_bool() {
                    Some(b) => self.diagnostics = b,
                    None => errors.push(bad("true or false")),
                },
                "diagnosticsCount" => match val.as_u64() {
                    Some(n) => self.diagnostics_count = n as usize,
                    None => errors.push(bad("a count")),
                },
                "inline" => match val.as_bool() {
                    Some(b) => self.inline = b,
                    None => errors.push(bad("true or false")),
                },
                _ => {} // other tools' keys may share the object
            }
        }
        if errors.is_empty() { Ok(()) } else { Err(errors.join("; ")) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn applies_nested_or_flat_and_keeps_old_values_on_errors() {
        let mut s = Settings::default();
        s.apply(&json!({"ember": {"threshold": 2, "metric": "self", "units": "ms"}})).unwrap();
        assert_eq!((s.threshold, s.metric, s.units), (2.0, Metric::Self_, Units::Milliseconds));
        let err = s.apply(&json!({"threshold": "lots", "diagnostics": true})).unwrap_err();
        assert!(err.contains("threshold"), "{err}");
        assert_eq!(s.threshold, 2.0);
        assert!(s.diagnostics);
        assert!(s.apply(&json!(null)).is_ok());
        assert!(s.apply(&json!([1])).is_err());
    }
}
