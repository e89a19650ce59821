// Web chat client: Socket.IO v5 over Engine.IO v4 on one WebSocket, with what socket.io-client adds
// for flaky networks: a heartbeat watchdog (no ping within pingInterval + pingTimeout means the
// connection is dead, even when the socket still looks open), reconnection with exponential backoff
// and jitter, the same session asked for again on every connection, and an outbox that keeps each
// message, shown as not sent yet, until the server acknowledges it (re-sent with the same id after a
// reconnect; the server takes an id once). Why our own and not socket.io-client: README, "Web chat".
// Customer and bot text are always inserted as text nodes, never parsed as HTML; every text the page
// shows comes from the server's responses (data-text-* attributes).
"use strict";
(function () {
  const log = document.getElementById("log");
  const form = document.getElementById("form");
  const input = document.getElementById("message");
  const status = document.getElementById("status");

  const RECONNECT_FIRST_MS = 1000;   // the first retry waits about this long, then it doubles...
  const RECONNECT_MAX_MS = 5000;     // ...up to this
  const JITTER = 0.5;                // each wait is spread by ±50% so pages do not return in step
  const OPEN_TIMEOUT_MS = 10000;     // a connection that has not opened by then is given up
  const REPLY_TIMEOUT_MS = 15000;    // no session confirmation or acknowledgement by then: dead
  const OFFLINE_AFTER = 3;           // failed attempts in a row before the page says "offline"

  function randomId(bytes) {
    const raw = new Uint8Array(bytes);
    crypto.getRandomValues(raw);
    return btoa(String.fromCharCode(...raw)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  let sessionId = sessionStorage.getItem("recoverydesk.session");
  if (!sessionId) {
    sessionId = randomId(32);
    sessionStorage.setItem("recoverydesk.session", sessionId);
  }

  function setState(state) {
    status.dataset.state = state;
    status.textContent = status.getAttribute("data-text-" + state) || "";
  }

  // Links the bot sends become anchors; everything else stays plain text.
  function appendText(parent, text) {
    const url = /(https?:\/\/[^\s<>"]+)/g;
    let last = 0;
    for (const match of text.matchAll(url)) {
      parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      const a = document.createElement("a");
      a.href = match[0];
      a.textContent = match[0];
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      parent.appendChild(a);
      last = match.index + match[0].length;
    }
    parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function show(role, text, buttons) {
    const item = document.createElement("li");
    item.className = "msg msg--" + role;
    item.dataset.role = role;
    appendText(item, text || "");
    if (buttons && buttons.length) {
      const row = document.createElement("div");
      row.className = "buttons";
      for (const b of buttons) {
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = b.title;
        button.addEventListener("click", () => send(b.payload, b.title));
        row.appendChild(button);
      }
      item.appendChild(row);
    }
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
    return item;
  }

  // --- the connection -------------------------------------------------------------------------
  let socket = null;       // the current WebSocket, or null between attempts
  let joined = false;      // the server confirmed our session on this socket
  let refused = false;     // the server refused the session: no more attempts
  let attempts = 0;        // failed attempts in a row
  let deadAfter = OPEN_TIMEOUT_MS;
  let watchdog = null;     // fires when no ping came in time: the connection is dead
  let replyTimer = null;   // fires when an awaited reply (session confirmation, ack) did not come
  let retryTimer = null;
  let nextAck = 0;

  const outbox = [];       // messages the server has not acknowledged, oldest first
  let inFlight = null;     // {ack, message}: the one message sent and not yet acknowledged

  function expectWithin(ms) {
    clearTimeout(watchdog);
    watchdog = setTimeout(drop, ms);
  }

  function awaitReply() {
    clearTimeout(replyTimer);
    replyTimer = setTimeout(drop, REPLY_TIMEOUT_MS);
  }

  function connect() {
    clearTimeout(retryTimer);
    if (socket || refused) return;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    let ws;
    try {
      ws = new WebSocket(scheme + "://" + location.host + "/socket.io/?EIO=4&transport=websocket");
    } catch (error) {
      retry();
      return;
    }
    socket = ws;
    expectWithin(OPEN_TIMEOUT_MS);
    ws.onmessage = (e) => { if (ws === socket) onPacket(String(e.data)); };
    ws.onclose = () => { if (ws === socket) drop(); };
  }

  // The connection is dead or closed: forget it and try again later. Unacknowledged messages stay in
  // the outbox and go again, with the same ids, once the session is confirmed on a new connection.
  function drop() {
    clearTimeout(watchdog);
    clearTimeout(replyTimer);
    const dead = socket;
    socket = null;
    joined = false;
    inFlight = null;
    if (dead) {
      dead.onmessage = dead.onclose = null;
      try { dead.close(); } catch (error) { /* already closed */ }
    }
    if (!refused) retry();
  }

  function retry() {
    attempts += 1;
    setState(!navigator.onLine || attempts > OFFLINE_AFTER ? "offline" : "reconnecting");
    const doubled = Math.min(RECONNECT_MAX_MS, RECONNECT_FIRST_MS * Math.pow(2, attempts - 1));
    const wait = doubled * (1 - JITTER + Math.random() * 2 * JITTER);
    clearTimeout(retryTimer);
    retryTimer = setTimeout(connect, Math.min(wait, RECONNECT_MAX_MS));
  }

  function emit(event, data, ack) {
    socket.send("42" + (ack === undefined ? "" : ack) + JSON.stringify([event, data]));
  }

  // A Socket.IO packet after its type digit: optional "/namespace,", optional ack id, JSON payload.
  function parse(body) {
    let rest = body;
    if (rest[0] === "/") rest = rest.slice(rest.indexOf(",") + 1);
    const id = /^\d+/.exec(rest);
    if (id) rest = rest.slice(id[0].length);
    return { id: id ? Number(id[0]) : null, data: rest ? JSON.parse(rest) : null };
  }

  function onPacket(packet) {
    const type = packet[0];
    if (type === "0") {                                       // engine.io open: learn the heartbeat
      const open = JSON.parse(packet.slice(1));
      deadAfter = open.pingInterval + open.pingTimeout;
      expectWithin(deadAfter);
      socket.send("40");                                      // join namespace "/"
    } else if (type === "2") {                                // ping → pong, and the line is alive
      socket.send("3");
      expectWithin(deadAfter);
    } else if (type === "1") {                                // the server closes
      drop();
    } else if (type === "4") {
      onMessage(packet[1], packet.slice(2));
    }
  }

  function onMessage(kind, body) {
    if (kind === "0") {                                       // namespace joined: ask for our session
      emit("session_request", { session_id: sessionId, locale: navigator.language || "" });
      awaitReply();
    } else if (kind === "1" || kind === "4") {                // disconnected or refused by the server
      drop();
    } else if (kind === "3") {                                // an acknowledgement
      acknowledged(parse(body).id);
    } else if (kind === "2") {
      const [event, data] = parse(body).data;
      onEvent(event, data);
    }
  }

  function onEvent(event, data) {
    if (event === "session_confirm") {
      clearTimeout(replyTimer);
      joined = true;
      attempts = 0;
      setState("connected");
      flush();
    } else if (event === "bot_uttered") {
      const role = data && data.metadata && data.metadata.agent ? "agent" : "bot";
      show(role, (data && data.text) || "", data && (data.quick_replies || data.buttons));
    } else if (event === "session_error") {
      if (data && data.code === "unavailable") {              // briefly: try again later
        drop();
      } else {
        refused = true;
        setState("refused");
        drop();
      }
    }
  }

  // --- the outbox -------------------------------------------------------------------------------
  function flush() {
    if (!joined || inFlight || !outbox.length) return;
    const message = outbox[0];
    inFlight = { ack: nextAck++, message: message };
    emit("user_uttered", { message: message.text, session_id: sessionId, message_id: message.id }, inFlight.ack);
    awaitReply();
  }

  function acknowledged(ack) {
    if (!inFlight || inFlight.ack !== ack) return;
    clearTimeout(replyTimer);
    const message = outbox.shift();
    message.item.classList.remove("msg--pending");
    message.item.removeAttribute("data-pending");
    inFlight = null;
    flush();
  }

  function send(text, shown) {
    if (!text.trim()) return;
    const item = show("me", shown || text);
    item.classList.add("msg--pending");
    item.dataset.pending = log.getAttribute("data-text-pending");
    outbox.push({ id: randomId(12), text: text, item: item });
    flush();
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    send(input.value);
    input.value = "";
  });
  // The browser knows first when the network goes away or comes back (as engine.io-client does).
  window.addEventListener("offline", () => { if (socket) drop(); else setState("offline"); });
  window.addEventListener("online", () => {
    if (socket || refused) return;
    attempts = 0;
    connect();
  });
  connect();
})();
