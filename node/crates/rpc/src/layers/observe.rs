//! Observe: matches the route once (the handler dispatches on it), tags the request with
//! [`RequestInfo`], and records metrics and a log line for the response.

use super::{BoxFuture, RequestInfo};
use crate::context::RpcContext;
use crate::response::Resp;
use aitbc_primitives::StateMachine;
use hyper::body::Incoming;
use hyper::Request;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;
use tower::{Layer, Service};

/// Resolves the route, tags the request with [`RequestInfo`], and records metrics and a log line
/// for the response (whichever layer produced it).
pub(crate) struct ObserveLayer<S: StateMachine> {
    ctx: Arc<RpcContext<S>>,
    peer: SocketAddr,
    access_log: bool,
}

impl<S: StateMachine> Clone for ObserveLayer<S> {
    fn clone(&self) -> Self {
        ObserveLayer {
            ctx: self.ctx.clone(),
            peer: self.peer,
            access_log: self.access_log,
        }
    }
}

impl<S: StateMachine> ObserveLayer<S> {
    pub fn new(ctx: Arc<RpcContext<S>>, peer: SocketAddr, access_log: bool) -> Self {
        ObserveLayer {
            ctx,
            peer,
            access_log,
        }
    }
}

impl<S: StateMachine, I> Layer<I> for ObserveLayer<S> {
    type Service = Observe<S, I>;
    fn layer(&self, inner: I) -> Self::Service {
        Observe {
            layer: self.clone(),
            inner,
        }
    }
}

pub(crate) struct Observe<S: StateMachine, I> {
    layer: ObserveLayer<S>,
    inner: I,
}

impl<S: StateMachine, I: Clone> Clone for Observe<S, I> {
    fn clone(&self) -> Self {
        Observe {
            layer: self.layer.clone(),
            inner: self.inner.clone(),
        }
    }
}

impl<S, I> Service<Request<Incoming>> for Observe<S, I>
where
    S: StateMachine,
    I: Service<Request<Incoming>, Response = Resp, Error = Infallible>,
    I::Future: Send + 'static,
{
    type Response = Resp;
    type Error = Infallible;
    type Future = BoxFuture<Infallible>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<Incoming>) -> Self::Future {
        let started = Instant::now();
        let route = self
            .layer
            .ctx
            .router
            .resolve(req.method(), req.uri().path());
        let name = route.as_ref().map_or("unknown", |r| r.name);
        let peer = self.layer.peer;
        req.extensions_mut().insert(RequestInfo { peer, route });
        let access = self
            .layer
            .access_log
            .then(|| (req.method().clone(), req.uri().path().to_string()));
        let ctx = self.layer.ctx.clone();
        let fut = self.inner.call(req);
        Box::pin(async move {
            let resp = fut.await?;
            let status = resp.status().as_u16();
            let took = started.elapsed();
            ctx.client.metrics().rpc_request(name, status, took);
            match access {
                Some((method, path)) => tracing::info!(
                    target: "rpc::access",
                    %peer, %method, path, status, micros = took.as_micros() as u64, "request"
                ),
                None => tracing::trace!(target: "rpc", %peer, route = name, status, "request"),
            }
            Ok(resp)
        })
    }
}
