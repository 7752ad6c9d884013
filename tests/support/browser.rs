//! A minimal browser for the sign-in tests: a cookie jar per host, manual redirects across the
//! app's hosts (commune hosts, the sign-in host: all served by the app on one port) and real
//! outside addresses (the identity providers).

use std::collections::HashMap;

use reqwest::StatusCode;

pub struct Browser {
    pub app: std::net::SocketAddr,
    jar: HashMap<String, HashMap<String, String>>,
    http: reqwest::Client,
    /// Every URL visited by the last `get`/`post` (after redirects).
    pub trail: Vec<String>,
}

pub struct Page {
    pub status: StatusCode,
    pub url: String,
    pub body: String,
    pub headers: reqwest::header::HeaderMap,
}

impl Page {
    /// The value of the hidden input `name` in the page's forms (first match).
    pub fn input(&self, name: &str) -> Option<String> {
        let pat = format!("name=\"{name}\" value=\"");
        let i = self.body.find(&pat)? + pat.len();
        let j = self.body[i..].find('"')? + i;
        Some(html_unescape(&self.body[i..j]))
    }

    /// The `action` of the first form.
    pub fn form_action(&self) -> Option<String> {
        let i = self.body.find("action=\"")? + 8;
        let j = self.body[i..].find('"')? + i;
        Some(html_unescape(&self.body[i..j]))
    }
}

pub fn html_unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#x2F;", "/")
        .replace("&amp;", "&")
}

