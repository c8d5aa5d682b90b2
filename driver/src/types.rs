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

impl ValueRef<'_> {
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
    pub fn as_str(&self) -> FromSqlResult<&str> {
        match self {
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
    pub fn as_blob(&self) -> FromSqlResult<&[u8]> {
        match self {
            ValueRef::Blob(b) => Ok(b),
            _ => Err(FromSqlError::InvalidType),
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

/// Why a value could not become a Rust type.
#[derive(Debug)]
#[non_exhaustive]
pub enum FromSqlError {
    /// The storage class does not convert to the requested type.
    InvalidType,
    /// An integer outside the requested type's range.
    OutOfRange(i64),
    /// Anything else.
    Other(Box<dyn std::error::Error + Send + Sync + 'static>),
}

impl fmt::Display for FromSqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FromSqlError::InvalidType => f.write_str("invalid type"),
            FromSqlError::OutOfRange(i) => write!(f, "value {i} out of range"),
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
        b.try_into().map_err(|_| {
            FromSqlError::Other(format!("expected a blob of {N} bytes, got {}", b.len()).into())
        })
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
}

impl<'a> ToSqlOutput<'a> {
    pub(crate) fn value_ref(&self) -> Option<ValueRef<'_>> {
        match self {
            ToSqlOutput::Borrowed(v) => Some(*v),
            ToSqlOutput::Owned(v) => Some(v.as_ref()),
            ToSqlOutput::ZeroBlob(_) => None,
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

impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::Integer(v)
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Value {
        Value::Real(v)
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
        assert!(<[u8; 2]>::column_result(ValueRef::Blob(&[1])).is_err());
        assert_eq!(
            Value::column_result(ValueRef::Real(1.5)).unwrap(),
            Value::Real(1.5)
        );
    }
}
