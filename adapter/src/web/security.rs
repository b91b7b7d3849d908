//! Who may talk to the server: requests carrying the URL's token (query `token=` or the
//! cookie the page sets, which the page's module imports carry) and naming a loopback Host.
//! A non-loopback Host means DNS rebinding; a missing token means another local page or user.

use axum::http::{header, HeaderMap, Uri};

pub fn new_token() -> anyhow::Result<String> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| anyhow::anyhow!("no randomness for the URL token: {e}"))?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

pub fn cookie_name(port: u16) -> String {
    // Cookies are per host, not per port: one name per server so two servers don't clash.
    format!("ember_token_{port}")
}

/// The Host header must be a loopback name with this server's port.
pub fn host_ok(headers: &HeaderMap, port: u16) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let host = host.to_ascii_lowercase();
    ["127.0.0.1", "localhost", "[::1]"].iter().any(|name| host == format!("{name}:{port}"))
}

pub fn token_ok(uri: &Uri, headers: &HeaderMap, token: &str, port: u16) -> bool {
    let from_query = uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter_map(|kv| kv.strip_prefix("token="))
        .any(|t| eq(t, token));
    if from_query {
        return true;
    }
    let name = cookie_name(port);
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).any(|v| {
        v.split(';').filter_map(|kv| kv.trim().strip_prefix(name.as_str())?.strip_prefix('=')).any(|t| eq(t, token))
    })
}

/// Constant-time comparison, so the token cannot be guessed byte by byte from timings.
fn eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(host: &str, cookie: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_str(host).unwrap());
        if let Some(c) = cookie {
            h.insert(header::COOKIE, HeaderValue::from_str(c).unwrap());
        }
        h
    }

    #[test]
    fn host_must_be_loopback_with_port() {
        assert!(host_ok(&headers("127.0.0.1:8000", None), 8000));
        assert!(host_ok(&headers("LOCALHOST:8000", None), 8000));
        assert!(host_ok(&headers("[::1]:8000", None), 8000));
        assert!(!host_ok(&headers("127.0.0.1:8001", None), 8000));
        assert!(!host_ok(&headers("evil.example:8000", None), 8000));
        assert!(!host_ok(&headers("127.0.0.1", None), 8000));
        assert!(!host_ok(&HeaderMap::new(), 8000));
    }

    #[test]
    fn token_from_query_or_cookie() {
        let h = headers("127.0.0.1:1", None);
        assert!(token_ok(&"/x?a=1&token=abc".parse().unwrap(), &h, "abc", 1));
        assert!(!token_ok(&"/x?token=abd".parse().unwrap(), &h, "abc", 1));
        assert!(!token_ok(&"/x?token=ab".parse().unwrap(), &h, "abc", 1));
        assert!(!token_ok(&"/x".parse().unwrap(), &h, "abc", 1));
        let c = headers("127.0.0.1:1", Some("other=1; ember_token_1=abc"));
        assert!(token_ok(&"/x".parse().unwrap(), &c, "abc", 1));
        let wrong_port = headers("127.0.0.1:1", Some("ember_token_2=abc"));
        assert!(!token_ok(&"/x".parse().unwrap(), &wrong_port, "abc", 1));
        assert_eq!(new_token().unwrap().len(), 32);
        assert_ne!(new_token().unwrap(), new_token().unwrap());
    }
}
