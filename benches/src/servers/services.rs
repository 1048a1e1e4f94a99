//! The streaming service behind the benchmarks: the e2e test service's
//! shapes with the test hooks (tags, failures, records) left out, and
//! `NotifyMe` ticking on an interval, so that the backend does as little as
//! possible besides producing messages.

use std::pin::Pin;
use std::time::Duration;

use futures_util::{Stream, StreamExt};
use gateway_e2e::e2e::stream::v1::streaming_test_server::StreamingTest;
use gateway_e2e::e2e::stream::v1::{
    AddRequest, AddResponse, ChatMessage, GenerateRequest, GenerateResponse, TextMessage,
};
use tonic::{Request, Response, Status, Streaming};

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

/// The benchmark's `e2e.stream.v1.StreamingTest`.
#[derive(Debug, Default, Clone)]
pub struct BenchStreams;

#[tonic::async_trait]
impl StreamingTest for BenchStreams {
    /// Client stream: sums the values.
    async fn add(
        &self,
        request: Request<Streaming<AddRequest>>,
    ) -> Result<Response<AddResponse>, Status> {
        let mut stream = request.into_inner();
        let mut reply = AddResponse::default();
        while let Some(item) = stream.message().await? {
            reply.sum = reply.sum.wrapping_add(item.value);
            reply.count += 1;
        }
        Ok(Response::new(reply))
    }

    type GenerateStream = BoxStream<GenerateResponse>;

    /// Server stream: `count` small messages as fast as they are taken.
    async fn generate(
        &self,
        request: Request<GenerateRequest>,
    ) -> Result<Response<Self::GenerateStream>, Status> {
        let count = request.into_inner().count;
        let stream = futures_util::stream::iter((0..count).map(|i| {
            Ok(GenerateResponse {
                index: i,
                id: format!("c{i}"),
                kind: if i % 2 == 0 { "even" } else { "odd" }.into(),
                last_event_id: String::new(),
            })
        }));
        Ok(Response::new(Box::pin(stream)))
    }

    type BulkCapitalizeStream = BoxStream<TextMessage>;

    async fn bulk_capitalize(
        &self,
        request: Request<Streaming<TextMessage>>,
    ) -> Result<Response<Self::BulkCapitalizeStream>, Status> {
        let stream = request.into_inner().map(|item| {
            item.map(|m| TextMessage {
                text: m.text.to_uppercase(),
            })
        });
        Ok(Response::new(Box::pin(stream)))
    }

    type NotifyMeStream = BoxStream<TextMessage>;

    /// Server stream for the SSE fan-out: one message now, then one every
    /// `delay_ms`, forever.
    async fn notify_me(
        &self,
        request: Request<GenerateRequest>,
    ) -> Result<Response<Self::NotifyMeStream>, Status> {
        let delay = Duration::from_millis(request.into_inner().delay_ms.max(1) as u64);
        let mut interval = tokio::time::interval(delay);
        // A late tick is not made up for with a burst: the rate stays M/s.
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let stream = tokio_stream::wrappers::IntervalStream::new(interval)
            .enumerate()
            .map(|(seq, _)| {
                Ok(TextMessage {
                    text: format!("note {seq}"),
                })
            });
        Ok(Response::new(Box::pin(stream)))
    }

    type ChatStream = BoxStream<ChatMessage>;

    /// Bidi: every message straight back.
    async fn chat(
        &self,
        request: Request<Streaming<ChatMessage>>,
    ) -> Result<Response<Self::ChatStream>, Status> {
        Ok(Response::new(Box::pin(request.into_inner())))
    }

    type WhoAmIStream = BoxStream<TextMessage>;

    /// Not benchmarked.
    async fn who_am_i(
        &self,
        _request: Request<GenerateRequest>,
    ) -> Result<Response<Self::WhoAmIStream>, Status> {
        Err(Status::unimplemented("not benchmarked"))
    }
}
