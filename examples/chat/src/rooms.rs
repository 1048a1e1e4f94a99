//! The chat service: rooms in memory, each keeping its last messages (for
//! replay and `GetRoom`) and broadcasting new ones to every listener.

use std::collections::{HashMap, VecDeque};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{Stream, StreamExt};
use tokio::sync::{broadcast, mpsc};
use tokio::time::Instant;
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
/// Longest room name, in bytes.
const MAX_ROOM_NAME: usize = 64;
/// Most rooms at once (default of [`ChatRooms::with_limits`]).
const MAX_ROOMS: usize = 1000;
/// How long a room nobody listens to is kept after its last message.
const ROOM_IDLE: Duration = Duration::from_secs(600);

/// The chat service. Cheap to clone: clones share the rooms, so the gRPC
/// server and the gateway's in-process client see the same messages.
///
/// Memory is bounded: a room exists only once somebody posted or listened
/// (reading one with `GetRoom` creates nothing), a room nobody listens to
/// goes after ten idle minutes, and there are at most 1000 rooms; past
/// that, new rooms are refused with `RESOURCE_EXHAUSTED` (429).
#[derive(Debug, Clone)]
pub struct ChatRooms {
    rooms: Arc<Mutex<HashMap<String, RoomState>>>,
    max_rooms: usize,
    idle: Duration,
}

impl Default for ChatRooms {
    fn default() -> Self {
        ChatRooms::with_limits(MAX_ROOMS, ROOM_IDLE)
    }
}

/// One room: its kept messages and its listeners.
#[derive(Debug)]
struct RoomState {
    next_id: u64,
    kept: VecDeque<ChatMessage>,
    live: broadcast::Sender<ChatMessage>,
    /// Last message or new listener.
    last_active: Instant,
}

impl RoomState {
    fn new() -> Self {
        RoomState {
            next_id: 1,
            kept: VecDeque::new(),
            live: broadcast::channel(LIVE_BUFFER).0,
            last_active: Instant::now(),
        }
    }

    /// Nobody listens, and nothing happened for `idle`.
    fn is_idle(&self, idle: Duration) -> bool {
        self.live.receiver_count() == 0 && self.last_active.elapsed() >= idle
    }
}

/// A room name must be given, and short.
pub(crate) fn check_name(room: &str) -> Result<(), Status> {
    if room.is_empty() {
        return Err(Status::invalid_argument("room is required"));
    }
    if room.len() > MAX_ROOM_NAME {
        return Err(Status::invalid_argument(format!(
            "room name is longer than {MAX_ROOM_NAME} bytes"
        )));
    }
    Ok(())
}

/// The author and the text of a message to post, checked and trimmed:
/// `anonymous` for no author, a text of 1 to 500 characters.
pub(crate) fn checked_post(request: &PostMessageRequest) -> Result<(&str, &str), Status> {
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
    Ok((user, text))
}

/// Where a subscription resumes: after the `Last-Event-ID` a reconnecting
/// EventSource sends (more recent than the `since` in the URL it reconnects
/// to), else after `since_id`; `None` for live messages only.
pub(crate) fn resume_after(request: &Request<SubscribeRequest>) -> Option<String> {
    let last_event_id = request
        .metadata()
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    [last_event_id, request.get_ref().since_id.as_str()]
        .into_iter()
        .find(|s| !s.is_empty())
        .map(str::to_string)
}

/// How many messages a subscription gets: `limit`, or no end for 0.
pub(crate) fn stream_limit(limit: i32) -> Result<usize, Status> {
    match limit {
        0 => Ok(usize::MAX),
        n => usize::try_from(n).map_err(|_| Status::invalid_argument("limit must not be negative")),
    }
}

pub(crate) type ResponseStream =
    Pin<Box<dyn Stream<Item = Result<ChatMessage, Status>> + Send + 'static>>;

impl ChatRooms {
    /// Rooms with these limits: at most `max_rooms` at once, and a room
    /// nobody listens to freed after `idle` without messages.
    pub fn with_limits(max_rooms: usize, idle: Duration) -> Self {
        ChatRooms {
            rooms: Arc::default(),
            max_rooms,
            idle,
        }
    }

