//! What an on-demand build of the report may ask for, read from the JSON body of
//! `POST /admin/refresh` (`dev`) or `POST /api/refresh` (Azure): an optional end of the
//! window, whether to verify, and whether to build a nightly report that is built already.
//! Every value is checked here, so nothing unchecked reaches the window arithmetic.
//!
//! The fuzzer reads this file on its own (`fuzz/fuzz_targets/admin_refresh.rs`): it uses
//! only `chrono`, `serde_json` and `thiserror`.

use chrono::{DateTime, Datelike, Utc};

/// The years a report window may end in. A window is 12 months back from its end, and
/// both ends must be plain calendar dates of the Gregorian calendar that every engine
/// reads the same way.
pub const AS_OF_YEARS: std::ops::RangeInclusive<i32> = 1971..=2199;

/// An on-demand build, as asked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RefreshRequest {
    /// The end of the window; `None`: the nightly window due now.
    pub as_of: Option<DateTime<Utc>>,
    /// Recompute with the warehouse's SQL and publish only if every figure agrees.
    pub verify: bool,
    /// Build the nightly report even when it is built already (Azure's timer skips it
    /// then; `dev` always builds what it is asked).
    pub force: bool,
}

/// Why a body was refused: `Malformed` is a 400, the rest a 422.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("malformed JSON")]
    Malformed(#[source] serde_json::Error),
    #[error(
        r#"the body must be a JSON object, e.g. {{"as_of": "2026-12-03T00:00:00Z"}}, or empty"#
    )]
    NotAnObject,
    #[error("as_of must be an RFC 3339 string")]
    AsOfNotAString,
    #[error("as_of {0:?} is not an RFC 3339 timestamp")]
    AsOfNotATimestamp(String),
    #[error("as_of {0} is outside the years {first} to {last}", first = AS_OF_YEARS.start(), last = AS_OF_YEARS.end())]
    AsOfOutOfRange(String),
    #[error("{0} must be true or false")]
    NotABoolean(&'static str),
}

impl RefreshRequest {
    /// Reads a request body; an empty (or all-blank) body asks for the defaults.
    pub fn parse(body: &[u8]) -> Result<RefreshRequest, RequestError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(RefreshRequest::default());
        }
        let value: serde_json::Value =
            serde_json::from_slice(body).map_err(RequestError::Malformed)?;
        let object = value.as_object().ok_or(RequestError::NotAnObject)?;
        Ok(RefreshRequest {
            as_of: as_of(object.get("as_of"))?,
            verify: flag(object.get("verify"), "verify")?,
            force: flag(object.get("force"), "force")?,
        })
    }
}

fn as_of(value: Option<&serde_json::Value>) -> Result<Option<DateTime<Utc>>, RequestError> {
    let text = match value {
        None | Some(serde_json::Value::Null) => return Ok(None),
        Some(serde_json::Value::String(text)) => text.trim(),
        Some(_) => return Err(RequestError::AsOfNotAString),
    };
    let at = parse_instant(text).ok_or_else(|| RequestError::AsOfNotATimestamp(text.into()))?;
    if !AS_OF_YEARS.contains(&at.year()) {
        return Err(RequestError::AsOfOutOfRange(text.into()));
    }
    Ok(Some(at))
}

/// RFC 3339 with any offset, or without one (read as UTC), as order dates are read.
fn parse_instant(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|format| chrono::NaiveDateTime::parse_from_str(text, format).ok())
        .map(|naive| naive.and_utc())
}

fn flag(value: Option<&serde_json::Value>, name: &'static str) -> Result<bool, RequestError> {
    match value {
        None | Some(serde_json::Value::Null) => Ok(false),
        Some(serde_json::Value::Bool(flag)) => Ok(*flag),
        Some(_) => Err(RequestError::NotABoolean(name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<RefreshRequest, RequestError> {
        RefreshRequest::parse(body.as_bytes())
    }

    #[test]
    fn every_field_is_optional_and_checked() {
        assert_eq!(parse("").unwrap(), RefreshRequest::default());
        assert_eq!(parse(" {} ").unwrap(), RefreshRequest::default());
        let asked = parse(r#"{"as_of":"2026-12-03T00:00:00-05:00","verify":true,"force":true}"#);
        assert_eq!(
            asked.unwrap(),
            RefreshRequest {
                as_of: Some("2026-12-03T05:00:00Z".parse().unwrap()),
                verify: true,
                force: true,
            }
        );
        assert!(matches!(parse("{"), Err(RequestError::Malformed(_))));
        assert!(matches!(parse("[]"), Err(RequestError::NotAnObject)));
        assert!(matches!(
            parse(r#"{"as_of":7}"#),
            Err(RequestError::AsOfNotAString)
        ));
        assert!(matches!(
            parse(r#"{"verify":"yes"}"#),
            Err(RequestError::NotABoolean("verify"))
        ));
        assert!(matches!(
            parse(r#"{"force":1}"#),
            Err(RequestError::NotABoolean("force"))
        ));
        assert!(matches!(
            parse(r#"{"as_of":"tomorrow"}"#),
            Err(RequestError::AsOfNotATimestamp(_))
        ));
    }

    /// Far years are refused before any window is worked out from them (the year
    /// -262143 once reached a panic in the window arithmetic).
    #[test]
    fn far_years_are_refused() {
        for far in [
            "-262143-01-01T00:00:00",
            "0001-01-01T00:00:00Z",
            "1970-12-31T23:59:59Z",
            "2200-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
        ] {
            let said = parse(&format!(r#"{{"as_of":"{far}"}}"#)).unwrap_err();
            assert!(
                matches!(
                    said,
                    RequestError::AsOfOutOfRange(_) | RequestError::AsOfNotATimestamp(_)
                ),
                "{far}: {said:?}"
            );
        }
        assert!(parse(r#"{"as_of":"1971-01-01T00:00:00Z"}"#).is_ok());
        assert!(parse(r#"{"as_of":"2199-12-31T23:59:59Z"}"#).is_ok());
    }
}
