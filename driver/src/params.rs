//! Ways to pass parameters: `()`, tuples, arrays, `params![...]`, `named_params!{...}`,
//! slices of `&dyn ToSql` and of `(name, &dyn ToSql)`, arrays of `(name, value)` (by
//! value or by reference), and `params_from_iter`.

use crate::statement::Statement;
use crate::types::ToSql;
use crate::{Error, Result};

mod sealed {
    pub trait Sealed {}
}

/// Parameters for a statement. Implemented for the forms listed in the module docs.
pub trait Params: sealed::Sealed {
    #[doc(hidden)]
    fn bind_in(self, stmt: &mut Statement<'_>) -> Result<()>;
}

impl sealed::Sealed for () {}
impl Params for () {
    fn bind_in(self, stmt: &mut Statement<'_>) -> Result<()> {
        stmt.bind_positional(std::iter::empty::<&dyn ToSql>(), 0)
    }
}

impl sealed::Sealed for &[&dyn ToSql] {}
impl Params for &[&dyn ToSql] {
    fn bind_in(self, stmt: &mut Statement<'_>) -> Result<()> {
        stmt.bind_positional(self.iter().copied(), self.len())
    }
}

impl sealed::Sealed for &[(&str, &dyn ToSql)] {}
impl Params for &[(&str, &dyn ToSql)] {
    fn bind_in(self, stmt: &mut Statement<'_>) -> Result<()> {
        stmt.bind_named(self)
    }
}

// `&[]` needs a concrete element type to infer.
impl sealed::Sealed for &[(&str, &dyn ToSql); 0] {}
impl Params for &[(&str, &dyn ToSql); 0] {
    fn bind_in(self, stmt: &mut Statement<'_>) -> Result<()> {
        stmt.bind_named(self.as_slice())
    }
}

// An empty array needs a concrete element type so `[]` infers.
impl sealed::Sealed for [&(dyn ToSql + Send + Sync); 0] {}
impl Params for [&(dyn ToSql + Send + Sync); 0] {
    fn bind_in(self, stmt: &mut Statement<'_>) -> Result<()> {
        stmt.bind_positional(std::iter::empty::<&dyn ToSql>(), 0)
    }
}

macro_rules! array_params {
    ($($n:literal)*) => {$(
        impl<T: ToSql> sealed::Sealed for [T; $n] {}
        impl<T: ToSql> Params for [T; $n] {
            fn bind_in(self, stmt: &mut Statement<'_>) -> Result<()> {
                stmt.bind_positional(self.iter().map(|v| v as &dyn ToSql), $n)
            }
        }

        /// `&[(":k", &v as &dyn ToSql), ...]` and `&[(":k", v), ...]` (any one `ToSql` type).
        impl<T: ToSql> sealed::Sealed for &[(&str, T); $n] {}
        impl<T: ToSql> Params for &[(&str, T); $n] {
            fn bind_in(self, stmt: &mut Statement<'_>) -> Result<()> {
                let named: [(&str, &dyn ToSql); $n] =
                    std::array::from_fn(|i| (self[i].0, &self[i].1 as &dyn ToSql));
                stmt.bind_named(&named)
            }
        }

        /// `[(":k", v), ...]` by value.
        impl<T: ToSql> sealed::Sealed for [(&str, T); $n] {}
        impl<T: ToSql> Params for [(&str, T); $n] {
            fn bind_in(self, stmt: &mut Statement<'_>) -> Result<()> {
                (&self).bind_in(stmt)
            }
        }

        impl<T: ToSql + ?Sized> sealed::Sealed for &[&T; $n] {}
        impl<T: ToSql + ?Sized> Params for &[&T; $n] {
            fn bind_in(self, stmt: &mut Statement<'_>) -> Result<()> {
                stmt.bind_positional(self.iter().map(|v| v as &dyn ToSql), $n)
            }
        }
    )*};
}

array_params!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32);

macro_rules! tuple_params {
    ($($t:ident $i:tt),+) => {
        impl<$($t: ToSql),+> sealed::Sealed for ($($t,)+) {}
        impl<$($t: ToSql),+> Params for ($($t,)+) {
            fn bind_in(self, stmt: &mut Statement<'_>) -> Result<()> {
                let values: &[&dyn ToSql] = &[$(&self.$i),+];
                stmt.bind_positional(values.iter().copied(), values.len())
            }
        }
    };
}

tuple_params!(A 0);
tuple_params!(A 0, B 1);
tuple_params!(A 0, B 1, C 2);
tuple_params!(A 0, B 1, C 2, D 3);
tuple_params!(A 0, B 1, C 2, D 3, E 4);
tuple_params!(A 0, B 1, C 2, D 3, E 4, F 5);
tuple_params!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_params!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
tuple_params!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
tuple_params!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
tuple_params!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
tuple_params!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);
tuple_params!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12);
tuple_params!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13);
tuple_params!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13, O 14);
tuple_params!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13, O 14, P 15);

/// Positional parameters from an iterator (of any length the statement expects).
pub struct ParamsFromIter<I>(I);

/// Binds the items of `iter` as positional parameters.
pub fn params_from_iter<I>(iter: I) -> ParamsFromIter<I>
where
    I: IntoIterator,
    I::Item: ToSql,
{
    ParamsFromIter(iter)
}

impl<I> sealed::Sealed for ParamsFromIter<I> {}
impl<I> Params for ParamsFromIter<I>
where
    I: IntoIterator,
    I::Item: ToSql,
{
    fn bind_in(self, stmt: &mut Statement<'_>) -> Result<()> {
        let values: Vec<I::Item> = self.0.into_iter().collect();
        let n = values.len();
        stmt.bind_positional(values.iter().map(|v| v as &dyn ToSql), n)
    }
}

/// Positional parameters: `params![1, "two", 3.0]`.
#[macro_export]
macro_rules! params {
    () => {
        &[] as &[&dyn $crate::ToSql]
    };
    ($($p:expr),+ $(,)?) => {
        &[$(&$p as &dyn $crate::ToSql),+] as &[&dyn $crate::ToSql]
    };
}

/// Named parameters: `named_params! { ":id": 1, "@name": "x" }`.
#[macro_export]
macro_rules! named_params {
    () => {
        &[] as &[(&str, &dyn $crate::ToSql)]
    };
    ($($name:literal : $value:expr),+ $(,)?) => {
        &[$(($name, &$value as &dyn $crate::ToSql)),+] as &[(&str, &dyn $crate::ToSql)]
    };
}

pub(crate) fn count_mismatch(given: usize, expected: usize) -> Error {
    Error::InvalidParameterCount(given, expected)
}
