//! Which rooms the binaries serve: in memory (the default, nothing to
//! install), or on Redis when `CHAT_REDIS_URL` is set, so that several
//! instances share them.

use tonic::{Request, Response, Status, Streaming};

use crate::pb::chat::v1::chat_service_server::ChatService;
use crate::pb::chat::v1::{
    ChatMessage, GetRoomRequest, PostMessageRequest, Room, SubscribeRequest, UploadSummary,
};
use crate::rooms::ResponseStream;
use crate::{ChatRooms, RedisRooms};

/// The environment variable that selects the Redis backend, with the
/// server's URL (`redis://127.0.0.1:6379/`).
pub const REDIS_URL_VAR: &str = "CHAT_REDIS_URL";

/// The chat service on either backend.
#[derive(Debug, Clone)]
pub enum Rooms {
    /// [`ChatRooms`]: this process only.
    Memory(ChatRooms),
    /// [`RedisRooms`]: shared by every instance on the same Redis.
    Redis(RedisRooms),
}

impl Rooms {
    /// Redis rooms if `CHAT_REDIS_URL` is set (connecting now), else rooms
    /// in memory.
    pub async fn from_env() -> Result<Rooms, BackendError> {
        match std::env::var(REDIS_URL_VAR) {
            Ok(url) if !url.is_empty() => RedisRooms::connect(&url)
                .await
                .map(Rooms::Redis)
                .map_err(|e| BackendError(format!("{REDIS_URL_VAR}={url}: {e}"))),
            _ => Ok(Rooms::Memory(ChatRooms::default())),
        }
    }

    /// Where the rooms live, for the startup banner.
    pub fn describe(&self) -> String {
        match self {
            Rooms::Memory(_) => "in memory".to_string(),
            Rooms::Redis(rooms) => format!("Redis at {}", rooms.server()),
        }
    }
}

/// Redis could not be reached at startup, or its URL is malformed.
pub struct BackendError(String);

impl std::fmt::Display for BackendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The message as is, as `AddrError` does: `main` reports with `Debug`.
impl std::fmt::Debug for BackendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BackendError {}

/// Calls the same method on whichever backend.
macro_rules! delegate {
    ($self:ident . $method:ident ( $request:ident )) => {
        match $self {
            Rooms::Memory(rooms) => rooms.$method($request).await,
            Rooms::Redis(rooms) => rooms.$method($request).await,
        }
    };
}

#[tonic::async_trait]
impl ChatService for Rooms {
    async fn post_message(
        &self,
        request: Request<PostMessageRequest>,
    ) -> Result<Response<ChatMessage>, Status> {
        delegate!(self.post_message(request))
    }

    async fn get_room(&self, request: Request<GetRoomRequest>) -> Result<Response<Room>, Status> {
        delegate!(self.get_room(request))
    }

    type SubscribeStream = ResponseStream;

    async fn subscribe(
        &self,
        request: Request<SubscribeRequest>,
    ) -> Result<Response<Self::SubscribeStream>, Status> {
        delegate!(self.subscribe(request))
    }

    async fn upload_messages(
        &self,
        request: Request<Streaming<PostMessageRequest>>,
    ) -> Result<Response<UploadSummary>, Status> {
        delegate!(self.upload_messages(request))
    }

    type ChatStream = ResponseStream;

    async fn chat(
        &self,
        request: Request<Streaming<PostMessageRequest>>,
    ) -> Result<Response<Self::ChatStream>, Status> {
        delegate!(self.chat(request))
    }
}
