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
let studyVersion = null; // the version of the study this page shows (a stale save gets 409)
let unsaved = false;

function initProject() {
  const box = document.getElementById("upload");
  if (!box) return;
  const pid = box.dataset.project;
  study = JSON.parse(document.getElementById("study-data").textContent);
  files = JSON.parse(document.getElementById("files-data").textContent);
  studyVersion = Number(document.getElementById("builder").dataset.version);
  formats = JSON.parse(document.getElementById("formats-data").textContent);
  document.getElementById("add-input").addEventListener("click", () => {
    if (!files.length) return showError("study-error", "upload a file first");
    collectInputs();
    const file = files[0];
    const taken = new Set(study.inputs.map((i) => i.id));
    let n = study.inputs.length + 1;
    while (taken.has(`input_${n}`)) n += 1;
    study.inputs.push({ id: `input_${n}`, kind: KINDS().includes(file.kind) ? file.kind : KINDS()[0], file: file.id });
    unsaved = true;
    renderInputs();
  });
  document.getElementById("delete-project").addEventListener("click", async () => {
    if (!window.confirm("Delete this project, its files and its runs?")) return;
    const result = await api("DELETE", `/api/projects/${pid}`);
    if (!result.ok) return showError("delete-error", errorText(result));
    window.location.href = "/";
  });
  document.addEventListener("click", async (e) => {
    const fileButton = e.target.closest("button.delete-file");
    const runButton = e.target.closest("button.delete-run");
    if (!fileButton && !runButton) return;
    const url = fileButton ? `/api/projects/${pid}/files/${fileButton.dataset.file}`
      : `/api/runs/${runButton.dataset.run}`;
    const result = await api("DELETE", url);
    if (!result.ok) return showError("delete-error", errorText(result));
    (fileButton || runButton).closest("tr").remove();
    if (fileButton) await refreshProject(pid);
  });
  document.getElementById("inputs").addEventListener("change", () => { unsaved = true; });
  document.getElementById("options").addEventListener("input", () => { unsaved = true; });
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
  let ownChanges = 0; // study versions this page's uploads created
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
      if (kind === "study") unsaved = false; // an import replaces the study: reload it
      if (kind !== "attachment") ownChanges += 1;
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
  if (changed) await refreshProject(pid, ownChanges);
}

async function refreshProject(pid, ownChanges = 0) {
  const result = await api("GET", `/api/projects/${pid}`);
  if (!result.ok) return;
  files = result.data.files;
  const onlyOurs = result.data.study_version === studyVersion + ownChanges;
  if (unsaved) {
    // Keep the edits not saved yet; add the inputs the upload created.
    collectInputs();
    const known = new Set(study.inputs.map((i) => i.file));
    for (const item of result.data.study.inputs) if (!known.has(item.file)) study.inputs.push(item);
    showError("study-error", "You have unsaved changes to the study: save them.");
  } else {
    study = result.data.study;
    document.getElementById("options").value = JSON.stringify(study.options || {}, null, 2);
  }
  // With edits not saved yet, the page's version moves on only past this page's own
  // uploads: a change made elsewhere keeps it behind, so saving then gets 409, not a
  // silent overwrite of the other tab's work.
  if (!unsaved || onlyOurs) studyVersion = result.data.study_version;
  document.getElementById("project-title").textContent = result.data.name;
  const body = document.querySelector("#files tbody");
  body.replaceChildren(...files.map((f) => {
    const notes = (f.notes || []).join("; ");
    const summary = el("td", {}, f.summary || "");
    if (notes) summary.append(el("br"), el("span", { class: "hint", text: notes }));
    const del = el("button", { type: "button", class: "delete-file", "data-file": f.id, text: "delete" });
    return el("tr", { "data-file": f.id }, el("td", { text: f.name }), el("td", { text: f.kind }),
      el("td", { text: f.format || "" }), el("td", { text: f.rows === null ? "" : String(f.rows) }), summary,
      el("td", {}, del));
  }));
  renderInputs();
}

const FILE_FIELDS = ["layout", "loading_control", "rois", "control", "reference"];
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

let formats = {};

