//! Argument checks of the plugin's methods: the JSON a page sent, as the typed values the core
//! takes, or an [`ArgError`] naming the field. The same rules as `plugin/src/args.ts`: the
//! JavaScript layer checks first for a quick message, this layer checks again because a page can
//! call the bridge directly.

use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::boot::{DelayCondition, BUILTIN};
use crate::config::Consent;

/// A call refused before it reached the core; `field` names the argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgError {
    pub field: String,
    pub reason: String,
}

impl std::fmt::Display for ArgError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid argument {}: {}", self.field, self.reason)
    }
}

fn refuse<T>(field: &str, reason: &str) -> Result<T, ArgError> {
    Err(ArgError {
        field: field.into(),
        reason: reason.into(),
    })
}

/// The most manifest entries a call may pass (a bundle has at most as many files).
pub const MAX_MANIFEST_ENTRIES: usize = 100_000;

/// The options object of a call. Absent or `null` arguments are an empty object.
pub struct Args(Map<String, Value>);

impl Args {
    pub fn parse(json: &str) -> Result<Args, ArgError> {
        match serde_json::from_str::<Value>(if json.trim().is_empty() { "{}" } else { json }) {
            Ok(Value::Object(o)) => Ok(Args(o)),
            Ok(Value::Null) => Ok(Args(Map::new())),
            Ok(_) => refuse("options", "must be an object"),
            Err(_) => refuse("options", "is not JSON"),
        }
    }

    /// A field that is absent or `null` is not given.
    fn get(&self, field: &str) -> Option<&Value> {
        self.0.get(field).filter(|v| !v.is_null())
    }

    /// A bundle id: a content id (lowercase SHA-256 hex, 16 to 64 digits) or `builtin`.
    pub fn bundle_id(&self, field: &str) -> Result<String, ArgError> {
        match self.get(field).and_then(Value::as_str) {
            Some(id) if is_bundle_id(id) => Ok(id.into()),
            _ if field == "bundleId" => {
                refuse(field, "must be the id of the bundle that served the page")
            }
            _ => refuse(
                field,
                "must be a bundle id from list() or download() (16 hex digits) or \"builtin\"",
            ),
        }
    }

    /// A bundle id that is not the built-in bundle; `why` says what to use instead.
    pub fn installed_bundle_id(&self, field: &str, why: &str) -> Result<String, ArgError> {
        let id = self.bundle_id(field)?;
        if id == BUILTIN {
            return refuse(field, why);
        }
        Ok(id)
    }

    /// A channel name by the release format's rule (docs/FORMAT.md).
    pub fn channel(&self, field: &str) -> Result<String, ArgError> {
        match self.get(field).and_then(Value::as_str) {
            Some(c) if is_channel(c) => Ok(c.into()),
            _ => refuse(
                field,
                "must be 1-64 characters of a-z, 0-9, \".\", \"_\", \"-\", starting with a letter or digit",
            ),
        }
    }

    pub fn optional_channel(&self, field: &str) -> Result<Option<String>, ArgError> {
        match self.get(field) {
            None => Ok(None),
            Some(_) => self.channel(field).map(Some),
        }
    }

    pub fn boolean(&self, field: &str) -> Result<bool, ArgError> {
        match self.get(field) {
            Some(Value::Bool(b)) => Ok(*b),
            _ => refuse(field, "must be a boolean"),
        }
    }

    pub fn optional_boolean(&self, field: &str, default: bool) -> Result<bool, ArgError> {
        match self.get(field) {
            None => Ok(default),
            Some(_) => self.boolean(field),
        }
    }

    /// A string (`allow_empty`: `""` too, which clears what it sets).
    pub fn text(&self, field: &str, allow_empty: bool) -> Result<String, ArgError> {
        match self.get(field) {
            Some(Value::String(s)) if allow_empty || !s.is_empty() => Ok(s.clone()),
            _ if allow_empty => refuse(field, "must be a string"),
            _ => refuse(field, "must be a non-empty string"),
        }
    }

