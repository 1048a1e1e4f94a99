// The chat example page: one room followed through the gateway's three
// streaming modes (SSE, WebSocket, NDJSON), plus the unary and
// client-streaming calls. Plain browser APIs, no build step.
'use strict';

const $ = (id) => document.getElementById(id);

// `?room=…&user=…` preset the inputs (handy for tests and for sharing).
const params = new URLSearchParams(location.search);
$('room').value = params.get('room') || 'lobby';
$('user').value = params.get('user') || `guest-${Math.floor(Math.random() * 1000)}`;

const roomPath = () => `/v1/rooms/${encodeURIComponent($('room').value.trim() || 'lobby')}`;
const userName = () => $('user').value.trim();

/** Shows a connection state: `data-state` for styling (and tests), text for people. */
function setStatus(id, state, text) {
  const el = $(id);
  el.dataset.state = state;
  el.textContent = text || state;
}

/** Appends a chat message to a panel's list. Text only: messages are user input. */
function addMessage(mode, m) {
  const li = document.createElement('li');
  li.className = 'message';
  li.dataset.id = m.id;
  li.dataset.source = m.source;
  for (const [cls, text] of [['meta', `#${m.id} · ${m.source}`], ['user', m.user], ['text', m.text]]) {
    const span = document.createElement('span');
    span.className = cls;
    span.textContent = text;
    li.append(span);
  }
  append(mode, li);
}

/** Appends a line about the connection itself (or an error) to a panel's list. */
function addNotice(mode, text, cls = 'notice') {
  const li = document.createElement('li');
  li.className = cls;
  li.textContent = text;
  append(mode, li);
}

function append(mode, li) {
  const list = $(`${mode}-messages`);
  list.append(li);
  list.scrollTop = list.scrollHeight;
}

/** The `message` of a gateway error body (`{"code":…,"message":…,"details":[]}`). */
async function errorMessage(response) {
  try {
    return (await response.json()).message;
  } catch {
    return response.statusText;
  }
}

// ---------------------------------------------------------------- unary

$('post-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const text = $('post-text').value;
  setStatus('post-status', 'connecting', 'posting…');
  const response = await fetch(`${roomPath()}/messages`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ user: userName(), text }),
  });
  if (response.ok) {
    const message = await response.json();
    setStatus('post-status', 'open', `posted #${message.id}`);
    $('post-text').value = '';
  } else {
    setStatus('post-status', 'error', `${response.status}: ${await errorMessage(response)}`);
  }
});

$('room-refresh').addEventListener('click', async () => {
  const response = await fetch(roomPath());
  if (response.ok) {
    const room = await response.json();
    setStatus('room-info', 'open', `${room.messageCount} messages, ${room.listenerCount} listening`);
  } else {
    setStatus('room-info', 'error', `${response.status}: ${await errorMessage(response)}`);
  }
});

// ---------------------------------------------------------------- client stream

// The request body is NDJSON: one message per line. (Sent in one piece:
// browsers stream request bodies only over HTTP/2.)
$('batch-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const lines = $('batch-text').value.split('\n').filter((line) => line.trim());
  const body = lines.map((text) => JSON.stringify({ user: userName(), text })).join('\n');
  setStatus('batch-status', 'connecting', 'uploading…');
  const response = await fetch(`${roomPath()}/messages:batch`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-ndjson' },
    body,
  });
  if (response.ok) {
    const summary = await response.json();
    setStatus('batch-status', 'open', `uploaded ${summary.count}`);
    $('batch-text').value = '';
  } else {
    setStatus('batch-status', 'error', `${response.status}: ${await errorMessage(response)}`);
  }
});

// ---------------------------------------------------------------- SSE

let eventSource = null;
let reconnects = 0;

function stopSse(state, text) {
  if (eventSource) {
    eventSource.close();
    eventSource = null;
  }
  setStatus('sse-status', state, text);
}