function formatSelect(kind, value) {
  const select = el("select", {});
  select.append(el("option", { value: "", text: "from the file name" }));
  for (const f of formats[kind] || []) {
    const option = el("option", { value: f, text: f });
    if (f === value) option.selected = true;
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
    kind.addEventListener("change", () => { collectInputs(); renderInputs(); unsaved = true; });
    const cells = [el("td", {}, id), el("td", {}, kind), el("td", {}, formatSelect(item.kind, item.format)),
      el("td", {}, fileSelect(item.file, false))];
    for (const field of FILE_FIELDS) cells.push(el("td", {}, fileSelect(item[field] || "", true)));
    const takesNote = ["western", "western_blot", "sanger"].includes(item.kind);
    const note = el("input", { value: item.target || item.expect || "", size: "12",
      placeholder: takesNote ? (item.kind === "sanger" ? "NTRK1 G595R" : "pERK") : "—" });
    if (!takesNote) note.disabled = true;
    cells.push(el("td", {}, note));
    const remove = el("button", { type: "button", text: "remove" });
    remove.addEventListener("click", () => { collectInputs(); study.inputs.splice(index, 1); renderInputs(); unsaved = true; });
    cells.push(el("td", {}, remove));
    body.append(el("tr", { "data-index": String(index) }, ...cells));
  });
}

function collectInputs() {
  const rows = document.querySelectorAll("#inputs tbody tr");
  study.inputs = Array.from(rows).map((row, index) => {
    const old = study.inputs[index] || {};
    const [idCell, kindCell, formatCell, fileCell, ...rest] = row.children;
    const item = { ...old, id: idCell.firstChild.value, kind: kindCell.firstChild.value,
      file: fileCell.firstChild.value, format: formatCell.firstChild.value || null };
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
  const result = await api("PUT", `/api/projects/${pid}/study`,
    { description: study.description || "", inputs: study.inputs, options, version: studyVersion });
  if (!result.ok) { showError("study-error", errorText(result)); return false; }
  studyVersion = result.data.version;
  delete result.data.version;
  study = result.data;
  unsaved = false;
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
      const result = await api("POST", `/api/projects/${area.dataset.project}/runs`, { options, from_run: rid });
      if (!result.ok) return showError("rerun-error", errorText(result));
      window.location.href = `/runs/${result.data.id}`;
    });
  }
  if (box.dataset.status === "queued" || box.dataset.status === "running") poll(rid);
}