impl Browser {
    pub fn new(app: std::net::SocketAddr) -> Browser {
        Browser {
            app,
            jar: HashMap::new(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            trail: vec![],
        }
    }

    /// A browser that also trusts this certificate authority (PEM).
    pub fn trusting(app: std::net::SocketAddr, ca_pem: &[u8]) -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .add_root_certificate(reqwest::Certificate::from_pem(ca_pem).expect("ca"))
                .build()
                .expect("client"),
            ..Browser::new(app)
        }
    }

    /// The same browser (its cookies) talking to another node of the deployment.
    pub fn on_node(&self, app: std::net::SocketAddr) -> Browser {
        Browser {
            app,
            jar: self.jar.clone(),
            http: self.http.clone(),
            trail: vec![],
        }
    }

    /// `http://<host>:<app port><path>`.
    pub fn url(&self, host: &str, path: &str) -> String {
        format!("http://{host}:{}{path}", self.app.port())
    }

    pub fn cookie(&self, host: &str, name: &str) -> Option<String> {
        self.jar.get(host)?.get(name).cloned()
    }

    /// The names of every cookie the browser holds, on any host.
    pub fn cookie_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.jar.values().flat_map(|j| j.keys().cloned()).collect();
        names.sort();
        names.dedup();
        names
    }

    pub fn set_cookie(&mut self, host: &str, name: &str, value: &str) {
        self.jar
            .entry(host.to_owned())
            .or_default()
            .insert(name.into(), value.into());
    }

    /// The `Cookie` header this browser sends to `host`.
    pub fn cookie_header(&self, host: &str) -> String {
        self.jar
            .get(host)
            .map(|c| {
                c.iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default()
    }

    /// The server this browser talks to.
    pub fn app(&self) -> std::net::SocketAddr {
        self.app
    }

    pub fn clear_cookies(&mut self, host: &str) {
        self.jar.remove(host);
    }

    fn split(url: &str) -> (String, u16, String) {
        let rest = url.split_once("://").map_or(url, |(_, r)| r);
        let (hostport, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => (h.to_owned(), p.parse().unwrap_or(80)),
            None => (hostport.to_owned(), 80),
        };
        (host, port, path.to_owned())
    }

    async fn send(
        &mut self,
        method: reqwest::Method,
        url: &str,
        form: Option<&[(&str, &str)]>,
        origin: Option<&str>,
    ) -> Page {
        let (host, port, path) = Self::split(url);
        // Every host on the app's port is the app (communes on their own domains included).
        let ours = port == self.app.port();
        let target = if ours {
            format!("http://{}{path}", self.app)
        } else {
            url.to_owned()
        };
        let mut req = self.http.request(method, target);
        if ours {
            req = req.header("host", format!("{host}:{port}"));
        }
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        if let Some(c) = self.jar.get(&host).filter(|c| !c.is_empty()) {
            let v: Vec<String> = c.iter().map(|(k, v)| format!("{k}={v}")).collect();
            req = req.header("cookie", v.join("; "));
        }
        if let Some(f) = form {
            req = req.form(f);
        }
        let res = req.send().await.unwrap_or_else(|e| panic!("{url}: {e}"));
        self.answer(&host, url, res).await
    }

    /// Keeps the answer's cookies; gives the page.
    async fn answer(&mut self, host: &str, url: &str, res: reqwest::Response) -> Page {
        let host = host.to_owned();
        for sc in res.headers().get_all("set-cookie") {
            let sc = sc.to_str().unwrap_or("");
            let first = sc.split(';').next().unwrap_or("");
            if let Some((k, v)) = first.split_once('=') {
                let removal = sc.to_ascii_lowercase().contains("max-age=0") || v.is_empty();
                let jar = self.jar.entry(host.clone()).or_default();
                if removal {
                    jar.remove(k.trim());
                } else {
                    jar.insert(k.trim().to_owned(), v.trim().to_owned());
                }
            }
        }
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.text().await.unwrap_or_default();
        Page {
            status,
            url: url.to_owned(),
            body,
            headers,
        }
    }

    /// POST `multipart/form-data` as a browser sends a file input's form (with the page's
    /// `Origin`): the text fields, then the file as `file` with its name. Not following redirects.
    pub async fn post_file(
        &mut self,
        url: &str,
        fields: &[(&str, &str)],
        name: &str,
        bytes: &[u8],
    ) -> Page {
        let (host, port, path) = Self::split(url);
        let boundary = "----sportello-test-boundary-7MA4YWxkTrZu0gW";
        let mut body = Vec::new();
        for (k, v) in fields {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                )
                .as_bytes(),
            );
        }
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
                 Content-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let mut req = self
            .http
            .post(format!("http://{}{path}", self.app))
            .header("host", format!("{host}:{port}"))
            .header("origin", format!("http://{host}:{port}"))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body);
        if let Some(c) = self.jar.get(&host).filter(|c| !c.is_empty()) {
            let v: Vec<String> = c.iter().map(|(k, v)| format!("{k}={v}")).collect();
            req = req.header("cookie", v.join("; "));
        }
        let res = req.send().await.unwrap_or_else(|e| panic!("{url}: {e}"));
        self.answer(&host, url, res).await
    }

    /// POST a form once (no redirect followed); `None` when the server did not answer (a node
    /// killed mid-request).
    pub async fn post_once(&mut self, url: &str, form: &[(&str, &str)]) -> Option<Page> {
        let (host, port, path) = Self::split(url);
        let mut req = self
            .http
            .post(format!("http://{}{path}", self.app))
            .header("host", format!("{host}:{port}"))
            .header("origin", format!("http://{host}:{port}"))
            .form(form);
        let cookies = self.cookie_header(&host);
        if !cookies.is_empty() {
            req = req.header("cookie", cookies);
        }
        let res = req.send().await.ok()?;
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.text().await.ok()?;
        Some(Page {
            status,
            url: url.to_owned(),
            body,
            headers,
        })
    }

    /// GET, following redirects (at most 20) across hosts.
    pub async fn get(&mut self, url: &str) -> Page {
        self.trail.clear();
        self.follow(reqwest::Method::GET, url, None, None).await
    }

    /// POST a form (with the page's `Origin`), following redirects.
    pub async fn post(&mut self, url: &str, form: &[(&str, &str)]) -> Page {
        self.trail.clear();
        let (host, port, _) = Self::split(url);
        let origin = format!("http://{host}:{port}");
        self.follow(reqwest::Method::POST, url, Some(form), Some(&origin))
            .await
    }

    /// POST from another site (an IdP's auto-submitted form): no `Origin` of ours.
    pub async fn post_cross_site(
        &mut self,
        url: &str,
        form: &[(&str, &str)],
        origin: &str,
    ) -> Page {
        self.trail.clear();
        self.follow(reqwest::Method::POST, url, Some(form), Some(origin))
            .await
    }

    async fn follow(
        &mut self,
        method: reqwest::Method,
        url: &str,
        form: Option<&[(&str, &str)]>,
        origin: Option<&str>,
    ) -> Page {
        let mut page = self.send(method, url, form, origin).await;
        self.trail.push(url.to_owned());
        for _ in 0..20 {
            if !page.status.is_redirection() {
                return page;
            }
            let loc = page
                .headers
                .get("location")
                .and_then(|l| l.to_str().ok())
                .unwrap_or("")
                .to_owned();
            // Relative to the page it came from (its scheme too).
            let next = url::Url::parse(&page.url)
                .and_then(|base| base.join(&loc))
                .map(String::from)
                .unwrap_or_else(|e| panic!("location {loc:?} from {}: {e}", page.url));
            self.trail.push(next.clone());
            page = self.send(reqwest::Method::GET, &next, None, None).await;
        }
        panic!("too many redirects: {:?}", self.trail);
    }

    /// GET without following redirects.
    pub async fn get_once(&mut self, url: &str) -> Page {
        self.send(reqwest::Method::GET, url, None, None).await
    }
}
