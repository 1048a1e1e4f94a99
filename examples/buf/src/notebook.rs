//! The `Notebook` service: notes in memory.

use std::sync::{Arc, Mutex, PoisonError};

use tonic::{Request, Response, Status};

use crate::notes::v1::notebook_server::{self, NotebookServer};
use crate::notes::v1::{AddNoteRequest, GetNoteRequest, Note, WatchNotesRequest, notebook_gateway};

/// Notes kept in memory, in the order they were written.
#[derive(Clone, Default)]
pub struct Notebook {
    notes: Arc<Mutex<Vec<Note>>>,
}

impl Notebook {
    fn notes(&self) -> std::sync::MutexGuard<'_, Vec<Note>> {
        self.notes.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[tonic::async_trait]
impl notebook_server::Notebook for Notebook {
    async fn add_note(&self, request: Request<AddNoteRequest>) -> Result<Response<Note>, Status> {
        let AddNoteRequest { text, tags } = request.into_inner();
        if text.is_empty() {
            return Err(Status::invalid_argument("a note needs a text"));
        }
        let mut notes = self.notes();
        let note = Note {
            id: notes.len() as u64 + 1,
            text,
            tags,
            written_at: Some(std::time::SystemTime::now().into()),
        };
        notes.push(note.clone());
        Ok(Response::new(note))
    }

    async fn get_note(&self, request: Request<GetNoteRequest>) -> Result<Response<Note>, Status> {
        let id = request.into_inner().id;
        let note = id
            .checked_sub(1)
            .and_then(|i| self.notes().get(i as usize).cloned());
        note.map(Response::new)
            .ok_or_else(|| Status::not_found(format!("no note {id}")))
    }

    type WatchNotesStream = tokio_stream::Iter<std::vec::IntoIter<Result<Note, Status>>>;

    async fn watch_notes(
        &self,
        request: Request<WatchNotesRequest>,
    ) -> Result<Response<Self::WatchNotesStream>, Status> {
        let tag = request.into_inner().tag;
        let notes: Vec<_> = self
            .notes()
            .iter()
            .filter(|n| tag.is_empty() || n.tags.contains(&tag))
            .cloned()
            .map(Ok)
            .collect();
        Ok(Response::new(tokio_stream::iter(notes)))
    }
}

/// The HTTP gateway of `notebook`, calling it in process.
pub fn app(notebook: Notebook) -> axum::Router {
    notebook_gateway::router(
        NotebookServer::new(notebook),
        &gateway_runtime::Gateway::default(),
    )
}
