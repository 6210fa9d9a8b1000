// trkres web app: one small script for every page (no build step, no framework).
// Every request goes through api(), which sends the CSRF token the server set as a cookie.
"use strict";

function csrf() {
  const m = document.cookie.match(/(?:^|;\s*)trkres_csrf=([^;]+)/);
  return m ? decodeURIComponent(m[1]) : "";
}

async function api(method, url, body) {
  const init = { method, headers: { "X-CSRF-Token": csrf() }, credentials: "same-origin" };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  const response = await fetch(url, init);
  let data = null;
  const type = response.headers.get("content-type") || "";
  if (type.includes("json")) data = await response.json();
  return { ok: response.ok, status: response.status, data };
}

function errorText(result) {
  const d = result.data;
  if (d && d.error && d.error.text) return d.error.text;
  if (d && d.detail) {
    if (Array.isArray(d.detail)) return d.detail.map((x) => `${(x.loc || []).join(".")}: ${x.msg}`).join("\n");
    return String(d.detail);
  }
  return `HTTP ${result.status}`;
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

function showError(id, text) {
  const box = document.getElementById(id);
  if (!box) return;
  box.textContent = text || "";
  box.hidden = !text;
}

// ---- projects page -------------------------------------------------------------------
function initProjects() {
  const form = document.getElementById("new-project");
  if (!form) return;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = document.getElementById("project-name").value;
    const result = await api("POST", "/api/projects", { name });
    if (!result.ok) return showError("project-error", errorText(result));
    window.location.href = `/projects/${result.data.id}`;
  });
}

// ---- project page: uploads, study builder, run ----------------------------------------
const GUESS = [
  [/\.zip$/i, "study"],
  [/\.(maf|vcf|bcf)(\.b?gz)?$/i, "mutations"],
  [/\.(ab1|abi|scf)$/i, "sanger"],
  [/\.(tif|tiff|png|jpe?g)$/i, "western"],
  [/_amplitude\.csv$/i, "droplet_amplitudes"],
];

function guessKind(name) {
  for (const [pattern, kind] of GUESS) if (pattern.test(name)) return kind;
  return "";
}

let study = null;
let files = [];

function initProject() {
  const box = document.getElementById("upload");
  if (!box) return;
  const pid = box.dataset.project;
  study = JSON.parse(document.getElementById("study-data").textContent);
  files = JSON.parse(document.getElementById("files-data").textContent);
  renderInputs();
  const drop = document.getElementById("drop");
  const input = document.getElementById("file-input");
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    uploadAll(pid, e.dataTransfer.files);
  });
  input.addEventListener("change", () => uploadAll(pid, input.files));
  document.getElementById("save-study").addEventListener("click", () => saveStudy(pid));
  document.getElementById("run").addEventListener("click", () => startRun(pid));
}

async function uploadAll(pid, list) {
  const chosen = document.getElementById("kind").value;
  const results = document.getElementById("upload-results");
  let changed = false;
  for (const file of Array.from(list)) {
    const kind = chosen || guessKind(file.name);
    const item = el("li", { class: "pending", "data-name": file.name }, el("strong", { text: file.name }), " ");
    const message = el("pre", { class: "message", text: "reading…" });
    item.append(message);
    results.prepend(item);
    if (!kind) {
      item.className = "failed";
      message.textContent = "choose the kind of this file above (it cannot be told from its name)";
      continue;
    }
    const form = new FormData();
    form.append("file", file, file.name);
    let result;
    if (kind === "study") result = await api("POST", `/api/projects/${pid}/study`, form);
    else {
      form.append("kind", kind);
      result = await api("POST", `/api/projects/${pid}/files`, form);
    }
    if (result.ok) {
      item.className = "ok";
      message.textContent = kind === "study"
        ? `study imported: ${result.data.inputs} inputs, ${result.data.files} files`
        : `${kind}: ${result.data.summary || "ok"}`;
      changed = true;
    } else {
      item.className = "failed";
      message.textContent = errorText(result);
    }
  }
  if (changed) await refreshProject(pid);
}

