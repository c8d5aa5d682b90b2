//! `ToSql`/`FromSql` for other crates' types, behind cargo features named as rusqlite's
//! (`serde_json`, `chrono`, `time`, `uuid`, `url`; all off by default). Users cannot
//! write these impls themselves (the orphan rule), so the driver carries them.
//!
//! Text formats follow rusqlite's, which SQLite's date and time functions read:
//! dates `YYYY-MM-DD`, times `HH:MM:SS.SSS`, date-times `YYYY-MM-DD HH:MM:SS.SSS`
//! (reading also accepts a `T` separator), with `+HH:MM` for an offset.

#[cfg(any(
    feature = "serde_json",
    feature = "chrono",
    feature = "time",
    feature = "url"
))]
use crate::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};

#[cfg(any(feature = "chrono", feature = "time", feature = "url"))]
fn other(e: impl std::error::Error + Send + Sync + 'static) -> FromSqlError {
    FromSqlError::Other(Box::new(e))
}

#[cfg(feature = "serde_json")]
mod json {
    use super::*;

    /// JSON text (`serde_json::to_string`).
    impl ToSql for serde_json::Value {
        fn to_sql(&self) -> crate::Result<ToSqlOutput<'_>> {
            let text = serde_json::to_string(self)
                .map_err(|e| crate::Error::ToSqlConversionFailure(Box::new(e)))?;
            Ok(ToSqlOutput::from(text))
        }
    }

    /// Text and blobs are parsed as JSON; integers and reals become numbers, NULL null.
    impl FromSql for serde_json::Value {
        fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
            match value {
                ValueRef::Text(b) | ValueRef::Blob(b) => {
                    serde_json::from_slice(b).map_err(|e| FromSqlError::Other(Box::new(e)))
                }
                ValueRef::Integer(i) => Ok(serde_json::Value::from(i)),
                ValueRef::Real(r) => Ok(serde_json::Number::from_f64(r)
                    .map_or(serde_json::Value::Null, serde_json::Value::Number)),
                ValueRef::Null => Ok(serde_json::Value::Null),
            }
        }
    }
}

#[cfg(feature = "chrono")]
mod chrono_impls {
    use super::*;
    use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Utc};

    impl ToSql for NaiveDate {
        fn to_sql(&self) -> crate::Result<ToSqlOutput<'_>> {
            Ok(ToSqlOutput::from(self.format("%F").to_string()))
        }
    }

    impl FromSql for NaiveDate {
        fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
            NaiveDate::parse_from_str(value.as_str()?, "%F").map_err(other)
        }
    }

    impl ToSql for NaiveTime {
        fn to_sql(&self) -> crate::Result<ToSqlOutput<'_>> {
            Ok(ToSqlOutput::from(self.format("%T%.f").to_string()))
        }
    }

    impl FromSql for NaiveTime {
        fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
            let s = value.as_str()?;
            let fmt = if s.len() == 5 { "%H:%M" } else { "%T%.f" };
            NaiveTime::parse_from_str(s, fmt).map_err(other)
        }
    }

    impl ToSql for NaiveDateTime {
        fn to_sql(&self) -> crate::Result<ToSqlOutput<'_>> {
            Ok(ToSqlOutput::from(self.format("%F %T%.f").to_string()))
        }
    }

    /// `YYYY-MM-DD HH:MM:SS[.f]` or with a `T`.
    impl FromSql for NaiveDateTime {
        fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
            let s = value.as_str()?;
            let fmt = if s.as_bytes().get(10) == Some(&b'T') {
                "%FT%T%.f"
            } else {
                "%F %T%.f"
            };
            NaiveDateTime::parse_from_str(s, fmt).map_err(other)
        }
    }

    impl ToSql for DateTime<Utc> {
        fn to_sql(&self) -> crate::Result<ToSqlOutput<'_>> {
            Ok(ToSqlOutput::from(self.format("%F %T%.f%:z").to_string()))
        }
    }

    impl ToSql for DateTime<FixedOffset> {
        fn to_sql(&self) -> crate::Result<ToSqlOutput<'_>> {
            Ok(ToSqlOutput::from(self.format("%F %T%.f%:z").to_string()))
        }
    }

    /// With an offset (`+HH:MM`, `Z`), or without one meaning UTC.
    impl FromSql for DateTime<FixedOffset> {
        fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
            let s = value.as_str()?;
            let t = if s.as_bytes().get(10) == Some(&b'T') {
                "T"
            } else {
                " "
            };
            for fmt in [format!("%F{t}%T%.f%:z"), format!("%F{t}%T%.f%#z")] {
                if let Ok(dt) = DateTime::parse_from_str(s, &fmt) {
                    return Ok(dt);
                }
            }
            if let Some(utc) = s.strip_suffix('Z')
                && let Ok(n) = NaiveDateTime::column_result(ValueRef::Text(utc.as_bytes()))
            {
                return Ok(n.and_utc().fixed_offset());
            }
            NaiveDateTime::column_result(value).map(|n| n.and_utc().fixed_offset())
        }
    }

    impl FromSql for DateTime<Utc> {
        fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
            DateTime::<FixedOffset>::column_result(value).map(|dt| dt.with_timezone(&Utc))
        }
    }
}

