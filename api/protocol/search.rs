//! Message search over REST: the query, and a page of ranked hits with highlighted snippets.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::Message;

#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Words to find, all of them (1–200 characters; a word is a run of letters and digits, case does not
    /// matter, at most 8 words). The last word also matches longer words it begins (`lib` finds `library`)
    /// unless the query ends with a space. At least one word of 2 or more characters.
    #[param(min_length = 2, max_length = 200)]
    pub q: String,
    /// Only this conversation (the caller must be a member).
    pub conversation_id: Option<i64>,
    /// The `next_before` of the previous page.
    pub before: Option<String>,
    /// 1–50, default 20.
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<i64>,
}

/// A piece of a snippet: matched words are `highlight`ed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SnippetPart {
    pub text: String,
    pub highlight: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SearchHit {
    pub message: Message,
    /// Up to about 160 characters of the body around its first match, in order; `…` marks a cut.
    pub snippet: Vec<SnippetPart>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SearchPage {
    /// Best match first (relevance, then newest), only messages of conversations the caller is a member of now,
    /// never deleted ones.
    pub results: Vec<SearchHit>,
    /// Pass as `before` for the next page; absent on the last page.
    pub next_before: Option<String>,
}