    /// How many rooms exist now.
    pub fn room_count(&self) -> usize {
        self.rooms.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Runs `f` on the room, creating it if need be (posting and listening).
    fn with_room<R>(&self, room: &str, f: impl FnOnce(&mut RoomState) -> R) -> Result<R, Status> {
        check_name(room)?;
        let mut rooms = self.rooms.lock().unwrap_or_else(|e| e.into_inner());
        if !rooms.contains_key(room) {
            // Idle rooms go when a new one comes: no timer task needed, and
            // the count stays bounded.
            let idle = self.idle;
            rooms.retain(|_, r| !r.is_idle(idle));
            if rooms.len() >= self.max_rooms {
                return Err(Status::resource_exhausted(format!(
                    "too many rooms: at most {} at once; try again later or use an existing room",
                    self.max_rooms
                )));
            }
        }
        let state = rooms.entry(room.to_string()).or_insert_with(RoomState::new);
        state.last_active = Instant::now();
        Ok(f(state))
    }

    /// Runs `f` on the room if it exists; reading creates nothing.
    fn read_room<R>(
        &self,
        room: &str,
        f: impl FnOnce(Option<&RoomState>) -> R,
    ) -> Result<R, Status> {
        check_name(room)?;
        let rooms = self.rooms.lock().unwrap_or_else(|e| e.into_inner());
        Ok(f(rooms.get(room)))
    }

    /// Stores a message and sends it to every listener of its room.
    fn post(&self, request: &PostMessageRequest, source: &str) -> Result<ChatMessage, Status> {
        let (user, text) = checked_post(request)?;
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
        // A room that does not exist (yet, or any more) is an empty one.
        let room = self.read_room(&name, |room| Room {
            name: name.clone(),
            message_count: room.map_or(0, |r| i32::try_from(r.next_id - 1).unwrap_or(i32::MAX)),
            listener_count: room.map_or(0, |r| {
                i32::try_from(r.live.receiver_count()).unwrap_or(i32::MAX)
            }),
            recent: room.map_or_else(Vec::new, |r| {
                r.kept.iter().rev().take(RECENT).rev().cloned().collect()
            }),
        })?;
        Ok(Response::new(room))
    }

    type SubscribeStream = ResponseStream;

    async fn subscribe(
        &self,
        request: Request<SubscribeRequest>,
    ) -> Result<Response<Self::SubscribeStream>, Status> {
        let since = match resume_after(&request) {
            Some(since) => Some(since.parse::<u64>().map_err(|_| {
                Status::invalid_argument(format!("since: {since:?} is not a message id"))
            })?),
            None => None,
        };
        let request = request.into_inner();
        let limit = stream_limit(request.limit)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn post(room: &str) -> Request<PostMessageRequest> {
        Request::new(PostMessageRequest {
            room: room.into(),
            text: "hi".into(),
            ..PostMessageRequest::default()
        })
    }

    #[tokio::test(start_paused = true)]
    async fn idle_rooms_go_when_new_ones_come() {
        let rooms = ChatRooms::with_limits(2, Duration::from_secs(600));
        rooms.post_message(post("a")).await.unwrap();
        rooms.post_message(post("b")).await.unwrap();
        // Full, and nothing idle yet.
        let refused = rooms.post_message(post("c")).await.unwrap_err();
        assert_eq!(refused.code(), tonic::Code::ResourceExhausted);
        // A listener keeps "a" alive however long it stays quiet.
        let _listener = rooms
            .subscribe(Request::new(SubscribeRequest {
                room: "a".into(),
                ..SubscribeRequest::default()
            }))
            .await
            .unwrap();
        tokio::time::advance(Duration::from_secs(599)).await;
        assert!(rooms.post_message(post("c")).await.is_err());
        tokio::time::advance(Duration::from_secs(1)).await;
        // "b" has been idle for ten minutes: it makes room for "c".
        rooms.post_message(post("c")).await.unwrap();
        assert_eq!(rooms.room_count(), 2);
        let b = rooms
            .get_room(Request::new(GetRoomRequest { room: "b".into() }))
            .await
            .unwrap()
            .into_inner();
        assert_eq!((b.message_count, b.recent.len()), (0, 0));
        assert_eq!(rooms.room_count(), 2, "reading creates no room");
    }
}