#[cfg(feature = "time")]
mod time_impls {
    use super::*;
    use time::format_description::{self, BorrowedFormatItem};
    use time::{Date, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

    const DATE: &str = "[year]-[month]-[day]";
    const TIME: &str = "[hour]:[minute]:[second].[subsecond]";
    const DATE_TIME: &str = "[year]-[month]-[day] [hour]:[minute]:[second].[subsecond]";
    const OFFSET_DATE_TIME: &str = "[year]-[month]-[day] [hour]:[minute]:[second].[subsecond][offset_hour sign:mandatory]:[offset_minute]";

    /// Times accepted when reading, most precise first.
    const TIMES: [&str; 3] = [TIME, "[hour]:[minute]:[second]", "[hour]:[minute]"];

    fn items(description: &str) -> Result<Vec<BorrowedFormatItem<'_>>, FromSqlError> {
        format_description::parse_borrowed::<1>(description).map_err(other)
    }

    fn to_text(
        description: &str,
        f: impl FnOnce(&[BorrowedFormatItem<'_>]) -> Result<String, time::error::Format>,
    ) -> crate::Result<ToSqlOutput<'static>> {
        let items = format_description::parse_borrowed::<1>(description)
            .map_err(|e| crate::Error::ToSqlConversionFailure(Box::new(e)))?;
        f(&items)
            .map(ToSqlOutput::from)
            .map_err(|e| crate::Error::ToSqlConversionFailure(Box::new(e)))
    }

    /// The first of `descriptions` that parses `s` with `parse`.
    fn parse_any<T>(
        s: &str,
        descriptions: impl IntoIterator<Item = String>,
        parse: impl Fn(&str, &[BorrowedFormatItem<'_>]) -> Result<T, time::error::Parse>,
    ) -> FromSqlResult<T> {
        let mut last = None;
        for d in descriptions {
            match parse(s, &items(&d)?) {
                Ok(v) => return Ok(v),
                Err(e) => last = Some(e),
            }
        }
        Err(last.map_or(FromSqlError::InvalidType, other))
    }

    /// `YYYY-MM-DD`, then `T` or a space, then a time of [`TIMES`].
    fn date_times() -> Vec<String> {
        let mut out = Vec::new();
        for sep in [" ", "T"] {
            for t in TIMES {
                out.push(format!("{DATE}{sep}{t}"));
            }
        }
        out
    }

    impl ToSql for Date {
        fn to_sql(&self) -> crate::Result<ToSqlOutput<'_>> {
            to_text(DATE, |i| self.format(i))
        }
    }

    impl FromSql for Date {
        fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
            parse_any(value.as_str()?, [DATE.to_owned()], |s, i| Date::parse(s, i))
        }
    }

    impl ToSql for Time {
        fn to_sql(&self) -> crate::Result<ToSqlOutput<'_>> {
            to_text(TIME, |i| self.format(i))
        }
    }

    impl FromSql for Time {
        fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
            parse_any(value.as_str()?, TIMES.map(str::to_owned), |s, i| {
                Time::parse(s, i)
            })
        }
    }

    impl ToSql for PrimitiveDateTime {
        fn to_sql(&self) -> crate::Result<ToSqlOutput<'_>> {
            to_text(DATE_TIME, |i| self.format(i))
        }
    }

    impl FromSql for PrimitiveDateTime {
        fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
            parse_any(value.as_str()?, date_times(), |s, i| {
                PrimitiveDateTime::parse(s, i)
            })
        }
    }

    impl ToSql for OffsetDateTime {
        fn to_sql(&self) -> crate::Result<ToSqlOutput<'_>> {
            to_text(OFFSET_DATE_TIME, |i| self.format(i))
        }
    }

    /// With an offset (`+HH:MM`, `Z`), or without one meaning UTC.
    impl FromSql for OffsetDateTime {
        fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
            let s = value.as_str()?;
            if let Some(utc) = s.strip_suffix('Z') {
                return parse_any(utc, date_times(), |s, i| PrimitiveDateTime::parse(s, i))
                    .map(PrimitiveDateTime::assume_utc);
            }
            let with_offset = date_times()
                .into_iter()
                .map(|d| format!("{d}[offset_hour sign:mandatory]:[offset_minute]"));
            parse_any(s, with_offset, |s, i| OffsetDateTime::parse(s, i)).or_else(|_| {
                parse_any(s, date_times(), |s, i| PrimitiveDateTime::parse(s, i))
                    .map(|p| p.assume_offset(UtcOffset::UTC))
            })
        }
    }
}

#[cfg(feature = "uuid")]
mod uuid_impls {
    use crate::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
    use uuid::Uuid;

    /// A 16-byte blob, as rusqlite binds it.
    impl ToSql for Uuid {
        fn to_sql(&self) -> crate::Result<ToSqlOutput<'_>> {
            Ok(ToSqlOutput::Borrowed(ValueRef::Blob(self.as_bytes())))
        }
    }

    /// A 16-byte blob (or, beyond rusqlite, the hyphenated text form).
    impl FromSql for Uuid {
        fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
            match value {
                ValueRef::Blob(b) => <[u8; 16]>::try_from(b).map(Uuid::from_bytes).map_err(|_| {
                    FromSqlError::InvalidBlobSize {
                        expected_size: 16,
                        blob_size: b.len(),
                    }
                }),
                ValueRef::Text(_) => {
                    Uuid::parse_str(value.as_str()?).map_err(|e| FromSqlError::Other(Box::new(e)))
                }
                _ => Err(FromSqlError::InvalidType),
            }
        }
    }
}

#[cfg(feature = "url")]
mod url_impls {
    use super::*;
    use url::Url;

    impl ToSql for Url {
        fn to_sql(&self) -> crate::Result<ToSqlOutput<'_>> {
            Ok(ToSqlOutput::Borrowed(ValueRef::Text(
                self.as_str().as_bytes(),
            )))
        }
    }

    impl FromSql for Url {
        fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
            Url::parse(value.as_str()?).map_err(other)
        }
    }
}
