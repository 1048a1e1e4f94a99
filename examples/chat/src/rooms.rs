//! The chat service: rooms in memory, each keeping its last messages (for
//! replay and `GetRoom`) and broadcasting new ones to every listener.

use std::collections::{HashMap, VecDeque};
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use futures_util::{Stream, StreamExt};
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::{BroadcastStream, ReceiverStream};
use tonic::{Request, Response, Status, Streaming};

use crate::pb::chat::v1::chat_service_server::ChatService;
use crate::pb::chat::v1::{
    ChatMessage, GetRoomRequest, PostMessageRequest, Room, SubscribeRequest, UploadSummary,
};

/// Messages a room keeps for replay (`since`, `Last-Event-ID`).
const KEPT: usize = 100;
/// Messages `GetRoom` returns.
const RECENT: usize = 20;
/// Messages a listener may fall behind before it skips some: a slow reader
/// must not hold up the room (it can catch up with `since`).
const LIVE_BUFFER: usize = 256;
/// Longest message text, in characters.
const MAX_TEXT: usize = 500;

/// The chat service. Cheap to clone: clones share the rooms, so the gRPC
/// server and the gateway's in-process client see the same messages.
#[derive(Debug, Clone, Default)]
pub struct ChatRooms {
    rooms: Arc<Mutex<HashMap<String, RoomState>>>,
}

/// One room. Rooms are created on first use and live as long as the
/// process (this is an example, not a product).
#[derive(Debug)]
struct RoomState {
    next_id: u64,
    kept: VecDeque<ChatMessage>,
    live: broadcast::Sender<ChatMessage>,
}

impl RoomState {
    fn new() -> Self {
        RoomState {
            next_id: 1,
            kept: VecDeque::with_capacity(KEPT),
            live: broadcast::channel(LIVE_BUFFER).0,
        }
    }
}

type ResponseStream = Pin<Box<dyn Stream<Item = Result<ChatMessage, Status>> + Send + 'static>>;

impl ChatRooms {
    fn with_room<R>(&self, room: &str, f: impl FnOnce(&mut RoomState) -> R) -> Result<R, Status> {
        if room.is_empty() {
            return Err(Status::invalid_argument("room is required"));
        }
        let mut rooms = self.rooms.lock().unwrap_or_else(|e| e.into_inner());
        Ok(f(rooms
            .entry(room.to_string())
            .or_insert_with(RoomState::new)))
    }

    /// Stores a message and sends it to every listener of its room.
    fn post(&self, request: &PostMessageRequest, source: &str) -> Result<ChatMessage, Status> {
        let text = request.text.trim();
        if text.is_empty() {
            return Err(Status::invalid_argument("text is empty"));
        }
        if text.chars().count() > MAX_TEXT {
            return Err(Status::invalid_argument(format!(
                "text is longer than {MAX_TEXT} characters"
            )));
        }
        let user = match request.user.trim() {
            "" => "anonymous",
            user => user,
        };
        self.with_room(&request.room, |room| {
            let message = ChatMessage {
                id: room.next_id.to_string(),
                room: request.room.clone(),
                user: user.to_string(),
                text: text.to_string(),
                source: source.to_string(),
            };
            room.next_id += 1;
            if room.kept.len() == KEPT {
                room.kept.pop_front();
            }
            room.kept.push_back(message.clone());
            // An error only means nobody is listening right now.
            let _ = room.live.send(message.clone());
            message
        })
    }

    /// The kept messages after `since` and a receiver of the new ones,
    /// taken under one lock so that no message is missed or seen twice.
    fn listen(
        &self,
        room: &str,
        since: Option<u64>,
    ) -> Result<(Vec<ChatMessage>, broadcast::Receiver<ChatMessage>), Status> {
        self.with_room(room, |room| {
            let replay = match since {
                Some(since) => room
                    .kept
                    .iter()
                    .filter(|m| m.id.parse::<u64>().is_ok_and(|id| id > since))
                    .cloned()
                    .collect(),
                None => Vec::new(),
            };
            (replay, room.live.subscribe())
        })
    }

