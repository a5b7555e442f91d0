//! Layer errors to JSON: a timeout is 408 `timeout` (and the connection is closed), load
//! shedding 503 `overloaded`, anything else 500.

use super::BoxFuture;
use crate::error::ApiError;
use crate::response::{closing_error_response, error_response, Resp};
use hyper::Request;
use std::convert::Infallible;
use std::task::{Context, Poll};
use tower::{BoxError, Layer, Service};

/// Turns the errors of tower's layers into JSON answers: a timeout is 408 `timeout` (and the
/// connection is closed), load shedding 503 `overloaded`, anything else 500.
#[derive(Clone, Copy)]
pub(crate) struct JsonErrorLayer;

impl<I> Layer<I> for JsonErrorLayer {
    type Service = JsonError<I>;
    fn layer(&self, inner: I) -> Self::Service {
        JsonError(inner)
    }
}

#[derive(Clone)]
pub(crate) struct JsonError<I>(I);

/// The JSON answer for a layer error.
pub(crate) fn layer_error_response(e: &BoxError) -> Resp {
    if e.is::<tower::timeout::error::Elapsed>() {
        closing_error_response(&ApiError::new(408, "timeout", "request timed out"))
    } else if e.is::<tower::load_shed::error::Overloaded>() {
        error_response(&ApiError::new(
            503,
            "overloaded",
            "too many concurrent requests",
        ))
    } else {
        tracing::error!(target: "rpc", error = %e, "request failed");
        error_response(&ApiError::internal(e))
    }
}

impl<B, I> Service<Request<B>> for JsonError<I>
where
    I: Service<Request<B>, Response = Resp, Error = BoxError>,
    I::Future: Send + 'static,
{
    type Response = Resp;
    type Error = Infallible;
    type Future = BoxFuture<Infallible>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // Timeout and load shedding are always ready; an error here would be a bug, answered
        // per request below.
        match self.0.poll_ready(cx) {
            Poll::Ready(_) => Poll::Ready(Ok(())),
            Poll::Pending => Poll::Pending,
        }
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let fut = self.0.call(req);
        Box::pin(async move { Ok(fut.await.unwrap_or_else(|e| layer_error_response(&e))) })
    }
}
