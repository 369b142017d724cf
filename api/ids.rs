//! Typed ids: a user, a conversation, a login session, a message's place in its conversation. Each is an i64 in
//! the database (BIGINT) and in JSON (a plain number), and a type of its own in code, so that a rule taking
//! `(ConversationId, UserId)` cannot be called with the two swapped. The wire types in `protocol` keep plain
//! integers: what clients see does not change.

use std::fmt;

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::BigInt;
use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, AsExpression,
            FromSqlRow,
        )]
        #[serde(transparent)]
        #[diesel(sql_type = BigInt)]
        pub struct $name(pub i64);

        impl $name {
            pub fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<$name> for i64 {
            fn from(id: $name) -> i64 {
                id.0
            }
        }

        impl PartialEq<i64> for $name {
            fn eq(&self, other: &i64) -> bool {
                self.0 == *other
            }
        }

        impl<DB: Backend> ToSql<BigInt, DB> for $name
        where
            i64: ToSql<BigInt, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
                <i64 as ToSql<BigInt, DB>>::to_sql(&self.0, out)
            }
        }

        impl<DB: Backend> FromSql<BigInt, DB> for $name
        where
            i64: FromSql<BigInt, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
                i64::from_sql(bytes).map($name)
            }
        }
    };
}

id_type!(
    /// An account.
    UserId
);
id_type!(
    /// A direct chat or a group.
    ConversationId
);
id_type!(
    /// A login session (one login and its refresh chain).
    SessionId
);
id_type!(
    /// A message's number in its conversation: 1, 2, 3… without gaps.
    Seq
);

impl Seq {
    pub fn next(self) -> Seq {
        Seq(self.0 + 1)
    }
}

/// How many messages lie between two positions: `last_seq - last_read_seq` is the unread count.
impl std::ops::Sub for Seq {
    type Output = i64;

    fn sub(self, earlier: Seq) -> i64 {
        self.0 - earlier.0
    }
}