    /// Runs one `Chat` call: joins with the first request, then posts the
    /// requests and forwards the room's messages until either side ends.
    async fn chat_session(
        &self,
        requests: &mut Streaming<PostMessageRequest>,
        out: &mpsc::Sender<Result<ChatMessage, Status>>,
    ) -> Result<(), Status> {
        let Some(first) = requests.message().await? else {
            return Ok(());
        };
        // Listen before announcing the join, so the joiner sees its own
        // join notice: that tells it the chat is live.
        let (_, mut live) = self.listen(&first.room, None)?;
        let notice = |text: &str| PostMessageRequest {
            text: text.to_string(),
            ..first.clone()
        };
        self.post(&notice("joined the room"), "join")?;
        if !first.text.trim().is_empty() {
            self.post(&first, "chat")?;
        }
        let result = loop {
            tokio::select! {
                request = requests.message() => match request {
                    // The chat stays in the room it joined.
                    Ok(Some(request)) if !request.text.trim().is_empty() => {
                        let request = PostMessageRequest { room: first.room.clone(), ..request };
                        if let Err(status) = self.post(&request, "chat") {
                            break Err(status);
                        }
                    }
                    Ok(Some(_)) => {}
                    // The client ended its requests: it is leaving.
                    Ok(None) => break Ok(()),
                    Err(status) => break Err(status),
                },
                message = live.recv() => match message {
                    Ok(message) => {
                        if out.send(Ok(message)).await.is_err() {
                            break Ok(());
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => break Ok(()),
                },
                // Nobody reads the responses any more (the call was cancelled).
                () = out.closed() => break Ok(()),
            }
        };
        let _ = self.post(&notice("left the room"), "leave");
        result
    }
}

#[tonic::async_trait]
impl ChatService for ChatRooms {
    async fn post_message(
        &self,
        request: Request<PostMessageRequest>,
    ) -> Result<Response<ChatMessage>, Status> {
        self.post(request.get_ref(), "post").map(Response::new)
    }

    async fn get_room(&self, request: Request<GetRoomRequest>) -> Result<Response<Room>, Status> {
        let name = request.into_inner().room;
        let room = self.with_room(&name, |room| Room {
            name: name.clone(),
            message_count: i32::try_from(room.next_id - 1).unwrap_or(i32::MAX),
            listener_count: i32::try_from(room.live.receiver_count()).unwrap_or(i32::MAX),
            recent: room.kept.iter().rev().take(RECENT).rev().cloned().collect(),
        })?;
        Ok(Response::new(room))
    }

    type SubscribeStream = ResponseStream;

    async fn subscribe(
        &self,
        request: Request<SubscribeRequest>,
    ) -> Result<Response<Self::SubscribeStream>, Status> {
        // A reconnecting EventSource sends the id of the last event it saw;
        // it is more recent than the `since` in the URL it reconnects to.
        let last_event_id = request
            .metadata()
            .get("last-event-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let request = request.into_inner();
        let since = match [last_event_id.as_str(), request.since_id.as_str()]
            .into_iter()
            .find(|s| !s.is_empty())
        {
            Some(since) => Some(since.parse::<u64>().map_err(|_| {
                Status::invalid_argument(format!("since: {since:?} is not a message id"))
            })?),
            None => None,
        };
        let limit = match request.limit {
            0 => usize::MAX,
            n => usize::try_from(n)
                .map_err(|_| Status::invalid_argument("limit must not be negative"))?,
        };
        let (replay, live) = self.listen(&request.room, since)?;
        let live = BroadcastStream::new(live)
            // A listener that fell behind skips what it missed (see LIVE_BUFFER).
            .filter_map(|item| std::future::ready(item.ok()));
        let stream = futures_util::stream::iter(replay)
            .chain(live)
            .take(limit)
            .map(Ok);
        Ok(Response::new(Box::pin(stream)))
    }

    async fn upload_messages(
        &self,
        request: Request<Streaming<PostMessageRequest>>,
    ) -> Result<Response<UploadSummary>, Status> {
        let mut requests = request.into_inner();
        let mut summary = UploadSummary::default();
        // Messages before an invalid one stay posted: a batch is not a
        // transaction.
        while let Some(request) = requests.message().await? {
            summary.ids.push(self.post(&request, "upload")?.id);
            summary.count += 1;
        }
        Ok(Response::new(summary))
    }

    type ChatStream = ResponseStream;

    async fn chat(
        &self,
        request: Request<Streaming<PostMessageRequest>>,
    ) -> Result<Response<Self::ChatStream>, Status> {
        // Answer at once and run the session in its own task: waiting here
        // for the first request would stall clients that wait for the
        // response headers before they send anything.
        let mut requests = request.into_inner();
        let (out, responses) = mpsc::channel(16);
        let rooms = self.clone();
        tokio::spawn(async move {
            if let Err(status) = rooms.chat_session(&mut requests, &out).await {
                let _ = out.send(Err(status)).await;
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(responses))))
    }
}
