//! A minimal browser for driving the sign-in pages from tests: a cookie
//! jar, no automatic redirects, and helpers that fill in the login form.

use std::collections::HashMap;
use std::sync::Mutex;

use anyhow::{Context, Result, bail};

pub struct Browser {
    http: reqwest::Client,
    cookies: Mutex<HashMap<String, String>>,
}

fn location(resp: &reqwest::Response) -> Option<String> {
    resp.headers().get(reqwest::header::LOCATION).and_then(|v| v.to_str().ok()).map(str::to_string)
}

/// The value of `<input name="NAME" value="...">` in a page.
pub fn hidden_input(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html.get(start..)?.find('"')? + start;
    Some(
        html.get(start..end)?
            .replace("&amp;", "&")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">"),
    )
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    pub fn new() -> Browser {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap_or_default();
        Browser { http, cookies: Mutex::new(HashMap::new()) }
    }

    fn cookie_header(&self) -> String {
        let jar = self.cookies.lock().map(|j| j.clone()).unwrap_or_default();
        jar.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    fn keep_cookies(&self, resp: &reqwest::Response) {
        let Ok(mut jar) = self.cookies.lock() else { return };
        for v in resp.headers().get_all(reqwest::header::SET_COOKIE) {
            let Ok(text) = v.to_str() else { continue };
            let Some((name, rest)) = text.split_once('=') else { continue };
            let value = rest.split(';').next().unwrap_or("");
            if text.contains("Max-Age=0") {
                jar.remove(name);
            } else {
                jar.insert(name.to_string(), value.to_string());
            }
        }
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.lock().ok()?.get(name).cloned()
    }

    pub fn forget_cookies(&self) {
        if let Ok(mut jar) = self.cookies.lock() {
            jar.clear();
        }
    }

    pub async fn get(&self, url: &str) -> Result<reqwest::Response> {
        let resp = self.http.get(url).header(reqwest::header::COOKIE, self.cookie_header()).send().await?;
        self.keep_cookies(&resp);
        Ok(resp)
    }

    pub async fn post_form(&self, url: &str, form: &[(&str, &str)]) -> Result<reqwest::Response> {
        let resp = self.http.post(url).header(reqwest::header::COOKIE, self.cookie_header()).form(form).send().await?;
        self.keep_cookies(&resp);
        Ok(resp)
    }

    /// Opens `auth_url`; if it leads to the login page, signs in; if it then
    /// leads to the consent page, allows. Returns the response that leaves
    /// Latchkey (a redirect to the client, a form_post page, or an error page).
    pub async fn authorize(&self, auth_url: &str, username: &str, password: &str) -> Result<reqwest::Response> {
        self.authorize_deciding(auth_url, username, password, "approve").await
    }

    /// [`Self::authorize`] with the consent decision given (`approve` or `deny`).
    pub async fn authorize_deciding(
        &self,
        auth_url: &str,
        username: &str,
        password: &str,
        decision: &str,
    ) -> Result<reqwest::Response> {
        let mut resp = self.get(auth_url).await?;
        if let Some(login) = location(&resp).filter(|l| l.contains("/login?tx=")) {
            let html = self.get(&login).await?.text().await?;
            let tx = hidden_input(&html, "tx").context("login page without tx")?;
            let csrf = hidden_input(&html, "csrf").context("login page without csrf")?;
            let post = login.split('?').next().unwrap_or(&login).to_string();
            resp = self
                .post_form(&post, &[("tx", &tx), ("csrf", &csrf), ("username", username), ("password", password)])
                .await?;
        }
        if let Some(consent) = location(&resp).filter(|l| l.contains("/consent?tx=")) {
            let html = self.get(&consent).await?.text().await?;
            let tx = hidden_input(&html, "tx").context("consent page without tx")?;
            let csrf = hidden_input(&html, "csrf").context("consent page without csrf")?;
            let post = consent.split('?').next().unwrap_or(&consent).to_string();
            resp = self.post_form(&post, &[("tx", &tx), ("csrf", &csrf), ("decision", decision)]).await?;
        }
        Ok(resp)
    }

    /// [`Self::authorize`], expecting a redirect back to the client; returns
    /// the redirect's query parameters.
    pub async fn authorize_to_redirect(
        &self,
        auth_url: &str,
        username: &str,
        password: &str,
    ) -> Result<HashMap<String, String>> {
        let resp = self.authorize(auth_url, username, password).await?;
        let Some(location) =
            resp.headers().get(reqwest::header::LOCATION).and_then(|v| v.to_str().ok()).map(str::to_string)
        else {
            bail!("no redirect: {} {}", resp.status(), resp.text().await.unwrap_or_default());
        };
        let url = url::Url::parse(&location)?;
        Ok(url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
    }
}

/// The HTTP client openidconnect needs, over reqwest 0.13:
/// `let http = |r| latchkey_testkit::browser::oidc_send(&client, r);`
pub async fn oidc_send(
    client: &reqwest::Client,
    request: openidconnect::HttpRequest,
) -> Result<openidconnect::HttpResponse, std::io::Error> {
    let (parts, body) = request.into_parts();
    let resp = client
        .request(parts.method, parts.uri.to_string())
        .headers(parts.headers)
        .body(body)
        .send()
        .await
        .map_err(std::io::Error::other)?;
    let mut builder = http::Response::builder().status(resp.status());
    for (k, v) in resp.headers() {
        builder = builder.header(k, v);
    }
    let bytes = resp.bytes().await.map_err(std::io::Error::other)?;
    builder.body(bytes.to_vec()).map_err(std::io::Error::other)
}