$('sse-start').addEventListener('click', () => {
  if (eventSource) return;
  reconnects = 0;
  $('sse-reconnects').textContent = '0';
  // EventSource sends `Accept: text/event-stream`, which picks SSE.
  const source = new EventSource(`${roomPath()}/events`);
  eventSource = source;
  setStatus('sse-status', 'connecting');
  source.onopen = () => {
    setStatus('sse-status', 'open', reconnects ? `open (reconnected ${reconnects}×)` : 'open');
  };
  source.onmessage = (event) => addMessage('sse', JSON.parse(event.data));
  // The gateway ends a finished stream with an `EOS` event. Close, or the
  // browser would reconnect and start the stream again.
  source.addEventListener('EOS', () => {
    addNotice('sse', 'end of stream');
    stopSse('closed', 'ended (EOS)');
  });
  // A gRPC error after the stream started: a `failure` event with the JSON
  // error body.
  source.addEventListener('failure', (event) => {
    addNotice('sse', `error: ${JSON.parse(event.data).message}`, 'error');
    stopSse('error');
  });
  source.onerror = () => {
    if (source.readyState === EventSource.CONNECTING) {
      // The connection dropped; the browser reconnects by itself and sends
      // `Last-Event-ID`, so the service replays what we missed.
      reconnects += 1;
      $('sse-reconnects').textContent = String(reconnects);
      setStatus('sse-status', 'reconnecting', 'reconnecting…');
      addNotice('sse', 'connection lost; reconnecting');
    } else {
      // CLOSED: an HTTP error answer; the browser gives up.
      stopSse('error', 'failed');
    }
  };
});

$('sse-stop').addEventListener('click', () => stopSse('closed', 'stopped'));

// ---------------------------------------------------------------- WebSocket

let socket = null;

$('ws-join').addEventListener('click', () => {
  if (socket) return;
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const ws = new WebSocket(`${scheme}://${location.host}${roomPath()}/chat`);
  socket = ws;
  let joined = false;
  setStatus('ws-status', 'connecting');
  ws.onopen = () => {
    // The first message joins; with no text it posts nothing else.
    ws.send(JSON.stringify({ user: userName() }));
    setStatus('ws-status', 'connecting', 'joining…');
  };
  ws.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.id === undefined) {
      // A gRPC error: the gateway sends the error body, then closes 1011.
      addNotice('ws', `error: ${message.message}`, 'error');
      return;
    }
    // Our own join notice: the service is now forwarding the room to us.
    if (!joined && message.source === 'join' && message.user === (userName() || 'anonymous')) {
      joined = true;
      setStatus('ws-status', 'joined');
    }
    addMessage('ws', message);
  };
  ws.onclose = (event) => {
    // 1000: the chat ended normally (after we left); 1011: after an error.
    const reason = event.reason ? `: ${event.reason}` : '';
    setStatus('ws-status', event.code === 1000 ? 'closed' : 'error', `closed ${event.code}${reason}`);
    if (socket === ws) socket = null;
  };
});

$('ws-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const text = $('ws-text').value;
  if (!socket || socket.readyState !== WebSocket.OPEN || !text.trim()) return;
  socket.send(JSON.stringify({ user: userName(), text }));
  $('ws-text').value = '';
});

/** Leaves the chat: an empty frame ends our requests, and the server closes with 1000. */
function leaveChat() {
  if (socket && socket.readyState === WebSocket.OPEN) {
    socket.send('');
    setStatus('ws-status', 'leaving', 'leaving…');
  }
}

$('ws-leave').addEventListener('click', leaveChat);
window.addEventListener('pagehide', leaveChat);

// ---------------------------------------------------------------- NDJSON

let ndjsonAbort = null;

$('ndjson-start').addEventListener('click', async () => {
  if (ndjsonAbort) return;
  const abort = new AbortController();
  ndjsonAbort = abort;
  setStatus('ndjson-status', 'connecting');
  try {
    // Any Accept other than text/event-stream (and no upgrade) picks NDJSON.
    const response = await fetch(`${roomPath()}/events`, {
      headers: { Accept: 'application/x-ndjson' },
      signal: abort.signal,
    });
    if (!response.ok) throw new Error(`${response.status}: ${await errorMessage(response)}`);
    setStatus('ndjson-status', 'open');
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let pending = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      // A chunk may end mid-line: keep the unfinished part for the next one.
      const lines = (pending + value).split('\n');
      pending = lines.pop();
      for (const line of lines) {
        if (!line.trim()) continue; // a heartbeat
        const item = JSON.parse(line);
        // A gRPC error after the stream started: `{"error":{…}}` as the last line.
        if (item.error) addNotice('ndjson', `error: ${item.error.message}`, 'error');
        else addMessage('ndjson', item);
      }
    }
    setStatus('ndjson-status', 'closed', 'ended');
  } catch (error) {
    if (error.name === 'AbortError') {
      setStatus('ndjson-status', 'closed', 'stopped');
    } else {
      setStatus('ndjson-status', 'error');
      addNotice('ndjson', `error: ${error.message}`, 'error');
    }
  } finally {
    if (ndjsonAbort === abort) ndjsonAbort = null;
  }
});

$('ndjson-stop').addEventListener('click', () => ndjsonAbort?.abort());
