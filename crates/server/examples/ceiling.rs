//! The benchmark's ceiling: a bare actix-web handler returning a constant page of the size of a
//! service card, with the same worker count as `sportello serve`. Usage: `ceiling <addr> <bytes>`.

use actix_web::{App, HttpResponse, HttpServer, web};

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:8091".into());
    let size: usize = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(16 * 1024);
    let page: &'static str = Box::leak(
        format!("<!doctype html><title>x</title><p>{}</p>", "x".repeat(size)).into_boxed_str(),
    );
    println!("ceiling listening on http://{addr}");
    HttpServer::new(move || {
        App::new().route(
            "/",
            web::get().to(move || async move {
                HttpResponse::Ok()
                    .content_type("text/html; charset=utf-8")
                    .body(page)
            }),
        )
    })
    .bind(addr)?
    .run()
    .await
}
