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
    } catch (err) {
      show("register", false);
      show("empty", false);
      $("status").textContent = "";
      $("error-message").textContent = errorText(err);
      show("error", true);
    }
  }

  $("reload").addEventListener("click", load);
  load();
})();
