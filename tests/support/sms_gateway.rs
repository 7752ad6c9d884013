//! A real HTTP SMS gateway for the tests, speaking what the product's adapter speaks
//! (`sportello_notify::sms`): it records every request, answers with the errors a test asks
//! for (temporary for some numbers a few times, permanent for unknown numbers), honours
//! idempotency keys (a key seen again gets the same id and is counted, not delivered twice),
//! and calls the commune's delivery-report webhook.

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

/// One SMS the gateway took.
#[derive(Debug, Clone)]
pub struct Received {
    pub to: String,
    pub text: String,
    pub sender: String,
    pub reference: String,
    pub key: String,
    pub parts: Vec<String>,
    pub id: String,
    pub at: Instant,
}

#[derive(Default)]
struct State {
    token: String,
    received: Vec<Received>,
    /// Every request, refused ones too: (number, when).
    attempts: Vec<(String, Instant)>,
    ids: HashMap<String, String>,
    /// Requests repeating a key already delivered.
    repeats: u64,
    temporary: HashMap<String, u32>,
    delay: Duration,
    /// Requests being answered now (waiting out the delay).
    in_flight: usize,
}

pub struct SmsGateway {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    handle: actix_web::dev::ServerHandle,
}

/// Numbers ending so do not exist: the gateway says so (a permanent error).
pub const UNKNOWN_SUFFIX: &str = "0000000";

async fn send(
    req: HttpRequest,
    body: web::Json<serde_json::Value>,
    state: web::Data<Arc<Mutex<State>>>,
) -> HttpResponse {
    let delay = match state.lock() {
        Ok(mut s) => {
            s.in_flight += 1;
            s.delay
        }
        Err(_) => Duration::ZERO,
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let Ok(mut s) = state.lock() else {
        return HttpResponse::InternalServerError().finish();
    };
    s.in_flight = s.in_flight.saturating_sub(1);
    let header = |n: &str| {
        req.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let to = body["to"].as_str().unwrap_or("").to_owned();
    s.attempts.push((to.clone(), Instant::now()));
    if header("authorization") != format!("Bearer {}", s.token) {
        return HttpResponse::Unauthorized().json(serde_json::json!({"error": "bad credentials"}));
    }
    if to.ends_with(UNKNOWN_SUFFIX) {
        return HttpResponse::BadRequest().json(serde_json::json!({"error": "unknown number"}));
    }
    if let Some(n) = s.temporary.get_mut(&to)
        && *n > 0
    {
        *n -= 1;
        return HttpResponse::ServiceUnavailable().json(serde_json::json!({"error": "busy"}));
    }
    let key = header("idempotency-key");
    if let Some(id) = s.ids.get(&key).cloned() {
        s.repeats += 1;
        return HttpResponse::Ok().json(serde_json::json!({"id": id}));
    }
    let id = format!("gw-{}", s.received.len() + 1);
    s.ids.insert(key.clone(), id.clone());
    s.received.push(Received {
        to,
        text: body["text"].as_str().unwrap_or("").to_owned(),
        sender: body["sender"].as_str().unwrap_or("").to_owned(),
        reference: body["reference"].as_str().unwrap_or("").to_owned(),
        key,
        parts: body["parts"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|p| p.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
        id: id.clone(),
        at: Instant::now(),
    });
    HttpResponse::Ok().json(serde_json::json!({"id": id}))
}

impl SmsGateway {
    /// A gateway on a free port that accepts `Authorization: Bearer <token>`.
    pub async fn start(token: &str) -> SmsGateway {
        let state = Arc::new(Mutex::new(State {
            token: token.to_owned(),
            ..State::default()
        }));
        let data = web::Data::new(state.clone());
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/send", web::post().to(send))
        })
        .workers(2)
        .listen(listener)
        .expect("listen")
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        SmsGateway {
            addr,
            state,
            handle,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}/send", self.addr)
    }

    /// The next `times` requests for `number` get a 503.
    pub fn fail_temporarily(&self, number: &str, times: u32) {
        if let Ok(mut s) = self.state.lock() {
            s.temporary.insert(number.to_owned(), times);
        }
    }

    /// Each request waits this long before it is answered (a slow provider).
    pub fn slow_down(&self, delay: Duration) {
        if let Ok(mut s) = self.state.lock() {
            s.delay = delay;
        }
    }

    pub fn received(&self) -> Vec<Received> {
        self.state
            .lock()
            .map(|s| s.received.clone())
            .unwrap_or_default()
    }

    /// When each request for `number` came, refused ones too.
    pub fn attempts(&self, number: &str) -> Vec<Instant> {
        self.state
            .lock()
            .map(|s| {
                s.attempts
                    .iter()
                    .filter(|(n, _)| n == number)
                    .map(|(_, t)| *t)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// How many requests the gateway is answering right now.
    pub fn in_flight(&self) -> usize {
        self.state.lock().map(|s| s.in_flight).unwrap_or_default()
    }

    /// Requests that repeated a key the gateway had taken already.
    pub fn repeats(&self) -> u64 {
        self.state.lock().map(|s| s.repeats).unwrap_or_default()
    }

    /// Waits until `n` messages were taken (at most `secs` seconds).
    pub async fn wait_for(&self, n: usize, secs: u64) -> Vec<Received> {
        let end = Instant::now() + Duration::from_secs(secs);
        loop {
            let r = self.received();
            if r.len() >= n || Instant::now() > end {
                return r;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Calls a commune's delivery-report webhook as the gateway does.
    pub async fn report(
        &self,
        app: SocketAddr,
        host: &str,
        secret: &str,
        id: &str,
        status: &str,
    ) -> (reqwest::StatusCode, serde_json::Value) {
        let r = reqwest::Client::new()
            .post(format!("http://{app}/sms/esiti"))
            .header("host", format!("{host}:{}", app.port()))
            .bearer_auth(secret)
            .json(&serde_json::json!({"id": id, "status": status, "reason": "handset reached"}))
            .send()
            .await
            .expect("report");
        let status = r.status();
        (status, r.json().await.unwrap_or_default())
    }
}

impl Drop for SmsGateway {
    fn drop(&mut self) {
        let h = self.handle.clone();
        drop(h.stop(false));
    }
}
