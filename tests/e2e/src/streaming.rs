//! The streaming test service: the Go project's shapes, a stream that fails
//! on request, and one that never ends and records when it is cancelled.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use futures_util::{Stream, StreamExt};
use tonic::{Request, Response, Status, Streaming};

use crate::e2e::stream::v1::streaming_test_server::StreamingTest;
use crate::e2e::stream::v1::{
    AddRequest, AddResponse, ChatMessage, GenerateRequest, GenerateResponse, TextMessage,
};

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

/// What happened to tagged streams: messages produced, and whether the
/// stream was dropped (the call cancelled or finished).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct StreamRecord {
    /// Messages handed to tonic so far.
    pub produced: u64,
    /// Whether the stream has been dropped.
    pub dropped: bool,
}

fn records() -> &'static Mutex<HashMap<String, StreamRecord>> {
    static RECORDS: OnceLock<Mutex<HashMap<String, StreamRecord>>> = OnceLock::new();
    RECORDS.get_or_init(Default::default)
}

/// The record of the stream started with `tag`.
pub fn record(tag: &str) -> Option<StreamRecord> {
    records().lock().unwrap().get(tag).copied()
}

pub(crate) fn update(tag: &str, f: impl FnOnce(&mut StreamRecord)) {
    if !tag.is_empty() {
        f(records()
            .lock()
            .unwrap()
            .entry(tag.to_string())
            .or_default());
    }
}

/// Marks the tagged record dropped when the stream goes away.
pub(crate) struct DropGuard(pub(crate) String);

impl Drop for DropGuard {
    fn drop(&mut self) {
        update(&self.0, |r| r.dropped = true);
    }
}

/// The streaming service.
#[derive(Debug, Default, Clone)]
pub struct Streams;

#[tonic::async_trait]
impl StreamingTest for Streams {
    async fn add(
        &self,
        request: Request<Streaming<AddRequest>>,
    ) -> Result<Response<AddResponse>, Status> {
        // Who the caller's auth layer said it is (request extensions),
        // echoed as response metadata.
        let caller = request
            .extensions()
            .get::<crate::Caller>()
            .and_then(|caller| caller.0.parse().ok());
        let mut stream = request.into_inner();
        let mut reply = AddResponse::default();
        while let Some(item) = stream.message().await? {
            if item.value < 0 {
                return Err(Status::invalid_argument(format!(
                    "negative value {}",
                    item.value
                )));
            }
            reply.sum += item.value;
            reply.count += 1;
        }
        let mut response = Response::new(reply);
        if let Some(caller) = caller {
            response.metadata_mut().insert("x-caller-extension", caller);
        }
        Ok(response)
    }

    type GenerateStream = BoxStream<GenerateResponse>;

    async fn generate(
        &self,
        request: Request<GenerateRequest>,
    ) -> Result<Response<Self::GenerateStream>, Status> {
        let last_event_id = request
            .metadata()
            .get("last-event-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let request = request.into_inner();
        let code = tonic::Code::from_i32(request.fail_code);
        update(&request.tag, |r| *r = StreamRecord::default());
        let guard = Arc::new(DropGuard(request.tag.clone()));
        let stream = futures_util::stream::unfold(0, move |i| {
            let (request, last_event_id, guard) =
                (request.clone(), last_event_id.clone(), guard.clone());
            async move {
                let _guard = guard;
                if request.fail_after == -1 && i == 0 {
                    return Some((
                        Err(Status::new(code, "failed before the first message")),
                        i + 1,
                    ));
                }
                if i >= request.count {
                    return None;
                }
                if request.fail_after > 0 && i == request.fail_after {
                    return Some((
                        Err(Status::new(code, format!("failed after {i} messages"))),
                        request.count,
                    ));
                }
                if request.delay_ms > 0 {
                    tokio::time::sleep(Duration::from_millis(request.delay_ms as u64)).await;
                }
                update(&request.tag, |r| r.produced += 1);
                let reply = GenerateResponse {
                    index: i,
                    id: format!("c{i}"),
                    kind: if i % 2 == 0 {
                        "even".into()
                    } else {
                        "odd".into()
                    },
                    last_event_id,
                };
                Some((Ok(reply), i + 1))
            }
        });
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

    async fn notify_me(
        &self,
        request: Request<GenerateRequest>,
    ) -> Result<Response<Self::NotifyMeStream>, Status> {
        let request = request.into_inner();
        let delay = Duration::from_millis(if request.delay_ms > 0 {
            request.delay_ms as u64
        } else {
            1000
        });
        update(&request.tag, |r| *r = StreamRecord::default());
        let guard = Arc::new(DropGuard(request.tag.clone()));
        let tag = request.tag.clone();
        let stream = futures_util::stream::unfold(0u64, move |seq| {
            let (guard, tag) = (guard.clone(), tag.clone());
            async move {
                let _guard = guard;
                if seq > 0 {
                    tokio::time::sleep(delay).await;
                }
                update(&tag, |r| r.produced += 1);
                Some((
                    Ok(TextMessage {
                        text: format!("note {seq}\nsecond line"),
                    }),
                    seq + 1,
                ))
            }
        });
        Ok(Response::new(Box::pin(stream)))
    }

    type ChatStream = BoxStream<ChatMessage>;

    async fn chat(
        &self,
        request: Request<Streaming<ChatMessage>>,
    ) -> Result<Response<Self::ChatStream>, Status> {
        if request
            .metadata()
            .get("authorization")
            .is_some_and(|v| v == "Bearer wrong")
        {
            return Err(Status::unauthenticated("token refused"));
        }
        let stream = request.into_inner().map(|item| {
            let m = item?;
            if m.text == "fail" {
                return Err(Status::failed_precondition("you asked for it"));
            }
            Ok(ChatMessage {
                user: "bot".into(),
                text: format!("echo: {}", m.text),
            })
        });
        Ok(Response::new(Box::pin(stream)))
    }

    type WhoAmIStream = BoxStream<TextMessage>;

    async fn who_am_i(
        &self,
        request: Request<GenerateRequest>,
    ) -> Result<Response<Self::WhoAmIStream>, Status> {
        let extension = match request.extensions().get::<crate::Caller>() {
            Some(caller) => format!("extension: {}", caller.0),
            None => "extension: none".to_owned(),
        };
        let metadata = match request.metadata().get("x-caller") {
            Some(value) => format!("metadata: {}", value.to_str().unwrap_or("?")),
            None => "metadata: none".to_owned(),
        };
        let mut lines = vec![extension, metadata];
        // Credentials, as a service's auth check sees them.
        let authorization = request.metadata().get("authorization");
        let cookie = request.metadata().get("grpcgateway-cookie");
        for (name, value) in [("authorization", authorization), ("cookie", cookie)] {
            let Some(value) = value.and_then(|v| v.to_str().ok()) else {
                continue;
            };
            if value == "Bearer wrong" || value == "session=expired" {
                return Err(Status::unauthenticated(format!("{name} refused")));
            }
            lines.push(format!("{name}: {value}"));
        }
        let messages: Vec<_> = lines
            .into_iter()
            .map(|text| Ok(TextMessage { text }))
            .collect();
        let mut response =
            Response::new(Box::pin(futures_util::stream::iter(messages)) as Self::WhoAmIStream);
        response
            .metadata_mut()
            .insert("x-session", "renewed".parse().unwrap());
        Ok(response)
    }
}
