//! Input checks shared by every operation: reporting every bad field at once, and values
//! that pass a length check but name nothing.
use super::error::{ApiError, ApiResult, FieldError};
use validator::ValidationError;

/// Rejects values that are only whitespace (they pass a length check but name nothing).
pub fn not_blank(s: &str) -> Result<(), ValidationError> {
    if s.trim().is_empty() {
        let mut e = ValidationError::new("blank");
        e.message = Some("must not be blank".into());
        Err(e)
    } else {
        Ok(())
    }
}

/// Collects the field errors of several checks, to report them all at once.
#[derive(Default)]
pub struct Problems {
    errors: Vec<FieldError>,
    other: Option<ApiError>,
}

impl Problems {
    /// The value if the check passed, else a placeholder while the error is kept.
    pub fn take<T: Default>(&mut self, r: ApiResult<T>) -> T {
        match r {
            Ok(v) => v,
            Err(ApiError::Validation(e)) => {
                self.errors.extend(e);
                T::default()
            }
            Err(e) => {
                self.other.get_or_insert(e);
                T::default()
            }
        }
    }

    pub fn push(&mut self, e: FieldError) {
        self.errors.push(e);
    }

    pub fn finish(self) -> ApiResult<()> {
        match (self.other, self.errors.is_empty()) {
            (Some(e), _) => Err(e),
            (None, false) => Err(ApiError::Validation(self.errors)),
            (None, true) => Ok(()),
        }
    }
}

/// An IANA time zone (e.g. `America/Sao_Paulo`), refused naming `field`.
pub fn parse_tz(field: &str, s: &str) -> ApiResult<chrono_tz::Tz> {
    s.parse::<chrono_tz::Tz>().map_err(|_| {
        ApiError::validation(
            field,
            "invalid",
            format!("`{s}` is not an IANA time zone (e.g. America/Sao_Paulo)"),
        )
    })
}

/// Optimistic versions: checks the `If-Match` a client sent (the ETag of the version it
/// edited) against the current version (`*` matches any).
pub fn check_if_match(header: Option<&str>, current: i32, required: bool) -> ApiResult<()> {
    let Some(h) = header else {
        return if required {
            Err(ApiError::IfMatchRequired)
        } else {
            Ok(())
        };
    };
    let h = h.trim();
    if h == "*" {
        return Ok(());
    }
    let matches = h
        .split(',')
        .map(|t| t.trim().trim_start_matches("W/").trim_matches('"'))
        .any(|t| t.parse::<i32>().ok() == Some(current));
    if matches {
        Ok(())
    } else {
        Err(ApiError::VersionMismatch {
            sent: h.to_string(),
            current,
        })
    }
}
