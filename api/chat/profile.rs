//! The caller's profile: a new display name, told at once to their other sessions and to everyone who shares a
//! conversation with them (names are shown live, not copied: history joins the sender's current name).

use super::{ChatError, ChatResult};
use crate::auth::service::public_user;
use crate::db::{DbConn, conversations, users};
use crate::domain::DisplayName;
use crate::ids::UserId;
use crate::protocol::{ServerFrame, User};
use crate::realtime::{Delivery, Realtime};

pub async fn rename(conn: &mut DbConn, realtime: &Realtime, me: UserId, display_name: &str) -> ChatResult<User> {
    let display_name = DisplayName::parse(display_name)?;
    let row = users::set_display_name(conn, me, display_name.as_str()).await?.ok_or(ChatError::NotFound)?;
    let user = public_user(&row);
    let mut audience = conversations::co_member_ids(conn, me).await?;
    audience.push(me);
    realtime.to_users(audience, &ServerFrame::User { user: user.clone() }, Delivery::Reliable);
    Ok(user)
}
