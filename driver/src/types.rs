//! SQL values and their conversions to and from Rust types.

use std::borrow::Cow;
use std::fmt;

/// SQLite's storage classes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    Null,
    Integer,
    Real,
    Text,
    Blob,
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Type::Null => "Null",
            Type::Integer => "Integer",
            Type::Real => "Real",
            Type::Text => "Text",
            Type::Blob => "Blob",
        })
    }
}

/// An owned SQL value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl Value {
    pub fn data_type(&self) -> Type {
        self.as_ref().data_type()
    }

    pub fn as_ref(&self) -> ValueRef<'_> {
        match self {
            Value::Null => ValueRef::Null,
            Value::Integer(i) => ValueRef::Integer(*i),
            Value::Real(r) => ValueRef::Real(*r),
            Value::Text(t) => ValueRef::Text(t.as_bytes()),
            Value::Blob(b) => ValueRef::Blob(b),
        }
    }
}

/// A borrowed SQL value; text is UTF-8 bytes as SQLite stores them (not validated).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ValueRef<'a> {
    Null,
    Integer(i64),
    Real(f64),
    Text(&'a [u8]),
    Blob(&'a [u8]),
}

impl<'a> ValueRef<'a> {
    pub fn data_type(&self) -> Type {
        match self {
            ValueRef::Null => Type::Null,
            ValueRef::Integer(_) => Type::Integer,
            ValueRef::Real(_) => Type::Real,
            ValueRef::Text(_) => Type::Text,
            ValueRef::Blob(_) => Type::Blob,
        }
    }

    /// The text as `&str`.
    ///
    /// # Errors
    /// `InvalidType` if not text, `Other` if not UTF-8.
    pub fn as_str(&self) -> FromSqlResult<&'a str> {
        match *self {
            ValueRef::Text(t) => {
                std::str::from_utf8(t).map_err(|e| FromSqlError::Other(Box::new(e)))
            }
            _ => Err(FromSqlError::InvalidType),
        }
    }

    /// The bytes of a blob.
    ///
    /// # Errors
    /// `InvalidType` if not a blob.
    pub fn as_blob(&self) -> FromSqlResult<&'a [u8]> {
        match *self {
            ValueRef::Blob(b) => Ok(b),
            _ => Err(FromSqlError::InvalidType),
        }
    }

    /// The integer.
    ///
    /// # Errors
    /// `InvalidType` if not an integer.
    pub fn as_i64(&self) -> FromSqlResult<i64> {
        match self {
            ValueRef::Integer(i) => Ok(*i),
            _ => Err(FromSqlError::InvalidType),
        }
    }

    /// The real.
    ///
    /// # Errors
    /// `InvalidType` if not a real (an integer is not converted, as in rusqlite).
    pub fn as_f64(&self) -> FromSqlResult<f64> {
        match self {
            ValueRef::Real(r) => Ok(*r),
            _ => Err(FromSqlError::InvalidType),
        }
    }

    /// The bytes of a text or a blob.
    ///
    /// # Errors
    /// `InvalidType` if neither text nor blob.
    pub fn as_bytes(&self) -> FromSqlResult<&'a [u8]> {
        match *self {
            ValueRef::Text(b) | ValueRef::Blob(b) => Ok(b),
            _ => Err(FromSqlError::InvalidType),
        }
    }

    /// [`as_i64`](Self::as_i64), with NULL as `None`.
    ///
    /// # Errors
    /// As `as_i64`.
    pub fn as_i64_or_null(&self) -> FromSqlResult<Option<i64>> {
        self.or_null(Self::as_i64)
    }

    /// [`as_f64`](Self::as_f64), with NULL as `None`.
    ///
    /// # Errors
    /// As `as_f64`.
    pub fn as_f64_or_null(&self) -> FromSqlResult<Option<f64>> {
        self.or_null(Self::as_f64)
    }

    /// [`as_str`](Self::as_str), with NULL as `None`.
    ///
    /// # Errors
    /// As `as_str`.
    pub fn as_str_or_null(&self) -> FromSqlResult<Option<&'a str>> {
        self.or_null(Self::as_str)
    }

    /// [`as_blob`](Self::as_blob), with NULL as `None`.
    ///
    /// # Errors
    /// As `as_blob`.
    pub fn as_blob_or_null(&self) -> FromSqlResult<Option<&'a [u8]>> {
        self.or_null(Self::as_blob)
    }

    /// [`as_bytes`](Self::as_bytes), with NULL as `None`.
    ///
    /// # Errors
    /// As `as_bytes`.
    pub fn as_bytes_or_null(&self) -> FromSqlResult<Option<&'a [u8]>> {
        self.or_null(Self::as_bytes)
    }

    fn or_null<'s, T>(
        &'s self,
        f: impl FnOnce(&'s Self) -> FromSqlResult<T>,
    ) -> FromSqlResult<Option<T>> {
        match self {
            ValueRef::Null => Ok(None),
            _ => f(self).map(Some),
        }
    }

    /// An owned copy (text that is not UTF-8 gets U+FFFD). Like any Rust allocation it
    /// aborts if the host cannot allocate the copy; `Value::column_result` (what
    /// `row.get::<_, Value>` uses) reports that as an error instead.
    pub fn to_owned(&self) -> Value {
        match *self {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(i) => Value::Integer(i),
            ValueRef::Real(r) => Value::Real(r),
            ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
            ValueRef::Blob(b) => Value::Blob(b.to_vec()),
        }
    }
}