    /// Capgo's manifest entries (`{file_name, file_hash, download_url}`, each a string or
    /// `null`), when given: at most [`MAX_MANIFEST_ENTRIES`].
    pub fn manifest_entries(&self, field: &str) -> Result<Option<Vec<Value>>, ArgError> {
        const SHAPE: &str =
            "must be a list of {file_name, file_hash, download_url} (strings or null)";
        let Some(v) = self.get(field) else {
            return Ok(None);
        };
        let Some(list) = v.as_array() else {
            return refuse(field, SHAPE);
        };
        if list.len() > MAX_MANIFEST_ENTRIES {
            return refuse(
                field,
                &format!("has more than {MAX_MANIFEST_ENTRIES} entries"),
            );
        }
        let mut out = Vec::with_capacity(list.len());
        for item in list {
            let Some(o) = item.as_object() else {
                return refuse(field, SHAPE);
            };
            let mut entry = Map::new();
            for key in ["file_name", "file_hash", "download_url"] {
                match o.get(key) {
                    None | Some(Value::Null) => entry.insert(key.into(), Value::Null),
                    Some(Value::String(s)) => entry.insert(key.into(), s.clone().into()),
                    Some(_) => return refuse(field, SHAPE),
                };
            }
            out.push(Value::Object(entry));
        }
        Ok(Some(out))
    }

    /// A non-empty string when given.
    pub fn optional_text(&self, field: &str) -> Result<Option<String>, ArgError> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
            Some(_) => refuse(field, "must be a non-empty string when given"),
        }
    }

    /// `setConsent`'s level: `level` (`off`, `anonymous`, `full`), or the yes/no `telemetry` of
    /// earlier versions (`true` = `full`, `false` = `off`); both given must agree.
    pub fn consent(&self) -> Result<Consent, ArgError> {
        let level = match self.get("level") {
            None => None,
            Some(Value::String(s)) => match Consent::parse(s) {
                Some(c) => Some(c),
                None => return refuse("level", "must be \"off\", \"anonymous\" or \"full\""),
            },
            Some(_) => return refuse("level", "must be \"off\", \"anonymous\" or \"full\""),
        };
        let legacy = match self.get("telemetry") {
            None => None,
            Some(_) => Some(if self.boolean("telemetry")? {
                Consent::Full
            } else {
                Consent::Off
            }),
        };
        match (level, legacy) {
            (Some(l), Some(t)) if l != t => refuse(
                "telemetry",
                "disagrees with level: pass level alone (telemetry is the older yes/no form)",
            ),
            (Some(l), _) | (None, Some(l)) => Ok(l),
            (None, None) => refuse("level", "is required: \"off\", \"anonymous\" or \"full\""),
        }
    }

    /// A field Capgo has and Liveship refuses, with the reason.
    pub fn refused(&self, field: &str, reason: &str) -> Result<(), ArgError> {
        match self.get(field) {
            None => Ok(()),
            Some(_) => refuse(field, reason),
        }
    }

    /// `setMultiDelay`'s `delayConditions`, Capgo's shape `[{kind, value?}]`, as the core's
    /// conditions: `background` a value in milliseconds (default 0), `date` an RFC 3339 date-time
    /// (to Unix seconds, rounded up so it never applies early), `nativeVersion` the version the
    /// native app must reach, `kill` no value. The core decides when each is met.
    pub fn delay_conditions(&self) -> Result<Vec<DelayCondition>, ArgError> {
        const FIELD: &str = "delayConditions";
        let list = match self.get(FIELD) {
            Some(Value::Array(list)) if !list.is_empty() => list,
            _ => {
                return refuse(
                    FIELD,
                    "must be a non-empty array (use cancelDelay() to clear)",
                )
            }
        };
        list.iter()
            .enumerate()
            .map(|(i, c)| {
                let Some(c) = c.as_object() else {
                    return refuse(&format!("{FIELD}[{i}]"), "must be an object");
                };
                let field = format!("{FIELD}[{i}].value");
                let value = match c.get("value") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(s)) => Some(s.as_str()),
                    Some(_) => return refuse(&field, "must be a string"),
                };
                match c.get("kind").and_then(Value::as_str) {
                    Some("background") => match value {
                        None => Ok(DelayCondition::Background { ms: 0 }),
                        Some(v) => match v.parse::<u64>() {
                            Ok(ms) if v.len() <= 12 && v.bytes().all(|b| b.is_ascii_digit()) => {
                                Ok(DelayCondition::Background { ms })
                            }
                            _ => refuse(&field, "must be a whole number of milliseconds"),
                        },
                    },
                    Some("kill") => Ok(DelayCondition::Kill),
                    Some("date") => match value.and_then(parse_date) {
                        Some(not_before) => Ok(DelayCondition::Date { not_before }),
                        None => refuse(&field, "must be an ISO 8601 date-time"),
                    },
                    Some("nativeVersion") => match value {
                        Some(v) if is_native_version(v) => {
                            Ok(DelayCondition::NativeVersion { at_least: v.into() })
                        }
                        _ => refuse(&field, "must be a native app version such as \"2.1.0\""),
                    },
                    _ => refuse(
                        &format!("{FIELD}[{i}].kind"),
                        "must be \"background\", \"kill\", \"date\" or \"nativeVersion\"",
                    ),
                }
            })
            .collect()
    }
}

