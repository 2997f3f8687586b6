// gust demo uploads: the file is the raw body of one XHR POST, so the
// browser's upload progress events drive the bar; the server streams it to
// disk and answers with its size and SHA-256.
"use strict";

(function () {
  const form = document.getElementById("upload-form");
  const input = document.getElementById("file");
  const bar = document.getElementById("progress");
  const text = document.getElementById("progress-text");
  const status = document.getElementById("upload-status");
  const list = document.getElementById("files");
  const max = Number(form.dataset.max);

  function cookie(name) {
    const m = document.cookie.match("(?:^|;)\\s*" + name + "=([^;]*)");
    return m ? decodeURIComponent(m[1]) : "";
  }

  function progress(pct) {
    bar.value = pct;
    text.textContent = pct + "%";
    document.body.dataset.progress = String(pct);
  }

  function cell(cls, content, code) {
    const td = document.createElement("td");
    td.className = cls;
    if (code) {
      const c = document.createElement("code");
      c.textContent = content;
      td.append(c);
    } else {
      td.textContent = content;
    }
    return td;
  }

  async function refresh() {
    const r = await fetch("/a/uploads");
    if (!r.ok)
      return;
    const rows = (await r.json()).files.map((f) => {
      const tr = document.createElement("tr");
      tr.append(cell("name", f.name), cell("size", String(f.size)),
                cell("sha", f.sha256, true));
      return tr;
    });
    list.replaceChildren(...rows);
  }

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const file = input.files[0];
    if (!file)
      return;
    if (file.size > max) {
      status.textContent = "That file is larger than the server accepts.";
      status.className = "error";
      return;
    }
    progress(0);
    delete document.body.dataset.uploaded;
    status.className = "muted";
    status.textContent = "Uploading " + file.name + "…";
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/upload?name=" + encodeURIComponent(file.name));
    xhr.setRequestHeader("X-XSRFToken", cookie("_xsrf"));
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable)
        progress(Math.min(99, Math.floor((e.loaded * 100) / e.total)));
    };
    xhr.onload = async () => {
      if (xhr.status !== 200) {
        status.className = "error";
        status.textContent = "Upload refused: HTTP " + xhr.status;
        return;
      }
      const f = JSON.parse(xhr.responseText);
      progress(100); // the server has all of it now
      status.textContent = "Stored " + f.name + " (" + f.size + " bytes)";
      await refresh();
      document.body.dataset.uploaded = f.name;
    };
    xhr.onerror = () => {
      status.className = "error";
      status.textContent = "The upload failed (connection lost).";
    };
    xhr.send(file);
  });
})();