impl From<ValueRef<'_>> for Value {
    fn from(v: ValueRef<'_>) -> Value {
        v.to_owned()
    }
}

impl<'a> From<&'a Value> for ValueRef<'a> {
    fn from(v: &'a Value) -> ValueRef<'a> {
        v.as_ref()
    }
}

impl<'a> From<&'a str> for ValueRef<'a> {
    fn from(s: &'a str) -> ValueRef<'a> {
        ValueRef::Text(s.as_bytes())
    }
}

impl<'a> From<&'a [u8]> for ValueRef<'a> {
    fn from(b: &'a [u8]) -> ValueRef<'a> {
        ValueRef::Blob(b)
    }
}

/// Why a value could not become a Rust type.
#[derive(Debug)]
#[non_exhaustive]
pub enum FromSqlError {
    /// The storage class does not convert to the requested type.
    InvalidType,
    /// An integer outside the requested type's range.
    OutOfRange(i64),
    /// A blob of the wrong size for a fixed-size array (`[u8; N]`).
    InvalidBlobSize {
        /// The size the Rust type needs.
        expected_size: usize,
        /// The blob's size.
        blob_size: usize,
    },
    /// Anything else.
    Other(Box<dyn std::error::Error + Send + Sync + 'static>),
}

impl FromSqlError {
    /// Wraps any error as [`FromSqlError::Other`].
    pub fn other<E: std::error::Error + Send + Sync + 'static>(err: E) -> FromSqlError {
        FromSqlError::Other(Box::new(err))
    }
}

impl PartialEq for FromSqlError {
    /// Equal kinds with equal data; two `Other` errors are never equal (as in rusqlite).
    fn eq(&self, other: &FromSqlError) -> bool {
        match (self, other) {
            (FromSqlError::InvalidType, FromSqlError::InvalidType) => true,
            (FromSqlError::OutOfRange(a), FromSqlError::OutOfRange(b)) => a == b,
            (
                FromSqlError::InvalidBlobSize {
                    expected_size: a,
                    blob_size: b,
                },
                FromSqlError::InvalidBlobSize {
                    expected_size: c,
                    blob_size: d,
                },
            ) => a == c && b == d,
            _ => false,
        }
    }
}

impl fmt::Display for FromSqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // rusqlite's texts, which callers match on.
            FromSqlError::InvalidType => f.write_str("Invalid type"),
            FromSqlError::OutOfRange(i) => write!(f, "Value {i} out of range"),
            FromSqlError::InvalidBlobSize {
                expected_size,
                blob_size,
            } => write!(
                f,
                "Cannot read {expected_size} byte value out of {blob_size} byte blob"
            ),
            FromSqlError::Other(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for FromSqlError {}

pub type FromSqlResult<T> = Result<T, FromSqlError>;

/// Converts an SQL value into a Rust value.
pub trait FromSql: Sized {
    /// # Errors
    /// When the value does not convert.
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self>;
}

macro_rules! from_sql_integer {
    ($($t:ty),*) => {$(
        impl FromSql for $t {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                match value {
                    ValueRef::Integer(i) => <$t>::try_from(i).map_err(|_| FromSqlError::OutOfRange(i)),
                    _ => Err(FromSqlError::InvalidType),
                }
            }
        }
    )*};
}

from_sql_integer!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

impl FromSql for f64 {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        match value {
            ValueRef::Integer(i) => Ok(i as f64),
            ValueRef::Real(r) => Ok(r),
            _ => Err(FromSqlError::InvalidType),
        }
    }
}

