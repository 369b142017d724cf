//! `/api/search`: message search.

use actix_web::{HttpResponse, web};

use crate::auth::AuthUser;
use crate::chat::search;
use crate::error::{ApiError, ApiResult};
use crate::protocol::{ErrorBody, SearchPage, SearchQuery};
use crate::state::AppState;

/// Search the messages of the conversations the caller is a member of now (all of them, or one): every word of
/// `q`, best match first, with a highlighted snippet; `next_before` continues.
#[utoipa::path(operation_id = "search_messages", get, path = "/api/search", tag = "messages",
    params(SearchQuery),
    responses(
        (status = 200, description = "A page of hits", body = SearchPage),
        (status = 404, description = "`conversation_id` names no conversation the caller is a member of", body = ErrorBody),
        (status = 422, description = "No word of 2+ letters or digits, more than 8 words or 200 characters, limit out of 1..50, a `before` this search did not return", body = ErrorBody),
        (status = 429, description = "`too_many_searches`: two of the caller's searches are still running", body = ErrorBody),
    ))]
pub async fn search(
    user: AuthUser,
    app: web::Data<AppState>,
    query: web::Query<SearchQuery>,
) -> ApiResult<HttpResponse> {
    let _running = app.limits.search(user.user_id).ok_or_else(|| {
        ApiError::TooMany("too_many_searches", "Two of your searches are still running; wait for one to finish.".into())
    })?;
    let mut conn = app.db.get().await?;
    Ok(HttpResponse::Ok().json(search::search(&mut conn, user.user_id, &query).await?))
}
