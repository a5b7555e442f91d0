//! The responses every part of the server builds: JSON, raw bytes, and the JSON error body of
//! an [`ApiError`] (`{"error":{"code","message"}}`).

use crate::error::ApiError;
use http_body_util::{Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, CACHE_CONTROL, CONNECTION, CONTENT_TYPE, LOCATION};
use hyper::{Request, Response};

/// Every response of the server.
pub(crate) type Resp = Response<Full<Bytes>>;
/// A request after the body limit.
pub(crate) type LimitedRequest = Request<Limited<Incoming>>;

/// A JSON response.
pub(crate) fn json_response(status: u16, body: &serde_json::Value) -> Resp {
    bytes_response(status, "application/json", Bytes::from(body.to_string()))
}

/// A response with a body of some content type.
pub(crate) fn bytes_response(status: u16, content_type: &'static str, body: Bytes) -> Resp {
    let mut resp = Response::new(Full::new(body));
    *resp.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

/// An explorer page: its status, type and body, a redirect's `Location`, and whether it may be
/// cached (embedded assets) or not (pages show the chain's latest state).
pub(crate) fn page_response(page: aitbc_explorer::Page) -> Resp {
    let mut resp = bytes_response(page.status, page.content_type, Bytes::from(page.body));
    let headers = resp.headers_mut();
    if let Some(location) = page.location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        headers.insert(LOCATION, location);
    }
    let cache = if page.cacheable {
        "public, max-age=300"
    } else {
        "no-store"
    };
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    resp
}

/// The JSON error response of an [`ApiError`].
pub(crate) fn error_response(e: &ApiError) -> Resp {
    json_response(e.status, &e.body())
}

/// An error response after which the connection is closed (its request body was not read).
pub(crate) fn closing_error_response(e: &ApiError) -> Resp {
    let mut resp = error_response(e);
    resp.headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    resp
}

/// The 413 error for a cap of `max` bytes.
pub(crate) fn too_large(max: usize) -> ApiError {
    ApiError::new(
        413,
        "body_too_large",
        format!("request body exceeds {max} bytes"),
    )
}
