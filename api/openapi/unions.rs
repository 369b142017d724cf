//! Names and discriminators for the tagged unions.
//!
//! utoipa writes a serde-tagged enum as a `oneOf` of anonymous objects, so code generators invent names such as
//! `ServerFrameType7`. This pass lifts every variant into a component of its own, named after its tag
//! (`ack` → `AckFrame`), and gives the union a `discriminator` with the full mapping. The Rust enums stay the
//! one source: the variants, their fields and their docs are whatever utoipa generated from them.

use std::collections::{BTreeMap, BTreeSet};

use utoipa::openapi::schema::{Discriminator, Schema};
use utoipa::openapi::{Components, Ref, RefOr};

/// One tagged enum of the protocol: its component, the property serde tags it with, and how a variant's
/// component is named from its tag.
pub struct Union {
    pub component: &'static str,
    pub tag: &'static str,
    pub name: fn(&str) -> String,
}

/// Every tagged enum the documents carry. Frame tags that both directions use (`typing`, `read`, `delivered`)
/// are told apart by the direction: `ClientTypingFrame`, `ServerTypingFrame`.
pub const UNIONS: &[Union] = &[
    Union { component: "ClientFrame", tag: "type", name: |tag| frame_name(tag, "Client") },
    Union { component: "ServerFrame", tag: "type", name: |tag| frame_name(tag, "Server") },
    Union { component: "CreateConversationRequest", tag: "kind", name: |tag| format!("Create{}Request", pascal(tag)) },
    Union { component: "TimelineEvent", tag: "type", name: |tag| format!("{}Event", pascal(tag)) },
];

/// The frame tags both directions use.
const SHARED_FRAME_TAGS: &[&str] = &["typing", "read", "delivered"];

fn frame_name(tag: &str, direction: &str) -> String {
    let base = format!("{}Frame", pascal(tag));
    if SHARED_FRAME_TAGS.contains(&tag) { format!("{direction}{base}") } else { base }
}

/// `member_added` → `MemberAdded`.
pub fn pascal(snake: &str) -> String {
    snake
        .split('_')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map(|first| first.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect()
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum UnionError {
    #[error("component {0} is missing or not a oneOf")]
    NotAUnion(&'static str),
    #[error("a variant of {0} has no single-valued `{1}` property")]
    NoTag(&'static str, &'static str),
    #[error("variant component {0} would be defined twice")]
    Clash(String),
}

/// Each union's variants as (tag, component name), in the enum's order.
pub type Lifted = BTreeMap<&'static str, Vec<(String, String)>>;

/// Lifts the variants of every union in [`UNIONS`] into named components and adds the discriminators.
pub fn name_variants(components: &mut Components) -> Result<Lifted, UnionError> {
    let mut lifted = BTreeMap::new();
    let mut names = BTreeSet::new();
    for union in UNIONS {
        let Some(RefOr::T(Schema::OneOf(one_of))) = components.schemas.get_mut(union.component) else {
            return Err(UnionError::NotAUnion(union.component));
        };
        let mut variants = Vec::new();
        let mut discriminator = Discriminator::new(union.tag);
        for item in &mut one_of.items {
            let RefOr::T(schema) = item else { return Err(UnionError::NoTag(union.component, union.tag)) };
            let tag = tag_of(schema, union.tag).ok_or(UnionError::NoTag(union.component, union.tag))?;
            let name = (union.name)(&tag);
            if !names.insert(name.clone()) {
                return Err(UnionError::Clash(name));
            }
            let variant = std::mem::replace(item, RefOr::Ref(Ref::from_schema_name(&name)));
            discriminator.mapping.insert(tag.clone(), format!("#/components/schemas/{name}"));
            variants.push((tag, name, variant));
        }
        one_of.discriminator = Some(discriminator);
        let mut tags = Vec::new();
        for (tag, name, variant) in variants {
            if components.schemas.insert(name.clone(), variant).is_some() {
                return Err(UnionError::Clash(name));
            }
            tags.push((tag, name));
        }
        lifted.insert(union.component, tags);
    }
    Ok(lifted)
}

/// The value of a variant's tag property: an object whose `tag` property allows exactly one string.
fn tag_of(schema: &Schema, tag: &str) -> Option<String> {
    let Schema::Object(object) = schema else { return None };
    let RefOr::T(Schema::Object(property)) = object.properties.get(tag)? else { return None };
    match property.enum_values.as_deref()? {
        [serde_json::Value::String(value)] => Some(value.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_become_pascal_case_names_with_the_direction_only_where_both_sides_share_a_tag() {
        assert_eq!(frame_name("new_message", "Client"), "NewMessageFrame");
        assert_eq!(frame_name("typing", "Client"), "ClientTypingFrame");
        assert_eq!(frame_name("typing", "Server"), "ServerTypingFrame");
        assert_eq!(pascal("member_added"), "MemberAdded");
    }

    #[test]
    fn every_union_gets_a_discriminator_whose_mapping_names_each_lifted_variant() {
        let mut doc = crate::openapi::generated();
        let components = doc.components.get_or_insert_with(Default::default);
        let lifted = name_variants(components).expect("unions");
        for union in UNIONS {
            let Some(RefOr::T(Schema::OneOf(one_of))) = components.schemas.get(union.component) else {
                panic!("{} is a oneOf", union.component)
            };
            let discriminator = one_of.discriminator.as_ref().expect("discriminator");
            assert_eq!(discriminator.property_name, union.tag);
            assert_eq!(discriminator.mapping.len(), lifted[union.component].len());
            for (tag, name) in &lifted[union.component] {
                assert_eq!(discriminator.mapping[tag], format!("#/components/schemas/{name}"));
                assert!(components.schemas.contains_key(name), "{name} is a component");
            }
        }
    }

    #[test]
    fn a_missing_union_is_an_error_not_a_silent_skip() {
        assert_eq!(name_variants(&mut Components::default()), Err(UnionError::NotAUnion("ClientFrame")));
    }
}