impl FromSql for f32 {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        f64::column_result(value).map(|v| v as f32)
    }
}

impl FromSql for bool {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        i64::column_result(value).map(|i| i != 0)
    }
}

/// A failed host allocation for a value (its size is the database's choice) as a
/// conversion error instead of an abort.
fn out_of_memory(e: sandlite_sqlite_wasm::alloc::OutOfMemory) -> FromSqlError {
    FromSqlError::Other(Box::new(e))
}

impl FromSql for String {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        sandlite_sqlite_wasm::alloc::string(value.as_str()?).map_err(out_of_memory)
    }
}

impl FromSql for Box<str> {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        String::column_result(value).map(String::into_boxed_str)
    }
}

impl FromSql for Vec<u8> {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        match value {
            ValueRef::Blob(b) | ValueRef::Text(b) => {
                sandlite_sqlite_wasm::alloc::copy(b).map_err(out_of_memory)
            }
            _ => Err(FromSqlError::InvalidType),
        }
    }
}

impl<const N: usize> FromSql for [u8; N] {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let b = value.as_blob()?;
        b.try_into().map_err(|_| FromSqlError::InvalidBlobSize {
            expected_size: N,
            blob_size: b.len(),
        })
    }
}

impl FromSql for std::rc::Rc<str> {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        Ok(std::rc::Rc::from(value.as_str()?))
    }
}

impl FromSql for std::sync::Arc<str> {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        Ok(std::sync::Arc::from(value.as_str()?))
    }
}

impl FromSql for Box<[u8]> {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        Vec::<u8>::column_result(value).map(Vec::into_boxed_slice)
    }
}

impl<T: FromSql> FromSql for Option<T> {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        match value {
            ValueRef::Null => Ok(None),
            v => T::column_result(v).map(Some),
        }
    }
}

impl FromSql for Value {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        use sandlite_sqlite_wasm::alloc;
        Ok(match value {
            ValueRef::Text(t) => Value::Text(alloc::string_lossy(t).map_err(out_of_memory)?),
            ValueRef::Blob(b) => Value::Blob(alloc::copy(b).map_err(out_of_memory)?),
            other => other.to_owned(),
        })
    }
}

/// What a [`ToSql`] value binds as.
#[derive(Clone, Debug, PartialEq)]
pub enum ToSqlOutput<'a> {
    Borrowed(ValueRef<'a>),
    Owned(Value),
    /// A blob of this many zero bytes (for incremental blob I/O).
    ZeroBlob(u64),
    /// An array for `rarray(?)` ([`vtab::array`](crate::vtab::array)): bound as a pointer
    /// only virtual tables see (SQL sees NULL).
    Array(crate::vtab::array::Array),
}

impl<'a> ToSqlOutput<'a> {
    pub(crate) fn value_ref(&self) -> Option<ValueRef<'_>> {
        match self {
            ToSqlOutput::Borrowed(v) => Some(*v),
            ToSqlOutput::Owned(v) => Some(v.as_ref()),
            ToSqlOutput::ZeroBlob(_) | ToSqlOutput::Array(_) => None,
        }
    }
}

impl<'a, T: Into<Value>> From<T> for ToSqlOutput<'a> {
    fn from(v: T) -> Self {
        ToSqlOutput::Owned(v.into())
    }
}

/// Converts a Rust value into an SQL value for binding.
pub trait ToSql {
    /// # Errors
    /// When the value cannot be represented (e.g. a `u64` above `i64::MAX`).
    fn to_sql(&self) -> crate::Result<ToSqlOutput<'_>>;
}

macro_rules! value_from_integer {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Value {
                Value::Integer(i64::from(v))
            }
        }
    )*};
}

value_from_integer!(i8, i16, i32, i64, u8, u16, u32);

impl From<isize> for Value {
    fn from(v: isize) -> Value {
        // isize is at most 64 bits on every Rust target.
        Value::Integer(v as i64)
    }
}

impl TryFrom<u64> for Value {
    type Error = std::num::TryFromIntError;
    /// Fails above `i64::MAX` (SQLite integers are signed 64-bit).
    fn try_from(v: u64) -> Result<Value, Self::Error> {
        i64::try_from(v).map(Value::Integer)
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Value {
        Value::Real(v)
    }
}

impl From<f32> for Value {
    fn from(v: f32) -> Value {
        Value::Real(f64::from(v))
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(v.to_owned())
    }
}

impl From<&[u8]> for Value {
    fn from(v: &[u8]) -> Value {
        Value::Blob(v.to_vec())
    }
}

impl From<Null> for Value {
    fn from(_: Null) -> Value {
        Value::Null
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Text(v)
    }
}

impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Value {
        Value::Blob(v)
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Integer(i64::from(v))
    }
}

