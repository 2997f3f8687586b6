// gust demo chat: messages arrive over a WebSocket (/chatsocket), or by
// long polling /a/message/updates when WebSocket is unavailable or the
// page is opened with ?transport=poll. Sending uses the socket when it is
// open, else an XSRF-protected POST to /a/message/new.
"use strict";

(function () {
  const inbox = document.getElementById("inbox");
  const form = document.getElementById("message-form");
  const input = document.getElementById("message");
  const badge = document.getElementById("transport");
  const me = (document.getElementById("current-user") || {}).textContent;
  let cursor = inbox.dataset.cursor || "";
  let socket = null;

  function cookie(name) {
    const m = document.cookie.match("(?:^|;)\\s*" + name + "=([^;]*)");
    return m ? decodeURIComponent(m[1]) : "";
  }

  function setTransport(name, label) {
    document.body.dataset.transport = name;
    badge.className = "badge " + name;
    badge.textContent = label;
  }

  function show(messages) {
    for (const m of messages) {
      if (document.getElementById("m" + m.id))
        continue;
      const div = document.createElement("div");
      div.className = "message" + (m.from === me ? " mine" : "");
      div.id = "m" + m.id;
      const from = document.createElement("b");
      from.className = "from";
      from.textContent = m.from; // text, never markup
      const body = document.createElement("span");
      body.className = "body";
      body.textContent = m.body;
      div.append(from, " ", body);
      inbox.append(div);
      if (Number(m.id) > Number(cursor))
        cursor = m.id;
    }
    inbox.scrollTop = inbox.scrollHeight;
  }

  // ---- long polling ----
  let polling = false;
  async function poll() {
    if (polling)
      return;
    polling = true;
    setTransport("poll", "long polling");
    let delay = 500;
    for (;;) {
      try {
        const body = new URLSearchParams({ _xsrf: cookie("_xsrf"), cursor });
        const r = await fetch("/a/message/updates", { method: "POST", body });
        if (!r.ok)
          throw new Error("HTTP " + r.status);
        show((await r.json()).messages);
        delay = 500;
        setTransport("poll", "long polling");
      } catch (e) {
        setTransport("offline", "reconnecting…");
        await new Promise((ok) => setTimeout(ok, delay));
        delay = Math.min(delay * 2, 15000);
      }
    }
  }

  // ---- WebSocket ----
  function connect() {
    if (!("WebSocket" in window))
      return poll();
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    let opened = false;
    socket = new WebSocket(scheme + location.host + "/chatsocket?cursor=" +
                           encodeURIComponent(cursor));
    socket.onopen = () => {
      opened = true;
      setTransport("websocket", "WebSocket");
    };
    socket.onmessage = (ev) => {
      const data = JSON.parse(ev.data);
      if (data.messages)
        show(data.messages);
    };
    socket.onclose = (ev) => {
      socket = null;
      if (!opened)
        return poll(); // never opened: a proxy or browser without it
      setTransport("offline", ev.code === 1001 ? "server gone" : "reconnecting…");
      setTimeout(connect, 2000);
    };
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const text = input.value.trim();
    if (!text)
      return;
    input.value = "";
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(text);
      return;
    }
    const body = new URLSearchParams({ _xsrf: cookie("_xsrf"), body: text });
    try {
      const r = await fetch("/a/message/new", { method: "POST", body });
      if (!r.ok)
        throw new Error("HTTP " + r.status);
      show([await r.json()]);
    } catch (e) {
      input.value = text; // keep it for another try
    }
  });

  inbox.scrollTop = inbox.scrollHeight;
  if (new URLSearchParams(location.search).get("transport") === "poll")
    poll();
  else
    connect();
})();