async function refreshProject(pid) {
  const result = await api("GET", `/api/projects/${pid}`);
  if (!result.ok) return;
  study = result.data.study;
  files = result.data.files;
  document.getElementById("project-title").textContent = result.data.name;
  document.getElementById("options").value = JSON.stringify(study.options || {}, null, 2);
  const body = document.querySelector("#files tbody");
  body.replaceChildren(...files.map((f) => {
    const notes = (f.notes || []).join("; ");
    const summary = el("td", {}, f.summary || "");
    if (notes) summary.append(el("br"), el("span", { class: "hint", text: notes }));
    return el("tr", { "data-file": f.id }, el("td", { text: f.name }), el("td", { text: f.kind }),
      el("td", { text: f.format || "" }), el("td", { text: f.rows === null ? "" : String(f.rows) }), summary);
  }));
  renderInputs();
}

const FILE_FIELDS = ["layout", "loading_control", "control", "reference"];
const KINDS = () => Array.from(document.querySelectorAll("#kind option")).map((o) => o.value)
  .filter((v) => v && v !== "attachment");

function fileSelect(value, optional) {
  const select = el("select", {});
  if (optional) select.append(el("option", { value: "", text: "—" }));
  for (const f of files) {
    const option = el("option", { value: f.id, text: f.name });
    if (f.id === value) option.selected = true;
    select.append(option);
  }
  return select;
}

function renderInputs() {
  const body = document.querySelector("#inputs tbody");
  body.replaceChildren();
  study.inputs.forEach((item, index) => {
    const id = el("input", { value: item.id || "", size: "14" });
    const kind = el("select", {});
    for (const k of KINDS()) {
      const option = el("option", { value: k, text: k });
      if (k === item.kind) option.selected = true;
      kind.append(option);
    }
    const cells = [el("td", {}, id), el("td", {}, kind), el("td", {}, fileSelect(item.file, false))];
    for (const field of FILE_FIELDS) cells.push(el("td", {}, fileSelect(item[field] || "", true)));
    const note = el("input", { value: item.target || item.expect || "", size: "12",
      placeholder: "pERK / NTRK1 G595R" });
    cells.push(el("td", {}, note));
    const remove = el("button", { type: "button", text: "remove" });
    remove.addEventListener("click", () => { collectInputs(); study.inputs.splice(index, 1); renderInputs(); });
    cells.push(el("td", {}, remove));
    body.append(el("tr", { "data-index": String(index) }, ...cells));
  });
}

function collectInputs() {
  const rows = document.querySelectorAll("#inputs tbody tr");
  study.inputs = Array.from(rows).map((row, index) => {
    const old = study.inputs[index] || {};
    const [idCell, kindCell, fileCell, ...rest] = row.children;
    const item = { ...old, id: idCell.firstChild.value, kind: kindCell.firstChild.value, file: fileCell.firstChild.value };
    FILE_FIELDS.forEach((field, i) => { item[field] = rest[i].firstChild.value || null; });
    const note = rest[FILE_FIELDS.length].firstChild.value || null;
    delete item.target; delete item.expect;
    if (note && (item.kind === "western" || item.kind === "western_blot")) item.target = note;
    else if (note && item.kind === "sanger") item.expect = note;
    return item;
  });
}

async function saveStudy(pid) {
  showError("study-error", "");
  collectInputs();
  let options;
  try {
    options = JSON.parse(document.getElementById("options").value || "{}");
  } catch (err) {
    showError("study-error", `options are not valid JSON: ${err.message}`);
    return false;
  }
  const result = await api("PUT", `/api/projects/${pid}/study`, { description: study.description || "", inputs: study.inputs, options });
  if (!result.ok) { showError("study-error", errorText(result)); return false; }
  study = result.data;
  document.getElementById("study-status").textContent = "saved";
  return true;
}

