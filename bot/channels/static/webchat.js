// Web chat client: a small Socket.IO v5 / Engine.IO v4 client over one WebSocket.
// Customer and bot text are always inserted as text nodes, never parsed as HTML.
"use strict";
(function () {
  const log = document.getElementById("log");
  const form = document.getElementById("form");
  const input = document.getElementById("message");
  const status = document.getElementById("status");

  function newSessionId() {
    const bytes = new Uint8Array(32);
    crypto.getRandomValues(bytes);
    return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  let sessionId = sessionStorage.getItem("recoverydesk.session");
  if (!sessionId) {
    sessionId = newSessionId();
    sessionStorage.setItem("recoverydesk.session", sessionId);
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
  }

  let socket = null;
  let retry = 500;

  function emit(event, data) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send("42" + JSON.stringify([event, data]));
      return true;
    }
    return false;
  }

  function onPacket(packet) {
    const type = packet[0];
    if (type === "2") { socket.send("3"); return; }           // engine.io ping → pong
    if (type !== "4") return;                                  // only socket.io messages below
    const body = packet.slice(1);
    if (body[0] === "0") {                                     // namespace connected
      emit("session_request", { session_id: sessionId });
      return;
    }
    if (body[0] !== "2") return;
    const [event, data] = JSON.parse(body.slice(1));
    if (event === "session_confirm") {
      status.textContent = "Connected · secure session";
      retry = 500;
    } else if (event === "bot_uttered") {
      const role = data && data.metadata && data.metadata.agent ? "agent" : "bot";
      show(role, data.text || "", data.quick_replies || data.buttons);
    } else if (event === "session_error") {
      status.textContent = data.message;
    }
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(scheme + "://" + location.host + "/socket.io/?EIO=4&transport=websocket");
    socket.onmessage = (e) => {
      const data = String(e.data);
      if (data[0] === "0") { socket.send("40"); return; }      // engine.io open → join namespace "/"
      onPacket(data);
    };
    socket.onclose = () => {
      status.textContent = "Reconnecting…";
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 10000);
    };
  }

  function send(message, shown) {
    if (!message.trim()) return;
    if (emit("user_uttered", { message: message, session_id: sessionId })) {
      show("me", shown || message);
    } else {
      status.textContent = "Not connected yet; try again in a moment.";
    }
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    send(input.value);
    input.value = "";
  });
  connect();
})();
