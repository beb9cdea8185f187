// vanthu desktop window: lists the incoming register through the `list_incoming` command.
// Static file, no build step; relies on `app.withGlobalTauri` (window.__TAURI__).
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);

  function show(id, on) {
    $(id).hidden = !on;
  }

  function cell(text, cls) {
    const td = document.createElement("td");
    if (cls) td.className = cls;
    td.textContent = text;
    return td;
  }

  // Errors from Rust arrive as { code, message } with a Vietnamese-first message.
  function errorText(err) {
    if (err && typeof err === "object" && typeof err.message === "string") return err.message;
    if (typeof err === "string") return err;
    return "Lỗi không xác định: " + String(err);
  }

  function render(reg) {
    $("agency").textContent = reg.agency;
    show("demo", !!reg.demo);
    const tbody = $("rows");
    tbody.replaceChildren();
    for (const r of reg.rows) {
      const tr = document.createElement("tr");
      tr.dataset.id = r.id;
      const num = cell(r.so_den_text, "num" + (r.register !== "den" ? " secret" : ""));
      const date = cell(r.ngay_den_text);
      date.title = r.ngay_den;
      const notation = r.khong_so ? cell("Không số", "muted") : cell(r.so_ky_hieu || "");
      tr.append(num, date, notation, cell(r.tac_gia), cell(r.trich_yeu));
      tbody.append(tr);
    }
    const n = reg.rows.length;
    show("register", n > 0);
    show("empty", n === 0);
    $("status").textContent = n > 0 ? "Tổng số: " + n + " văn bản." : "";
    $("footer").textContent = "Kho dữ liệu: " + reg.data_dir;
  }

  async function load() {
    show("error", false);
    $("status").textContent = "Đang mở kho dữ liệu…";
    try {
      const tauri = window.__TAURI__;
      if (!tauri || !tauri.core) {
        throw { message: "Không kết nối được với ứng dụng: hãy mở cửa sổ này từ vanthu-desktop." };
      }
      render(await tauri.core.invoke("list_incoming"));
      watchIndexing();
    } catch (err) {
      show("register", false);
      show("empty", false);
      $("status").textContent = "";
      $("error-message").textContent = errorText(err);
      show("error", true);
    }
  }

  // The background job that extracts text (OCR of scans included) and indexes new documents:
  // shown under the search box while it runs; a search typed meanwhile covers what is indexed.
  let watching = false;
  async function watchIndexing() {
    if (watching) return;
    watching = true;
    const line = $("indexing");
    try {
      for (;;) {
        const st = await window.__TAURI__.core.invoke("index_status");
        if (st.error) {
          line.textContent = "Chưa lập được chỉ mục tìm kiếm: " + st.error;
          line.hidden = false;
          break;
        }
        if (!st.running) {
          if (!line.hidden && $("search").value.trim()) search($("search").value);
          line.hidden = true;
          break;
        }
        if (st.total > 0) {
          line.textContent = "Đang trích xuất văn bản và lập chỉ mục tìm kiếm (kể cả nhận dạng chữ bản quét): "
            + st.done + "/" + st.total + " văn bản…";
          line.hidden = false;
        }
        await new Promise((r) => setTimeout(r, 700));
      }
    } catch (err) {
      line.hidden = true;
    } finally {
      watching = false;
    }
  }

  // Snippets come HTML-escaped from Rust with only <b>…</b> added: turn those into <mark>s
  // without ever parsing the text as HTML.
  function snippetNode(snippet) {
    const div = document.createElement("div");
    div.className = "snippet";
    const parts = snippet.split(/<\/?b>/);
    parts.forEach((part, i) => {
      const text = part
        .replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"')
        .replace(/&#39;/g, "'").replace(/&amp;/g, "&");
      if (i % 2 === 1) {
        const m = document.createElement("mark");
        m.textContent = text;
        div.append(m);
      } else {
        div.append(document.createTextNode(text));
      }
    });
    return div;
  }

  async function search(query) {
    if (!query.trim()) return load();
    show("error", false);
    $("status").textContent = "Đang tìm…";
    try {
      const hits = await window.__TAURI__.core.invoke("search_incoming", { query });
      const tbody = $("rows");
      tbody.replaceChildren();
      for (const h of hits) {
        const tr = document.createElement("tr");
        tr.dataset.id = h.id;
        const subject = cell(h.trich_yeu);
        if (h.snippet && h.snippet.trim()) subject.append(snippetNode(h.snippet));
        tr.append(cell(h.so_den_text, "num"), cell(h.ngay_den_text),
          h.khong_so ? cell("Không số", "muted") : cell(h.so_ky_hieu || ""),
          cell(h.tac_gia), subject);
        tbody.append(tr);
      }
      show("register", hits.length > 0);
      show("empty", false);
      $("status").textContent = hits.length > 0
        ? hits.length + " kết quả cho “" + query + "”."
        : "Không tìm thấy văn bản nào cho “" + query + "”. Thử bỏ bớt từ, hoặc gõ không dấu.";
    } catch (err) {
      $("error-message").textContent = errorText(err);
      show("error", true);
    }
  }

  $("search-form").addEventListener("submit", (e) => {
    e.preventDefault();
    search($("search").value);
  });
  document.addEventListener("keydown", (e) => {
    const box = $("search");
    if ((e.key === "/" && document.activeElement !== box) || (e.ctrlKey && e.key === "f")) {
      e.preventDefault();
      box.focus();
      box.select();
    } else if (e.key === "Escape" && document.activeElement === box) {
      box.value = "";
      load();
    }
  });
  // The background exchange with the national axis and the clerk's notifications: polled
  // every few seconds; a new arrival reloads the register and shows a short toast.
  let lastUnread = -1;
  let toastTimer = null;
  function toast(text) {
    const t = $("toast");
    t.textContent = text;
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { t.hidden = true; }, 8000);
  }

  function when(rfc3339) {
    // 2026-12-04T16:28:53+07:00 → 16:28 04/12/2026
    const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(rfc3339 || "");
    return m ? m[4] + ":" + m[5] + " " + m[3] + "/" + m[2] + "/" + m[1] : (rfc3339 || "");
  }

  function renderNotices(st) {
    const list = $("notices-list");
    list.replaceChildren();
    for (const n of st.notifications) {
      const li = document.createElement("li");
      const time = document.createElement("span");
      time.className = "when";
      time.textContent = when(n.created_at);
      const title = document.createElement("strong");
      title.textContent = n.title;
      const body = document.createElement("div");
      body.className = "body";
      body.textContent = n.body;
      li.append(time, title, body);
      list.append(li);
    }
    $("notices-empty").hidden = st.notifications.length > 0;
    $("notices-read").disabled = st.notifications.length === 0;
    const count = $("bell-count");
    count.textContent = String(st.unread);
    count.hidden = st.unread === 0;
    $("bell").title = st.unread > 0 ? st.unread + " thông báo chưa xem (phím tắt: N)" : "Thông báo (phím tắt: N)";

    const line = $("exchange");
    line.classList.toggle("bad", !!st.last_error);
    if (!st.configured) {
      line.hidden = true;
    } else if (st.last_error) {
      line.textContent = "Liên thông: lỗi ở lần đồng bộ gần nhất, sẽ thử lại — " + st.last_error;
      line.hidden = false;
    } else if (st.warnings && st.warnings.length) {
      line.textContent = "Liên thông: " + st.warnings.join(" ");
      line.hidden = false;
    } else if (st.running) {
      line.textContent = "Liên thông: đang đồng bộ với trục…";
      line.hidden = false;
    } else if (st.last_sync_at) {
      line.textContent = "Liên thông: đồng bộ lần cuối lúc " + when(st.last_sync_at) + ".";
      line.hidden = false;
    }
  }

  async function pollExchange() {
    try {
      const st = await window.__TAURI__.core.invoke("exchange_status");
      renderNotices(st);
      if (lastUnread >= 0 && st.unread > lastUnread) {
        const newest = st.notifications[0];
        toast(newest ? newest.title + ": " + newest.body : st.unread + " thông báo mới");
        if (!$("search").value.trim()) load();
      }
      lastUnread = st.unread;
    } catch (err) {
      // the register's own error box already says why the store is unavailable
    }
    setTimeout(pollExchange, 5000);
  }

  function toggleNotices(open) {
    const panel = $("notices");
    panel.hidden = open === undefined ? !panel.hidden : !open;
    $("bell").setAttribute("aria-expanded", String(!panel.hidden));
  }
  $("bell").addEventListener("click", () => toggleNotices());
  $("notices-read").addEventListener("click", async () => {
    try {
      await window.__TAURI__.core.invoke("mark_notifications_read", { ids: null });
      const st = await window.__TAURI__.core.invoke("exchange_status");
      lastUnread = st.unread;
      renderNotices(st);
    } catch (err) {
      toast(errorText(err));
    }
  });
  document.addEventListener("keydown", (e) => {
    if (e.key.toLowerCase() === "n" && !e.ctrlKey && !e.altKey && document.activeElement !== $("search")) {
      e.preventDefault();
      toggleNotices();
    }
  });

  $("reload").addEventListener("click", () => { $("search").value = ""; load(); });
  load().then(() => { if (window.__TAURI__) pollExchange(); });
})();
