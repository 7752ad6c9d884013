//! Files: attached to a draft's file field (a `multipart/form-data` post of its own, with the
//! form token checked as every form's), taken off it, and downloaded from a case by its citizen
//! or its office (always as an attachment, never shown inline).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use sportello_cases::files;

use super::fill::Place;
use crate::authz::Admitted;
use crate::error::{AppError, AppResult};
use crate::routes::{Ctx, Posted};

/// What an upload post carries: its form token, one file, and a few short fields.
pub(crate) struct Upload {
    pub csrf: String,
    pub name: String,
    pub bytes: Vec<u8>,
    pub fields: Vec<(String, String)>,
}

/// Uploads read at once on this node (each holds at most its field's largest file in memory).
pub(crate) fn uploads() -> &'static tokio::sync::Semaphore {
    static S: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    S.get_or_init(|| tokio::sync::Semaphore::new(8))
}

/// Reads the post: the token, and the file up to one byte past `cap` (so "too large" is known
/// without reading everything a client sends); at most eight parts.
pub(crate) async fn read(mut mp: actix_multipart::Multipart, cap: usize) -> AppResult<Upload> {
    let cap = cap + 1;
    let mut parts = 0;
    let mut up = Upload {
        csrf: String::new(),
        name: String::new(),
        bytes: vec![],
        fields: vec![],
    };
    while let Some(part) = mp.next().await {
        parts += 1;
        if parts > 8 {
            return Err(AppError::BadInput("bad_input_fields"));
        }
        let mut part = part.map_err(|_| AppError::BadInput("bad_input_fields"))?;
        let (name, filename) = match part.content_disposition() {
            Some(cd) => (
                cd.get_name().unwrap_or("").to_owned(),
                cd.get_filename().unwrap_or("").to_owned(),
            ),
            None => (String::new(), String::new()),
        };
        let limit = if name == "file" { cap } else { 4096 };
        let mut buf = vec![];
        while let Some(chunk) = part.next().await {
            let chunk = chunk.map_err(|_| AppError::BadInput("bad_input_fields"))?;
            if buf.len() + chunk.len() > limit {
                return Err(AppError::BadInput("bad_input_too_large"));
            }
            buf.extend_from_slice(&chunk);
        }
        match name.as_str() {
            "csrf" => up.csrf = String::from_utf8_lossy(&buf).into_owned(),
            "file" => {
                up.name = filename;
                up.bytes = buf;
            }
            other => up
                .fields
                .push((other.to_owned(), String::from_utf8_lossy(&buf).into_owned())),
        }
    }
    Ok(up)
}

pub async fn upload(
    ctx: Ctx,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    mp: actix_multipart::Multipart,
) -> HttpResponse {
    let (service, field) = path.into_inner();
    match super::fill::signed_in(&ctx, &service) {
        Ok(place) => upload_at(&ctx, &req, &place, &field, mp).await,
        Err(to) => *to,
    }
}

/// A file for a field of the draft at `place`.
pub(crate) async fn upload_at(
    ctx: &Ctx,
    req: &HttpRequest,
    place: &Place,
    field: &str,
    mp: actix_multipart::Multipart,
) -> HttpResponse {
    let r: AppResult<()> = async {
        // The field's own limit, known before a byte is read (none: a small post, for its token).
        let max_kib = {
            let tx = ctx.state.store.tenant_read(place.commune).await?;
            let f = sportello_cases::forms::of_service(&tx.db(), &place.service).await?;
            tx.commit().await?;
            f.and_then(|f| {
                f.def
                    .field(field)
                    .filter(|x| x.kind == sportello_domain::form::Kind::File)
                    .map(|x| x.max_kib.unwrap_or(files::DEFAULT_KIB).min(files::MAX_KIB))
            })
        };
        let _turn = uploads()
            .acquire()
            .await
            .map_err(|_| AppError::Internal("uploads closed".into()))?;
        let up = read(mp, max_kib.unwrap_or(64) as usize * 1024).await?;
        crate::auth::csrf::check(req, &ctx.state.secrets, &ctx.state.sessions, &up.csrf)?;
        if max_kib.is_none() {
            return Err(AppError::NotFound);
        }
        files::attach(
            &ctx.state,
            place.commune,
            &place.filer,
            &place.service,
            field,
            &up.name,
            &up.bytes,
        )
        .await?;
        Ok(())
    }
    .await;
    let page = page_of(ctx, place, field).await;
    match r {
        Ok(()) => ctx.see_other(&format!("{}?pagina={page}#f-{field}", place.base)),
        Err(AppError::Invalid(p)) => {
            redo_upload(ctx, p);
            super::fill::show_again(ctx, place, page).await
        }
        Err(e) => ctx.respond(Err(e)),
    }
}