async function poll(rid, failures = 0) {
  let result;
  try {
    result = await api("GET", `/api/runs/${rid}`);
  } catch (err) { // the server is restarting: say so, and keep asking (at most every 5 s)
    document.getElementById("label").textContent = "the server does not answer; retrying…";
    setTimeout(() => poll(rid, failures + 1), Math.min(5000, 250 * 2 ** failures));
    return;
  }
  if (!result.ok && result.status >= 400 && result.status < 500) { // deleted, or no access
    document.getElementById("label").textContent = errorText(result);
    return;
  }
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

// ---- plate layout editor ----------------------------------------------------------------
const ROW_NAMES = "ABCDEFGHIJKLMNOP";

function initPlateEditor() {
  const box = document.getElementById("plate-editor");
  if (!box) return;
  const pid = box.dataset.project;
  const start = JSON.parse(document.getElementById("map-data").textContent);
  const wells = new Map(); // well name -> record
  let size = 96;
  let selected = new Set();
  let anchor = null;
  let dragging = false;
  if (start) {
    size = start.plate_size;
    document.getElementById("plate-size").value = String(size);
    document.getElementById("unit").value = start.unit;
    for (const w of start.wells) wells.set(w.well, w);
  }
  const dims = () => (size === 384 ? [16, 24] : [8, 12]);
  const table = document.getElementById("plate");

  function label(w) {
    if (!w) return "";
    const dose = w.conc1 !== undefined && w.conc1 !== "" ? ` ${w.conc1}` : "";
    const role = w.role === "sample" ? "" : w.role.replace("_", " ");
    return [role, w.drug1 || ""].filter(Boolean).join(" ") + dose;
  }

  function build() {
    const [nr, nc] = dims();
    table.className = size === 384 ? "plate p384" : "plate";
    const head = el("tr", {}, el("th", {}));
    for (let c = 1; c <= nc; c++) head.append(el("th", { text: String(c) }));
    const rows = [head];
    for (let r = 0; r < nr; r++) {
      const tr = el("tr", {}, el("th", { text: ROW_NAMES[r] }));
      for (let c = 1; c <= nc; c++) {
        const name = `${ROW_NAMES[r]}${c}`;
        tr.append(el("td", { "data-well": name, title: name }));
      }
      rows.push(tr);
    }
    table.replaceChildren(...rows);
    paint();
  }

  function paint() { // cells are updated in place: a drag never replaces them
    for (const td of table.querySelectorAll("td[data-well]")) {
      const name = td.dataset.well;
      const w = wells.get(name);
      td.textContent = label(w);
      td.className = w ? `r-${w.role}` : "";
      if (selected.has(name)) td.classList.add("sel");
    }
    document.getElementById("selected-count").textContent = `${selected.size} well(s) selected, ${wells.size} filled`;
  }

  function block(a, b) {
    const [ra, ca] = [ROW_NAMES.indexOf(a[0]), Number(a.slice(1))];
    const [rb, cb] = [ROW_NAMES.indexOf(b[0]), Number(b.slice(1))];
    const out = [];
    for (let r = Math.min(ra, rb); r <= Math.max(ra, rb); r++)
      for (let c = Math.min(ca, cb); c <= Math.max(ca, cb); c++) out.push(`${ROW_NAMES[r]}${c}`);
    return out;
  }

  table.addEventListener("mousedown", (e) => {
    const td = e.target.closest("td[data-well]");
    if (!td) return;
    e.preventDefault();
    dragging = true;
    anchor = td.dataset.well;
    if (!e.shiftKey) selected = new Set();
    selected.add(anchor);
    paint();
  });
  table.addEventListener("mouseover", (e) => {
    const td = e.target.closest("td[data-well]");
    if (!dragging || !td) return;
    selected = new Set(block(anchor, td.dataset.well));
    paint();
  });
  document.addEventListener("mouseup", () => { dragging = false; });

  document.getElementById("plate-size").addEventListener("change", (e) => {
    size = Number(e.target.value);
    const [nr, nc] = dims();
    for (const name of Array.from(wells.keys())) {
      if (ROW_NAMES.indexOf(name[0]) >= nr || Number(name.slice(1)) > nc) wells.delete(name);
    }
    selected = new Set();
    build();
  });

  document.getElementById("apply").addEventListener("click", () => {
    showError("map-error", "");
    const values = {};
    for (const field of ["cell_line", "drug1", "conc1", "replicate"]) {
      const text = document.getElementById(field).value.trim();
      if (text === "") { values[field] = undefined; continue; } // an empty field clears it
      if (field === "conc1" || field === "replicate") {
        const number = Number(text.replace(",", "."));
        if (!Number.isFinite(number) || number < 0) {
          showError("map-error", `${field === "conc1" ? "dose" : "replicate"} must be a number ≥ 0 (found "${text}")`);
          return;
        }
        values[field] = number;
      } else values[field] = text;
    }
    const role = document.getElementById("role").value;
    for (const name of selected) {
      const well = { ...(wells.get(name) || {}), well: name, role };
      for (const [field, value] of Object.entries(values)) {
        if (value === undefined) delete well[field]; else well[field] = value;
      }
      wells.set(name, well);
    }
    paint();
  });
  document.getElementById("clear").addEventListener("click", () => {
    for (const name of selected) wells.delete(name);
    paint();
  });
  document.getElementById("dilute").addEventListener("click", () => {
    const top = Number(document.getElementById("top").value);
    const factor = Number(document.getElementById("factor").value);
    const byRow = document.getElementById("direction").value === "row";
    if (!(top > 0) || !(factor > 1)) {
      showError("map-error", "a dilution needs a top dose > 0 and a factor > 1");
      return;
    }
    showError("map-error", "");
    const names = Array.from(selected);
    const lines = new Map();
    for (const name of names) {
      const key = byRow ? name[0] : name.slice(1);
      if (!lines.has(key)) lines.set(key, []);
      lines.get(key).push(name);
    }
    for (const line of lines.values()) {
      line.sort((a, b) => (byRow ? Number(a.slice(1)) - Number(b.slice(1)) : ROW_NAMES.indexOf(a[0]) - ROW_NAMES.indexOf(b[0])));
      line.forEach((name, i) => {
        const dose = Number((top / factor ** i).toPrecision(4));
        const w = wells.get(name) || { well: name, role: "sample" };
        wells.set(name, { ...w, conc1: dose });
      });
    }
    paint();
  });
  document.getElementById("save-map").addEventListener("click", async () => {
    showError("map-error", "");
    const body = {
      name: document.getElementById("map-name").value,
      plate_size: size,
      unit: document.getElementById("unit").value,
      wells: Array.from(wells.values()),
    };
    const result = await api("POST", `/api/projects/${pid}/platemaps`, body);
    if (!result.ok) return showError("map-error", errorText(result));
    document.getElementById("map-status").textContent = `saved as ${result.data.name}: ${result.data.summary}`;
  });
  build();
}

// ---- western ROI editor -------------------------------------------------------------------
function initRoiEditor() {
  const box = document.getElementById("roi-editor");
  if (!box) return;
  const rid = box.dataset.run;
  const name = box.dataset.input;
  const view = JSON.parse(document.getElementById("roi-data").textContent);
  const original = view.bands.map((b) => ({ ...b }));
  let bands = view.bands.map((b) => ({ ...b }));
  let selected = null;
  const img = document.getElementById("blot");
  const stage = document.getElementById("roi-stage");
  const scale = () => (img.naturalWidth ? img.clientWidth / img.naturalWidth : 1);
  const key = (b) => `${b.lane}-${b.band}`;

  function fmt(v) {
    if (v === null || v === undefined) return "—";
    return typeof v === "number" ? (Math.abs(v) >= 1000 ? v.toExponential(3) : String(Number(v.toPrecision(4)))) : String(v);
  }

  function draw() {
    const k = scale();
    stage.querySelectorAll(".roi").forEach((n) => n.remove());
    for (const b of bands) {
      const div = el("div", { class: "roi", "data-roi": key(b), tabindex: "0" },
        el("span", { class: "roi-label", text: `${b.lane}/${b.band}: ${fmt(b.volume)}` }),
        el("span", { class: "handle" }));
      if (b.saturated) div.classList.add("saturated");
      if (selected === key(b)) div.classList.add("selected");
      Object.assign(div.style, { left: `${b.x0 * k}px`, top: `${b.y0 * k}px`,
        width: `${(b.x1 - b.x0) * k}px`, height: `${(b.y1 - b.y0) * k}px` });
      stage.append(div);
    }
    document.querySelector("#boxes tbody").replaceChildren(...bands.map((b) => el("tr", { "data-roi": key(b) },
      ...["lane", "band", "x0", "x1", "y0", "y1"].map((c) => el("td", { text: String(b[c]) })),
      el("td", { class: "volume", text: fmt(b.volume) }), el("td", { text: b.saturated ? "yes" : "" }))));
  }

  function quantified(rows) {
    if (!rows || !rows.length) return;
    const cols = Object.keys(rows[0]);
    document.querySelector("#quantified thead").replaceChildren(el("tr", {}, ...cols.map((c) => el("th", { text: c }))));
    document.querySelector("#quantified tbody").replaceChildren(...rows.map((r) =>
      el("tr", {}, ...cols.map((c) => el("td", { text: fmt(r[c]) })))));
  }

  let drag = null;
  stage.addEventListener("pointerdown", (e) => {
    const div = e.target.closest(".roi");
    if (!div) return;
    e.preventDefault();
    selected = div.dataset.roi;
    const b = bands.find((x) => key(x) === selected);
    drag = { b, resize: e.target.classList.contains("handle"), x: e.clientX, y: e.clientY, start: { ...b } };
    stage.setPointerCapture(e.pointerId);
    draw();
  });
  stage.addEventListener("pointermove", (e) => {
    if (!drag) return;
    const k = scale();
    const dx = Math.round((e.clientX - drag.x) / k);
    const dy = Math.round((e.clientY - drag.y) / k);
    const s = drag.start;
    const W = img.naturalWidth, H = img.naturalHeight;
    if (drag.resize) {
      drag.b.x1 = Math.min(W, Math.max(s.x0 + 1, s.x1 + dx));
      drag.b.y1 = Math.min(H, Math.max(s.y0 + 1, s.y1 + dy));
    } else {
      const w = s.x1 - s.x0, h = s.y1 - s.y0;
      drag.b.x0 = Math.min(W - w, Math.max(0, s.x0 + dx)); drag.b.x1 = drag.b.x0 + w;
      drag.b.y0 = Math.min(H - h, Math.max(0, s.y0 + dy)); drag.b.y1 = drag.b.y0 + h;
    }
    drag.b.volume = null;
    draw();
  });
  stage.addEventListener("pointerup", () => { drag = null; });
  document.addEventListener("keydown", (e) => {
    if (!selected || !e.key.startsWith("Arrow") || e.target.tagName === "INPUT") return;
    const b = bands.find((x) => key(x) === selected);
    const d = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] }[e.key];
    e.preventDefault();
    const W = img.naturalWidth, H = img.naturalHeight;
    if (e.shiftKey) {
      b.x1 = Math.min(W, Math.max(b.x0 + 1, b.x1 + d[0]));
      b.y1 = Math.min(H, Math.max(b.y0 + 1, b.y1 + d[1]));
    } else if (b.x0 + d[0] >= 0 && b.x1 + d[0] <= W && b.y0 + d[1] >= 0 && b.y1 + d[1] <= H) {
      b.x0 += d[0]; b.x1 += d[0]; b.y0 += d[1]; b.y1 += d[1];
    }
    b.volume = null;
    draw();
  });

  const boxes = () => bands.map((b) => ({ lane: b.lane, band: b.band, x0: b.x0, x1: b.x1, y0: b.y0, y1: b.y1 }));
  document.getElementById("requantify").addEventListener("click", async () => {
    showError("roi-error", "");
    document.getElementById("roi-status").textContent = "measuring…";
    const result = await api("POST", `/api/runs/${rid}/western/${name}/quantify`, { rois: boxes() });
    document.getElementById("roi-status").textContent = "";
    if (!result.ok) return showError("roi-error", errorText(result));
    const byKey = new Map(result.data.bands.map((b) => [key(b), b]));
    bands = bands.map((b) => ({ ...b, ...(byKey.get(key(b)) || {}) }));
    quantified(result.data.quantified);
    const negative = result.data.bands.filter((b) => b.volume !== null && b.volume < 0).length;
    const missing = (result.data.quantified || []).filter((q) => q.fold_change === null).length;
    const warn = [];
    if (negative) warn.push(`${negative} box(es) read below their background (negative volume): a box off its band?`);
    if (missing) warn.push(`${missing} lane(s) have no fold change (see the table)`);
    showError("roi-error", warn.join("\n"));
    document.getElementById("roi-status").textContent = "measured with these boxes";
    draw();
  });
  document.getElementById("save-rois").addEventListener("click", async () => {
    showError("roi-error", "");
    const result = await api("POST", `/api/runs/${rid}/western/${name}/rois`, { rois: boxes() });
    if (!result.ok) return showError("roi-error", errorText(result));
    document.getElementById("roi-status").textContent = result.data.linked
      ? `saved as ${result.data.name} and linked to input ${name}: run the project again to use them`
      : `saved as ${result.data.name} (no input '${name}' in the project's study to link it to)`;
  });
  document.getElementById("reset-rois").addEventListener("click", () => {
    bands = original.map((b) => ({ ...b }));
    quantified(view.quantified);
    draw();
  });
  quantified(view.quantified);
  if (img.complete) draw(); else img.addEventListener("load", draw);
  window.addEventListener("resize", draw);
}

document.addEventListener("DOMContentLoaded", () => {
  initProjects();
  initProject();
  initRun();
  initTable();
  initPlateEditor();
  initRoiEditor();
});
