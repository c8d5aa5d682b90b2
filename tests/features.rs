//! The optional conversions (`--features serde_json,chrono,time,uuid,url`), used the way
//! rusqlite users use them. CI runs this file with every feature on (.ci/run).

#[allow(unused_imports)]
use sandlite::{Connection, Result};

#[cfg(feature = "serde_json")]
#[test]
fn serde_json_values_round_trip_as_json_text() -> Result<()> {
    use serde_json::json;
    let db = Connection::open_in_memory()?;
    db.execute_batch("CREATE TABLE doc(body TEXT)")?;
    let v = json!({"name": "Ada", "langs": ["en", "fr"], "age": 36});
    db.execute("INSERT INTO doc VALUES (?1)", [&v])?;
    let back: serde_json::Value = db.query_row("SELECT body FROM doc", [], |r| r.get(0))?;
    assert_eq!(back, v);
    // SQLite's JSON functions read the stored text.
    let age: i64 = db.query_row("SELECT body ->> '$.age' FROM doc", [], |r| r.get(0))?;
    assert_eq!(age, 36);
    let n: serde_json::Value = db.query_row("SELECT 42", [], |r| r.get(0))?;
    assert_eq!(n, json!(42));
    let null: serde_json::Value = db.query_row("SELECT NULL", [], |r| r.get(0))?;
    assert_eq!(null, serde_json::Value::Null);
    assert!(
        db.query_row("SELECT 'not json'", [], |r| r
            .get::<_, serde_json::Value>(0))
            .is_err()
    );
    Ok(())
}

#[cfg(feature = "chrono")]
#[test]
fn chrono_types_as_sqlite_date_text() -> Result<()> {
    use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
    let db = Connection::open_in_memory()?;
    let date = NaiveDate::from_ymd_opt(2016, 2, 23).unwrap();
    let time = NaiveTime::from_hms_milli_opt(23, 56, 4, 789).unwrap();
    let dt = NaiveDateTime::new(date, time);
    let s: String = db.query_row("SELECT ?1", [dt], |r| r.get(0))?;
    assert_eq!(s, "2016-02-23 23:56:04.789");
    let back: NaiveDateTime = db.query_row("SELECT ?1", [dt], |r| r.get(0))?;
    assert_eq!(back, dt);
    // SQLite's own functions read and write the same text.
    let day: NaiveDate = db.query_row("SELECT date(?1, '+1 day')", [date], |r| r.get(0))?;
    assert_eq!(day, NaiveDate::from_ymd_opt(2016, 2, 24).unwrap());
    let t: NaiveTime = db.query_row("SELECT time(?1)", [time], |r| r.get(0))?;
    assert_eq!(t, NaiveTime::from_hms_opt(23, 56, 4).unwrap());
    let iso: NaiveDateTime = db.query_row("SELECT '2016-02-23T23:56:04'", [], |r| r.get(0))?;
    assert_eq!(
        iso,
        NaiveDateTime::new(date, NaiveTime::from_hms_opt(23, 56, 4).unwrap())
    );

    let utc: DateTime<Utc> = Utc.with_ymd_and_hms(2016, 2, 23, 23, 56, 4).unwrap();
    let s: String = db.query_row("SELECT ?1", [utc], |r| r.get(0))?;
    assert_eq!(s, "2016-02-23 23:56:04+00:00");
    let back: DateTime<Utc> = db.query_row("SELECT ?1", [utc], |r| r.get(0))?;
    assert_eq!(back, utc);
    let from_sqlite: DateTime<Utc> =
        db.query_row("SELECT datetime('2016-02-23 23:56:04')", [], |r| r.get(0))?;
    assert_eq!(from_sqlite, utc);
    let zulu: DateTime<Utc> = db.query_row("SELECT '2016-02-23T23:56:04Z'", [], |r| r.get(0))?;
    assert_eq!(zulu, utc);
    let east: DateTime<FixedOffset> =
        db.query_row("SELECT '2016-02-24 01:56:04+02:00'", [], |r| r.get(0))?;
    assert_eq!(east, utc);
    assert_eq!(east.offset().local_minus_utc(), 7200);
    assert!(
        db.query_row("SELECT 'yesterday'", [], |r| r.get::<_, NaiveDate>(0))
            .is_err()
    );
    Ok(())
}