/// A document the citizen adds to their open case (multipart, like a form's file).
pub async fn to_case(
    ctx: Ctx,
    req: HttpRequest,
    id: web::Path<String>,
    mp: actix_multipart::Multipart,
) -> HttpResponse {
    let Some(who) = ctx.citizen().cloned() else {
        return ctx.see_other("/accedi");
    };
    let r: AppResult<()> = async {
        let _turn = uploads()
            .acquire()
            .await
            .map_err(|_| AppError::Internal("uploads closed".into()))?;
        let up = read(mp, files::CASE_FILE_KIB as usize * 1024).await?;
        crate::auth::csrf::check(&req, &ctx.state.secrets, &ctx.state.sessions, &up.csrf)?;
        files::attach_to_case(
            &ctx.state,
            ctx.commune()?.id(),
            &who,
            &id,
            &up.name,
            &up.bytes,
        )
        .await?;
        Ok(())
    }
    .await;
    match r {
        Ok(()) => ctx.see_other(&format!("/area-personale/pratiche/{id}?allegato=1")),
        Err(AppError::Invalid(p)) => {
            redo_upload(&ctx, p);
            super::mine::case_again(&ctx, &id).await
        }
        Err(e) => ctx.respond(Err(e)),
    }
}

/// A refused upload: its page is drawn again with the words by the field (a multipart post has
/// no typed values to keep).
pub(crate) fn redo_upload(ctx: &Ctx, problems: sportello_kernel::Problems) {
    *ctx.redo.borrow_mut() = Some(crate::routes::redo::Redo {
        action: ctx.path.clone(),
        values: vec![],
        problems,
    });
}

/// The page of the form a field is on.
async fn page_of(ctx: &Ctx, place: &Place, field: &str) -> usize {
    let Ok(tx) = ctx.state.store.tenant_read(place.commune).await else {
        return 0;
    };
    let f = sportello_cases::forms::of_service(&tx.db(), &place.service)
        .await
        .ok()
        .flatten();
    tx.commit().await.ok();
    f.and_then(|f| {
        f.def
            .pages
            .iter()
            .position(|p| p.fields.iter().any(|x| x.id == field))
    })
    .unwrap_or(0)
}

pub async fn remove(
    ctx: Ctx,
    path: web::Path<(String, String)>,
    _form: Posted<crate::routes::posted::Button>,
) -> HttpResponse {
    let (service, file) = path.into_inner();
    match super::fill::signed_in(&ctx, &service) {
        Ok(place) => remove_at(&ctx, &place, &file).await,
        Err(to) => *to,
    }
}

/// Takes a file off the draft at `place`.
pub(crate) async fn remove_at(ctx: &Ctx, place: &Place, file: &str) -> HttpResponse {
    let r: AppResult<()> = async {
        files::remove(
            &ctx.state,
            place.commune,
            &place.filer,
            &place.service,
            file,
        )
        .await?;
        Ok(())
    }
    .await;
    match r {
        Ok(()) => ctx.see_other(&place.base),
        Err(e) => ctx.respond(Err(e)),
    }
}

/// A file as a download: its own name, its type, never rendered by the browser.
pub(crate) fn send(ctx: &Ctx, d: files::Download) -> HttpResponse {
    let ascii: String = d
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let utf8: String = url::form_urlencoded::byte_serialize(d.name.as_bytes())
        .collect::<String>()
        .replace('+', "%20");
    ctx.respond(Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, d.media_type))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{utf8}"),
        ))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(d.bytes)))
}

pub async fn citizen_download(ctx: Ctx, path: web::Path<(String, String)>) -> HttpResponse {
    let (case, file) = path.into_inner();
    let r: AppResult<files::Download> = async {
        let who = ctx.citizen().cloned().ok_or(AppError::NotFound)?;
        Ok(files::citizen_download(&ctx.state, ctx.commune()?.id(), &who, &case, &file).await?)
    }
    .await;
    match r {
        Ok(d) => send(&ctx, d),
        Err(e) => ctx.respond(Err(e)),
    }
}

pub async fn staff_download(
    ctx: Ctx,
    actor: Admitted,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (case, file) = path.into_inner();
    match files::staff_download(&ctx.state, &actor, &case, &file).await {
        Ok(d) => send(&ctx, d),
        Err(e) => ctx.respond(Err(e.into())),
    }
}
