//! The benchmark's ceiling: a bare actix-web server answering with exactly the bytes Sportello
//! answered (read from files: the same body, the same content type), with the same worker count
//! as `sportello serve`. Usage: `ceiling <addr> <file>:<content type>…`; the n-th file is served
//! at `/<n>` (from 0).

use actix_web::web::Bytes;
use actix_web::{App, HttpResponse, HttpServer, web};

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:8091".into());
    let mut bodies: Vec<(Bytes, String)> = Vec::new();
    for arg in args {
        let (file, content_type) = arg
            .rsplit_once(':')
            .unwrap_or((arg.as_str(), "text/html; charset=utf-8"));
        bodies.push((Bytes::from(std::fs::read(file)?), content_type.to_owned()));
    }
    println!("ceiling listening on http://{addr}");
    HttpServer::new(move || {
        let mut app = App::new();
        for (i, (body, content_type)) in bodies.iter().enumerate() {
            let (body, content_type) = (body.clone(), content_type.clone());
            app = app.route(
                &format!("/{i}"),
                web::get().to(move || {
                    let (body, content_type) = (body.clone(), content_type.clone());
                    async move { HttpResponse::Ok().content_type(content_type).body(body) }
                }),
            );
        }
        app
    })
    .bind(addr)?
    .run()
    .await
}
