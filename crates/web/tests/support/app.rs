//! The example region behind the router, with one account for each role (and a second trust's
//! lead and a second ward's user), and the requests a browser or a script makes: shared by the
//! route matrix (`routes.rs`) and the QI tests (`qi.rs`). The including file declares `common`
//! (the ingest tests' database helpers).
#![allow(dead_code)]

use super::common::{TestDb, import_all_examples, key};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use domain::access::{Grant, Role};
use http_body_util::BodyExt;
use tower::ServiceExt;

pub const PASSWORD: &str = "correct horse battery";

pub struct App {
    pub router: Router,
    pub state: web::AppState,
    pub db_name: &'static str,
    pub store: store::Store,
}

pub struct Resp {
    pub status: StatusCode,
    pub location: String,
    pub cookie: Option<String>,
    pub body: String,
}

impl Resp {
    /// The token of an upload's "Check before importing" page, which `/uploads/confirm` takes.
    pub fn upload_token(&self) -> String {
        self.body
            .split("name=\"token\" value=\"")
            .nth(1)
            .unwrap_or_else(|| panic!("no upload token on the page: {}", self.body))
            .split('"')
            .next()
            .unwrap_or_default()
            .to_string()
    }
}

impl App {
    pub async fn new(db: TestDb) -> App {
        let mut keys = key();
        import_all_examples(&db, &mut keys).await;
        let users = [
            ("admin", Role::ProgrammeAdmin, None, None),
            ("viewer", Role::ProgrammeViewer, None, None),
            ("lead", Role::TrustLead, Some("R8A"), None),
            ("ward", Role::WardUser, Some("R8A"), Some("R8A-ASH")),
            ("uploader", Role::Uploader, Some("R8A"), None),
            ("lead_b", Role::TrustLead, Some("R8B"), None),
            ("birch", Role::WardUser, Some("R8A"), Some("R8A-BIRCH")),
        ];
        for (name, role, trust, ward) in users {
            let g = Grant::new(role, trust.map(Into::into), ward.map(Into::into)).unwrap();
            db.store.create_user(name, PASSWORD, &g).await.unwrap();
        }
        let config = web::Config {
            data_dir: db.dir.clone(),
            ..web::Config::default()
        };
        let state = web::AppState::new(db.store.clone(), keys, config)
            .await
            .unwrap();
        App {
            router: web::router(state.clone()),
            state,
            db_name: db.name,
            store: db.store.clone(),
        }
    }

    /// A GET with `Authorization: Bearer TOKEN` and no cookie.
    pub async fn get_bearer(&self, path: &str, token: &str) -> Resp {
        let req = Request::get(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        self.send(req).await
    }

    /// A same-site form post with `Authorization: Bearer TOKEN` and no cookie.
    pub async fn post_bearer(&self, path: &str, token: &str, form: &str) -> Resp {
        let req = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "same-origin")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::from(form.to_string()))
            .unwrap();
        self.send(req).await
    }

    /// Make a personal API token on the tokens page, as the page shows it (once).
    pub async fn make_token(&self, cookie: &str, label: &str) -> String {
        let r = self
            .post_form(
                "/account/tokens",
                Some(cookie),
                &format!("label={label}&days=30"),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r.body
            .split("readonly value=\"")
            .nth(1)
            .and_then(|t| t.split('"').next())
            .expect("the new token on the page")
            .to_string()
    }

    pub async fn send(&self, req: Request<Body>) -> Resp {
        let r = self.router.clone().oneshot(req).await.unwrap();
        let status = r.status();
        let location = r
            .headers()
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let cookie = r
            .headers()
            .get(header::SET_COOKIE)
            .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string());
        let bytes = r.into_body().collect().await.unwrap().to_bytes();
        Resp {
            status,
            location,
            cookie,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn get(&self, path: &str, cookie: Option<&str>) -> Resp {
        let mut b = Request::get(path);
        if let Some(c) = cookie {
            b = b.header(header::COOKIE, c);
        }
        self.send(b.body(Body::empty()).unwrap()).await
    }

    pub async fn post_form(&self, path: &str, cookie: Option<&str>, form: &str) -> Resp {
        let mut b = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "same-origin");
        if let Some(c) = cookie {
            b = b.header(header::COOKIE, c);
        }
        self.send(b.body(Body::from(form.to_string())).unwrap())
            .await
    }

    pub async fn post_file(&self, cookie: &str, kind: &str, name: &str, bytes: &[u8]) -> Resp {
        self.post_multipart(
            "/uploads",
            cookie,
            &[("kind", kind), ("mapping", "")],
            name,
            bytes,
        )
        .await
    }

    /// A multipart form as a browser sends it: text `fields`, then the file `name` in `file`.
    pub async fn post_multipart(
        &self,
        path: &str,
        cookie: &str,
        fields: &[(&str, &str)],
        name: &str,
        bytes: &[u8],
    ) -> Resp {
        let boundary = "XyZmhsipBoundary";
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
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: text/csv\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let req = Request::post(path)
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .header("sec-fetch-site", "same-origin")
            .header(header::COOKIE, cookie)
            .body(Body::from(body))
            .unwrap();
        self.send(req).await
    }

    pub async fn login(&self, name: &str) -> String {
        let r = self
            .post_form(
                "/login",
                None,
                &format!("username={name}&password=correct+horse+battery&next=/"),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::SEE_OTHER,
            "{}: login {name}: {}",
            self.db_name,
            r.body
        );
        r.cookie.expect("a session cookie")
    }
}