macro_rules! to_sql_lossless {
    ($($t:ty),*) => {$(
        impl ToSql for $t {
            fn to_sql(&self) -> crate::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::Owned(Value::Integer(i64::from(*self))))
            }
        }
    )*};
}

to_sql_lossless!(i8, i16, i32, i64, u8, u16, u32, bool);

macro_rules! to_sql_checked {
    ($($t:ty),*) => {$(
        impl ToSql for $t {
            fn to_sql(&self) -> crate::Result<ToSqlOutput<'_>> {
                i64::try_from(*self)
                    .map(|i| ToSqlOutput::Owned(Value::Integer(i)))
                    .map_err(|e| crate::Error::ToSqlConversionFailure(Box::new(e)))
            }
        }
    )*};
}

to_sql_checked!(u64, usize, isize);

impl ToSql for f64 {
    fn to_sql(&self) -> crate::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Owned(Value::Real(*self)))
    }
}

impl ToSql for f32 {
    fn to_sql(&self) -> crate::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Owned(Value::Real(f64::from(*self))))
    }
}

impl ToSql for str {
    fn to_sql(&self) -> crate::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(ValueRef::Text(self.as_bytes())))
    }
}

impl ToSql for String {
    fn to_sql(&self) -> crate::Result<ToSqlOutput<'_>> {
        self.as_str().to_sql()
    }
}

impl ToSql for Cow<'_, str> {
    fn to_sql(&self) -> crate::Result<ToSqlOutput<'_>> {
        self.as_ref().to_sql()
    }
}

impl ToSql for [u8] {
    fn to_sql(&self) -> crate::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(ValueRef::Blob(self)))
    }
}

impl ToSql for Vec<u8> {
    fn to_sql(&self) -> crate::Result<ToSqlOutput<'_>> {
        self.as_slice().to_sql()
    }
}

impl<const N: usize> ToSql for [u8; N] {
    fn to_sql(&self) -> crate::Result<ToSqlOutput<'_>> {
        self.as_slice().to_sql()
    }
}

impl<T: ToSql> ToSql for Option<T> {
    fn to_sql(&self) -> crate::Result<ToSqlOutput<'_>> {
        match self {
            Some(v) => v.to_sql(),
            None => Ok(ToSqlOutput::Borrowed(ValueRef::Null)),
        }
    }
}

impl<T: ToSql + ?Sized> ToSql for &T {
    fn to_sql(&self) -> crate::Result<ToSqlOutput<'_>> {
        (**self).to_sql()
    }
}

impl<T: ToSql + ?Sized> ToSql for std::rc::Rc<T> {
    fn to_sql(&self) -> crate::Result<ToSqlOutput<'_>> {
        (**self).to_sql()
    }
}

impl<T: ToSql + ?Sized> ToSql for std::sync::Arc<T> {
    fn to_sql(&self) -> crate::Result<ToSqlOutput<'_>> {
        (**self).to_sql()
    }
}

impl<T: ToSql + ?Sized> ToSql for Box<T> {
    fn to_sql(&self) -> crate::Result<ToSqlOutput<'_>> {
        (**self).to_sql()
    }
}

impl ToSql for Value {
    fn to_sql(&self) -> crate::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(self.as_ref()))
    }
}

impl ToSql for ValueRef<'_> {
    fn to_sql(&self) -> crate::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(*self))
    }
}

impl ToSql for ToSqlOutput<'_> {
    fn to_sql(&self) -> crate::Result<ToSqlOutput<'_>> {
        Ok(match self {
            ToSqlOutput::Borrowed(v) => ToSqlOutput::Borrowed(*v),
            ToSqlOutput::Owned(v) => ToSqlOutput::Borrowed(v.as_ref()),
            ToSqlOutput::ZeroBlob(n) => ToSqlOutput::ZeroBlob(*n),
            ToSqlOutput::Array(a) => ToSqlOutput::Array(a.clone()),
        })
    }
}

/// SQL NULL, for binding.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Null;

impl ToSql for Null {
    fn to_sql(&self) -> crate::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(ValueRef::Null))
    }
}

