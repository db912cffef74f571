//! Pure types and rules of the domain: no I/O here, so every rule can be tested directly.

/// A closed set of keys shared with clients (channels, categories, chat states, …): the
/// enum, its wire keys, and a parser that names the offending field.
macro_rules! key_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $key:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name { $($(#[$vmeta])* #[serde(rename = $key)] $variant),+ }

        // Written out rather than derived: the derive does not see a `rename` that comes
        // through a macro, and would document the Rust variant names instead of the keys.
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($key),+]))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $key),+ }
            }

            /// Parses a key, naming `field` in the error.
            pub fn parse_field(value: &str, field: &str) -> Result<$name> {
                $name::ALL.iter().copied().find(|v| v.as_str() == value).ok_or_else(|| {
                    let keys: Vec<&str> = $name::ALL.iter().map(|v| v.as_str()).collect();
                    AppError::validation(
                        field,
                        format!("unknown {field} {value:?}; expected one of {}", keys.join(", ")),
                    )
                })
            }
        }
    };
}

pub mod account;
pub mod audit;
pub mod calendar;
pub mod call;
pub mod chat;
pub mod clock;
pub mod entry;
pub mod handover;
pub mod report;
pub mod retention;
pub mod risk;
pub mod roles;
pub mod shelter;
pub mod stream;
