//! The session cookies: host-only, `Path=/`, HttpOnly, SameSite=Lax, `Secure` with the
//! `__Host-` prefix everywhere but plain-http development. Sessions themselves live in
//! `sportello_kernel::session`; only their cookies are HTTP.

use actix_web::cookie::{Cookie, SameSite};
use sportello_kernel::session::Sessions;

pub trait SessionCookies {
    /// A technical cookie for `name`.
    fn cookie(&self, name: &str, value: String) -> Cookie<'static>;
    /// A cookie that deletes `name`.
    fn removal(&self, name: &str) -> Cookie<'static>;
}

impl SessionCookies for Sessions {
    fn cookie(&self, name: &str, value: String) -> Cookie<'static> {
        Cookie::build(name.to_owned(), value)
            .path("/")
            .http_only(true)
            .secure(self.secure_cookies)
            .same_site(SameSite::Lax)
            .finish()
    }

    fn removal(&self, name: &str) -> Cookie<'static> {
        let mut c = self.cookie(name, String::new());
        c.make_removal();
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sportello_kernel::session::{Kind, Lifetimes};

    fn sessions(secure: bool) -> Sessions {
        Sessions::new(
            Lifetimes {
                idle: 1800,
                absolute: 8 * 3600,
                staff_idle: 900,
            },
            secure,
        )
    }

    #[test]
    fn over_https_cookies_are_host_prefixed_and_secure() {
        let s = sessions(true);
        for kind in [Kind::Sso, Kind::Citizen, Kind::Staff] {
            let name = s.cookie_name(kind);
            assert!(name.starts_with("__Host-"), "{name}");
            let c = s.cookie(name, "x".into()).to_string();
            assert!(c.contains("Secure"), "{c}");
            assert!(
                c.contains("HttpOnly") && c.contains("SameSite=Lax") && c.contains("Path=/"),
                "{c}"
            );
            assert!(!c.contains("Domain"), "host-only: {c}");
        }
    }

    #[test]
    fn plain_http_development_drops_the_prefix_and_secure() {
        let s = sessions(false);
        let name = s.cookie_name(Kind::Citizen);
        assert_eq!(name, "sportello_sid");
        let c = s.cookie(name, "x".into()).to_string();
        assert!(!c.contains("Secure") && c.contains("HttpOnly"), "{c}");
        let gone = s.removal(name).to_string();
        assert!(gone.contains("Max-Age=0"), "{gone}");
    }
}
