//! Ids in paths are slugs: anything else is not found, before it reaches the store.

use std::future::{Ready, ready};
use std::ops::Deref;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use sportello_domain::Slug;

use crate::error::AppError;

/// The `{id}` of a path, parsed as a slug (lower-case letters, digits, hyphens).
pub struct SlugId(Slug);

impl Deref for SlugId {
    type Target = str;
    fn deref(&self) -> &str {
        self.0.as_str()
    }
}

impl FromRequest for SlugId {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            req.match_info()
                .get("id")
                .and_then(|id| Slug::parse(id).ok())
                .map(SlugId)
                .ok_or_else(|| AppError::NotFound.into()),
        )
    }
}