fn is_bundle_id(id: &str) -> bool {
    id == BUILTIN
        || ((16..=64).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
}

fn is_channel(c: &str) -> bool {
    let b = c.as_bytes();
    (1..=64).contains(&b.len())
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter()
            .all(|&x| x.is_ascii_lowercase() || x.is_ascii_digit() || b"._-".contains(&x))
}

/// A native app version (`versionName`, `CFBundleShortVersionString`): `2`, `1.10.0-beta`.
fn is_native_version(v: &str) -> bool {
    let b = v.as_bytes();
    (1..=64).contains(&b.len())
        && b[0].is_ascii_alphanumeric()
        && b.iter()
            .all(|&x| x.is_ascii_alphanumeric() || b".+-".contains(&x))
}

/// An RFC 3339 date-time (what JavaScript's `Date.toISOString()` writes) as Unix seconds,
/// rounded up; a time before 1970 is 0.
fn parse_date(text: &str) -> Option<u64> {
    let t = OffsetDateTime::parse(text, &Rfc3339).ok()?;
    let ns = t.unix_timestamp_nanos();
    if ns <= 0 {
        return Some(0);
    }
    Some(((ns + 999_999_999) / 1_000_000_000) as u64)
}

/// Unix seconds as `2026-01-02T03:04:05Z`.
pub fn iso8601(seconds: u64) -> String {
    OffsetDateTime::from_unix_timestamp(seconds.min(253_402_300_799) as i64)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(json: &str) -> Args {
        Args::parse(json).unwrap()
    }

    fn field(r: Result<impl std::fmt::Debug, ArgError>) -> String {
        r.unwrap_err().field
    }

    #[test]
    fn options_must_be_an_object_and_null_is_empty() {
        assert_eq!(field(Args::parse("[1]").map(|_| ())), "options");
        assert_eq!(field(Args::parse("{").map(|_| ())), "options");
        assert!(args("null").get("id").is_none());
        assert!(args("").get("id").is_none());
    }

    #[test]
    fn bundle_ids_are_content_ids_or_builtin() {
        let ok = "0123456789abcdef";
        assert_eq!(
            args(&format!(r#"{{"id":"{ok}"}}"#))
                .bundle_id("id")
                .unwrap(),
            ok
        );
        assert_eq!(
            args(r#"{"id":"builtin"}"#).bundle_id("id").unwrap(),
            "builtin"
        );
        for bad in [
            r#"{}"#,
            r#"{"id":1}"#,
            r#"{"id":"0123456789ABCDEF"}"#,
            r#"{"id":"0123456789abcde"}"#,
            r#"{"id":"../../etc/passwd"}"#,
        ] {
            assert_eq!(field(args(bad).bundle_id("id")), "id", "{bad}");
        }
        let e = args(r#"{"id":"builtin"}"#)
            .installed_bundle_id("id", "not this one")
            .unwrap_err();
        assert_eq!(e.to_string(), "invalid argument id: not this one");
    }

    #[test]
    fn channels_follow_the_release_format_rule() {
        assert_eq!(
            args(r#"{"c":"beta-2.x_y"}"#).channel("c").unwrap(),
            "beta-2.x_y"
        );
        for bad in ["", "Beta", "-beta", "a/b", &"a".repeat(65)] {
            let json = serde_json::json!({ "c": bad }).to_string();
            assert_eq!(field(args(&json).channel("c")), "c", "{bad}");
        }
        assert_eq!(args("{}").optional_channel("c").unwrap(), None);
    }

    #[test]
    fn booleans_and_texts_are_typed() {
        assert!(args(r#"{"b":true}"#).boolean("b").unwrap());
        assert_eq!(field(args(r#"{"b":"true"}"#).boolean("b")), "b");
        assert!(!args("{}").optional_boolean("b", false).unwrap());
        assert_eq!(field(args(r#"{"t":""}"#).optional_text("t")), "t");
        assert_eq!(args(r#"{"t":null}"#).optional_text("t").unwrap(), None);
    }

    #[test]
    fn delay_conditions_become_the_cores() {
        let a = args(
            r#"{"delayConditions":[
                {"kind":"background","value":"300000"},{"kind":"background"},{"kind":"kill"},
                {"kind":"date","value":"2030-01-01T00:00:00.001Z"},
                {"kind":"date","value":"2030-01-01T02:00:00+02:00"},
                {"kind":"nativeVersion","value":"2.1.0-beta"}]}"#,
        );
        assert_eq!(
            a.delay_conditions().unwrap(),
            [
                DelayCondition::Background { ms: 300_000 },
                DelayCondition::Background { ms: 0 },
                DelayCondition::Kill,
                // Rounded up: a condition never applies early.
                DelayCondition::Date {
                    not_before: 1_893_456_001
                },
                DelayCondition::Date {
                    not_before: 1_893_456_000
                },
                DelayCondition::NativeVersion {
                    at_least: "2.1.0-beta".into()
                },
            ]
        );
    }

    #[test]
    fn delay_conditions_are_refused_naming_the_field() {
        for (json, want) in [
            (r#"{}"#, "delayConditions"),
            (r#"{"delayConditions":[]}"#, "delayConditions"),
            (r#"{"delayConditions":[1]}"#, "delayConditions[0]"),
            (
                r#"{"delayConditions":[{"kind":"soon"}]}"#,
                "delayConditions[0].kind",
            ),
            (
                r#"{"delayConditions":[{"kind":"kill"},{"kind":"background","value":"-1"}]}"#,
                "delayConditions[1].value",
            ),
            (
                r#"{"delayConditions":[{"kind":"background","value":5}]}"#,
                "delayConditions[0].value",
            ),
            (
                r#"{"delayConditions":[{"kind":"date","value":"tomorrow"}]}"#,
                "delayConditions[0].value",
            ),
            (
                r#"{"delayConditions":[{"kind":"date"}]}"#,
                "delayConditions[0].value",
            ),
            (
                r#"{"delayConditions":[{"kind":"nativeVersion","value":"../2"}]}"#,
                "delayConditions[0].value",
            ),
        ] {
            assert_eq!(field(args(json).delay_conditions()), want, "{json}");
        }
    }

    #[test]
    fn dates_print_as_iso8601_utc() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(1_893_456_000), "2030-01-01T00:00:00Z");
        assert_eq!(parse_date("1969-12-31T23:59:59Z"), Some(0));
    }
}