async function startRun(pid) {
  showError("run-error", "");
  if (!(await saveStudy(pid))) return;
  const figures = document.getElementById("figures").checked;
  const result = await api("POST", `/api/projects/${pid}/runs`, { figures });
  if (!result.ok) return showError("run-error", errorText(result));
  window.location.href = `/runs/${result.data.id}`;
}

// ---- run page: live progress, cancel, run again ---------------------------------------
function initRun() {
  const box = document.getElementById("run-status");
  if (!box) return;
  const rid = box.dataset.run;
  document.getElementById("cancel").addEventListener("click", async () => {
    const result = await api("POST", `/api/runs/${rid}/cancel`);
    document.getElementById("label").textContent = result.ok ? result.data.result : errorText(result);
  });
  const rerun = document.getElementById("rerun");
  if (rerun) {
    rerun.addEventListener("click", async () => {
      const area = document.getElementById("rerun-options");
      let options;
      try { options = JSON.parse(area.value || "{}"); } catch (err) {
        return showError("rerun-error", `options are not valid JSON: ${err.message}`);
      }
      const result = await api("POST", `/api/projects/${area.dataset.project}/runs`, { options });
      if (!result.ok) return showError("rerun-error", errorText(result));
      window.location.href = `/runs/${result.data.id}`;
    });
  }
  if (box.dataset.status === "queued" || box.dataset.status === "running") poll(rid);
}

async function poll(rid) {
  const result = await api("GET", `/api/runs/${rid}`);
  if (result.ok) {
    const run = result.data;
    document.getElementById("status").textContent = run.status;
    document.getElementById("label").textContent = run.label || "";
    document.getElementById("progress").value = run.progress;
    if (run.status === "done" || run.status === "failed") { window.location.reload(); return; }
  }
  setTimeout(() => poll(rid), 250);
}

// ---- table page: sort, filter, pages ---------------------------------------------------
function initTable() {
  const view = document.getElementById("table-view");
  if (!view) return;
  const state = { sort: null, desc: false, q: "", offset: 0, limit: 100, total: 0 };
  const load = async () => {
    const params = new URLSearchParams({ format: "json", offset: state.offset, limit: state.limit, q: state.q });
    if (state.sort) { params.set("sort", state.sort); params.set("desc", state.desc); }
    const result = await api("GET", `/api/runs/${view.dataset.run}/tables/${view.dataset.table}?${params}`);
    if (!result.ok) { document.getElementById("count").textContent = errorText(result); return; }
    const data = result.data;
    state.total = data.total;
    const head = el("tr", {});
    for (const column of data.columns) {
      const mark = state.sort === column ? (state.desc ? " ▼" : " ▲") : "";
      const th = el("th", { class: "sortable", text: column + mark, "data-column": column });
      th.addEventListener("click", () => {
        state.desc = state.sort === column ? !state.desc : false;
        state.sort = column; state.offset = 0; load();
      });
      head.append(th);
    }
    document.querySelector("#result thead").replaceChildren(head);
    document.querySelector("#result tbody").replaceChildren(...data.rows.map((row) =>
      el("tr", {}, ...row.map((v) => el("td", { text: v === null ? "" : String(v) })))));
    const last = Math.min(state.offset + data.rows.length, data.total);
    document.getElementById("count").textContent = data.total
      ? `rows ${state.offset + 1}–${last} of ${data.total}` : "no matching rows";
  };
  let timer = null;
  document.getElementById("filter").addEventListener("input", (e) => {
    clearTimeout(timer);
    timer = setTimeout(() => { state.q = e.target.value; state.offset = 0; load(); }, 200);
  });
  document.getElementById("prev").addEventListener("click", () => {
    state.offset = Math.max(0, state.offset - state.limit); load();
  });
  document.getElementById("next").addEventListener("click", () => {
    if (state.offset + state.limit < state.total) { state.offset += state.limit; load(); }
  });
  load();
}

document.addEventListener("DOMContentLoaded", () => {
  initProjects();
  initProject();
  initRun();
  initTable();
});