/// A blob of `n` zero bytes, to be filled later with incremental blob I/O.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ZeroBlob(pub u64);

impl ToSql for ZeroBlob {
    fn to_sql(&self) -> crate::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::ZeroBlob(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_range_checked() {
        assert_eq!(u8::column_result(ValueRef::Integer(255)).unwrap(), 255);
        assert!(matches!(
            u8::column_result(ValueRef::Integer(256)),
            Err(FromSqlError::OutOfRange(256))
        ));
        assert!(matches!(
            u64::column_result(ValueRef::Integer(-1)),
            Err(FromSqlError::OutOfRange(-1))
        ));
        assert!(u64::MAX.to_sql().is_err());
        assert_eq!(
            (i64::MAX as u64).to_sql().unwrap(),
            ToSqlOutput::Owned(Value::Integer(i64::MAX))
        );
        assert!(matches!(
            i32::column_result(ValueRef::Text(b"1")),
            Err(FromSqlError::InvalidType)
        ));
    }

    #[test]
    fn text_blob_option_bool() {
        assert_eq!(
            String::column_result(ValueRef::Text(b"hi")).unwrap(),
            "hi".to_string()
        );
        assert!(String::column_result(ValueRef::Text(&[0xff])).is_err());
        assert_eq!(Option::<i64>::column_result(ValueRef::Null).unwrap(), None);
        assert!(bool::column_result(ValueRef::Integer(2)).unwrap());
        assert_eq!(f64::column_result(ValueRef::Integer(3)).unwrap(), 3.0);
        assert_eq!(
            <[u8; 2]>::column_result(ValueRef::Blob(&[1, 2])).unwrap(),
            [1, 2]
        );
        assert_eq!(
            <[u8; 2]>::column_result(ValueRef::Blob(&[1])).unwrap_err(),
            FromSqlError::InvalidBlobSize {
                expected_size: 2,
                blob_size: 1
            }
        );
        assert_eq!(
            Value::column_result(ValueRef::Real(1.5)).unwrap(),
            Value::Real(1.5)
        );
    }

    #[test]
    fn value_and_output_from_rust_values() {
        assert_eq!(Value::from(7u8), Value::Integer(7));
        assert_eq!(Value::from(-7i16), Value::Integer(-7));
        assert_eq!(Value::from(u32::MAX), Value::Integer(4294967295));
        assert_eq!(Value::from(-1isize), Value::Integer(-1));
        assert_eq!(Value::try_from(u64::MAX).ok(), None);
        assert_eq!(Value::from(1.5f32), Value::Real(1.5));
        assert_eq!(Value::from(true), Value::Integer(1));
        assert_eq!(Value::from("x"), Value::Text("x".into()));
        assert_eq!(Value::from(None::<i32>), Value::Null);
        assert_eq!(Value::from(Some(3i32)), Value::Integer(3));
        let out: ToSqlOutput<'_> = "x".into();
        assert_eq!(out, ToSqlOutput::Owned(Value::Text("x".into())));
        let out: ToSqlOutput<'_> = vec![1u8, 2].into();
        assert_eq!(out, ToSqlOutput::Owned(Value::Blob(vec![1, 2])));
        assert_eq!(
            ToSqlOutput::from(3i8),
            ToSqlOutput::Owned(Value::Integer(3))
        );
        assert_eq!(
            ToSqlOutput::from(2.0f32),
            ToSqlOutput::Owned(Value::Real(2.0))
        );
    }

    #[test]
    fn value_ref_accessors() {
        assert_eq!(ValueRef::Integer(3).as_i64(), Ok(3));
        assert_eq!(
            ValueRef::Integer(3).as_f64(),
            Err(FromSqlError::InvalidType)
        );
        assert_eq!(ValueRef::Real(0.5).as_f64(), Ok(0.5));
        assert_eq!(ValueRef::Null.as_i64_or_null(), Ok(None));
        assert_eq!(ValueRef::Integer(1).as_i64_or_null(), Ok(Some(1)));
        assert_eq!(ValueRef::Text(b"a").as_str_or_null(), Ok(Some("a")));
        assert_eq!(ValueRef::Null.as_blob_or_null(), Ok(None));
        assert_eq!(ValueRef::Text(b"ab").as_bytes(), Ok(&b"ab"[..]));
        assert_eq!(
            ValueRef::Real(1.0).as_bytes_or_null(),
            Err(FromSqlError::InvalidType)
        );
        assert_eq!(ValueRef::from("q"), ValueRef::Text(b"q"));
    }
}