#[cfg(feature = "time")]
#[test]
fn time_types_as_sqlite_date_text() -> Result<()> {
    use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};
    let db = Connection::open_in_memory()?;
    let date = Date::from_calendar_date(2016, Month::February, 23).unwrap();
    let time = Time::from_hms_milli(23, 56, 4, 789).unwrap();
    let dt = PrimitiveDateTime::new(date, time);
    let back: PrimitiveDateTime = db.query_row("SELECT ?1", [dt], |r| r.get(0))?;
    assert_eq!(back, dt);
    let d: Date = db.query_row("SELECT date(?1, '+1 day')", [date], |r| r.get(0))?;
    assert_eq!(d, date.next_day().unwrap());
    let t: Time = db.query_row("SELECT time('23:56:04')", [], |r| r.get(0))?;
    assert_eq!(t, Time::from_hms(23, 56, 4).unwrap());
    let t: Time = db.query_row("SELECT ?1", [time], |r| r.get(0))?;
    assert_eq!(t, time);

    let odt = dt.assume_offset(UtcOffset::from_hms(2, 0, 0).unwrap());
    let s: String = db.query_row("SELECT ?1", [odt], |r| r.get(0))?;
    assert!(
        s.starts_with("2016-02-23 23:56:04.789") && s.ends_with("+02:00"),
        "{s}"
    );
    let back: OffsetDateTime = db.query_row("SELECT ?1", [odt], |r| r.get(0))?;
    assert_eq!(back, odt);
    let utc: OffsetDateTime =
        db.query_row("SELECT datetime('2016-02-23 23:56:04')", [], |r| r.get(0))?;
    assert_eq!(
        utc,
        PrimitiveDateTime::new(date, Time::from_hms(23, 56, 4).unwrap()).assume_utc()
    );
    let zulu: OffsetDateTime = db.query_row("SELECT '2016-02-23T23:56:04Z'", [], |r| r.get(0))?;
    assert_eq!(zulu, utc);
    assert!(
        db.query_row("SELECT 'noon'", [], |r| r.get::<_, Time>(0))
            .is_err()
    );
    Ok(())
}

#[cfg(feature = "uuid")]
#[test]
fn uuids_are_16_byte_blobs() -> Result<()> {
    use uuid::Uuid;
    let db = Connection::open_in_memory()?;
    let id = Uuid::parse_str("936da01f-9abd-4d9d-80c7-02af85c822a8").unwrap();
    db.execute_batch("CREATE TABLE t(id BLOB PRIMARY KEY)")?;
    db.execute("INSERT INTO t VALUES (?1)", [id])?;
    let (ty, len): (String, i64) =
        db.query_row("SELECT typeof(id), length(id) FROM t", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    assert_eq!((ty.as_str(), len), ("blob", 16));
    let back: Uuid = db.query_row("SELECT id FROM t WHERE id = ?1", [id], |r| r.get(0))?;
    assert_eq!(back, id);
    let text: Uuid = db.query_row("SELECT '936da01f-9abd-4d9d-80c7-02af85c822a8'", [], |r| {
        r.get(0)
    })?;
    assert_eq!(text, id);
    let err = db
        .query_row("SELECT x'0102'", [], |r| r.get::<_, Uuid>(0))
        .unwrap_err();
    assert!(
        matches!(err, sandlite::Error::FromSqlConversionFailure(..)),
        "{err:?}"
    );
    Ok(())
}

#[cfg(feature = "url")]
#[test]
fn urls_are_text() -> Result<()> {
    use url::Url;
    let db = Connection::open_in_memory()?;
    let u = Url::parse("https://example.com/a?b=c#d").unwrap();
    let s: String = db.query_row("SELECT ?1", [&u], |r| r.get(0))?;
    assert_eq!(s, "https://example.com/a?b=c#d");
    let back: Url = db.query_row("SELECT ?1", [&u], |r| r.get(0))?;
    assert_eq!(back, u);
    assert!(
        db.query_row("SELECT 'not a url'", [], |r| r.get::<_, Url>(0))
            .is_err()
    );
    Ok(())
}
