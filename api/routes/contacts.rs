//! `/api/contacts`: the caller's address book.

use actix_web::{HttpResponse, web};

use super::json::Json;
use crate::auth::AuthUser;
use crate::chat::contacts;
use crate::error::ApiResult;
use crate::ids::UserId;
use crate::protocol::{AddContactRequest, ContactList, ErrorBody, User};
use crate::state::AppState;

/// The caller's contacts, by username.
#[utoipa::path(operation_id = "list_contacts", get, path = "/api/contacts", tag = "contacts",
    responses(
        (status = 200, description = "Contacts", body = ContactList),
    ))]
pub async fn list(user: AuthUser, app: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let mut conn = app.db.get().await?;
    let contacts = contacts::list(&mut conn, &app.realtime, user.user_id).await?;
    Ok(HttpResponse::Ok().json(ContactList { contacts }))
}

/// Add a contact (201 when new, 200 when it already was one).
#[utoipa::path(operation_id = "add_contact", post, path = "/api/contacts", tag = "contacts", request_body = AddContactRequest,
    responses(
        (status = 201, description = "Added", body = User),
        (status = 200, description = "Already a contact", body = User),
        (status = 403, description = "A block between you and the user (`forbidden`, or `blocked_by_you` when it is yours)", body = ErrorBody),
        (status = 422, description = "Yourself, or no such user", body = ErrorBody),
    ))]
pub async fn add(user: AuthUser, app: web::Data<AppState>, body: Json<AddContactRequest>) -> ApiResult<HttpResponse> {
    let mut conn = app.db.get().await?;
    let (contact, added) = contacts::add(&mut conn, user.user_id, UserId(body.user_id)).await?;
    Ok(if added { HttpResponse::Created() } else { HttpResponse::Ok() }.json(contact))
}

/// Remove a contact.
#[utoipa::path(operation_id = "remove_contact", delete, path = "/api/contacts/{user_id}", tag = "contacts",
    params(("user_id" = i64, Path, description = "The contact's user id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "Not a contact", body = ErrorBody),
    ))]
pub async fn remove(user: AuthUser, app: web::Data<AppState>, path: web::Path<UserId>) -> ApiResult<HttpResponse> {
    let mut conn = app.db.get().await?;
    contacts::remove(&mut conn, user.user_id, path.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
