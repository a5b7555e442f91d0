//! Body limit: 413 `body_too_large` at once for a declared `Content-Length` above the cap;
//! a chunked body is cut off at the cap (the handler answers 413 too).

use super::{take, BoxFuture};
use crate::response::{closing_error_response, too_large, LimitedRequest, Resp};
use http_body_util::Limited;
use hyper::body::Incoming;
use hyper::header::CONTENT_LENGTH;
use hyper::Request;
use std::convert::Infallible;
use std::task::{Context, Poll};
use tower::{Layer, Service, ServiceExt};

/// 413 at once for a declared `Content-Length` above the cap; otherwise the body is wrapped in
/// [`Limited`], which fails once more than the cap arrives (the handler answers 413).
#[derive(Clone, Copy)]
pub(crate) struct BodyLimitLayer(usize);

impl BodyLimitLayer {
    pub fn new(max: usize) -> Self {
        BodyLimitLayer(max)
    }
}

impl<I> Layer<I> for BodyLimitLayer {
    type Service = BodyLimit<I>;
    fn layer(&self, inner: I) -> Self::Service {
        BodyLimit { max: self.0, inner }
    }
}

#[derive(Clone)]
pub(crate) struct BodyLimit<I> {
    max: usize,
    inner: I,
}

impl<I> Service<Request<Incoming>> for BodyLimit<I>
where
    I: Service<LimitedRequest, Response = Resp, Error = Infallible> + Clone + Send + 'static,
    I::Future: Send + 'static,
{
    type Response = Resp;
    type Error = Infallible;
    type Future = BoxFuture<Infallible>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Incoming>) -> Self::Future {
        let declared = req
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > self.max as u64) {
            let resp = closing_error_response(&too_large(self.max));
            return Box::pin(std::future::ready(Ok(resp)));
        }
        let max = self.max;
        Box::pin(take(&mut self.inner).oneshot(req.map(|b| Limited::new(b, max))))
    }
}
